package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"rally/provision"
	"rally/race"
	"rally/track"
)

// telemetryFlags are esrally's --telemetry and --telemetry-params.
type telemetryFlags struct {
	Telemetry       string `placeholder:"DEVICES" help:"Telemetry devices, separated by commas: node-stats, segment-stats (during a race), gc, jfr (set when the nodes start: with rally up, or a race that starts its nodes); rally list telemetry describes them."`
	TelemetryParams string `placeholder:"PARAMS" help:"Parameters of the telemetry devices as key:value pairs or a JSON file, e.g. node-stats-sample-interval:5."`
}

// parse checks the devices and their parameters.
func (f telemetryFlags) parse() (race.Telemetry, error) {
	params, err := track.ParseParams(f.TelemetryParams)
	if err != nil {
		return race.Telemetry{}, usageErrorf("--telemetry-params: %v", err)
	}
	t, err := race.ParseTelemetry(f.Telemetry, params)
	if err != nil {
		return t, usageErrorf("--telemetry: %v", err)
	}
	return t, nil
}

// java is the part of t that changes how nodes start.
func java(t race.Telemetry) provision.JavaTelemetry {
	return provision.JavaTelemetry{Devices: t.NodeStart(), Params: t.Params}
}

// args are the flags again, for the detached coordinator's command line.
func (f telemetryFlags) args() []string {
	var args []string
	if f.Telemetry != "" {
		args = append(args, "--telemetry="+f.Telemetry)
	}
	if f.TelemetryParams != "" {
		args = append(args, "--telemetry-params="+f.TelemetryParams)
	}
	return args
}

// listTelemetryCmd is `rally list telemetry`.
type listTelemetryCmd struct {
	JSON bool `name:"json" help:"Print the devices as JSON on stdout."`
}

// Run lists the devices.
func (c *listTelemetryCmd) Run(ctx context.Context, e *env) error {
	if c.JSON {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(race.Devices)
	}
	tw := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tWHEN\tPARAMETERS\tDESCRIPTION")
	for _, d := range race.Devices {
		when := "during a race"
		if d.NodeStart {
			when = "node start"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Name, when, dash(strings.Join(d.Params, ",")), d.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(e.Stdout, "\nAlways collected for nodes rally started: each node's GC, CPU, disk and heap over the race (node stats), and each node host's CPU, memory, disk and network with the nodes' processes (/proc).")
	return err
}
