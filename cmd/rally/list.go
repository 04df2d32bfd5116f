package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"rally/home"
	"rally/report"
)

// listCmd is `rally list`: a group of subcommands, one per kind of thing.
type listCmd struct {
	Races     listRacesCmd     `cmd:"" help:"List saved races, newest first."`
	Cars      listCarsCmd      `cmd:"" help:"List the cars and mixins of a team."`
	Telemetry listTelemetryCmd `cmd:"" help:"List the telemetry devices (--telemetry) and their parameters."`
}

// Help is the detailed description shown by `rally list --help`.
func (listCmd) Help() string {
	return `Lists what rally keeps under ~/.rally.

Examples:

    rally list races
    rally list cars
    rally list telemetry`
}

// listRacesCmd is `rally list races` (wired in report).
type listRacesCmd struct {
	Limit int  `default:"10" placeholder:"N" help:"Show at most N races (default: ${default})."`
	JSON  bool `name:"json" help:"Print the races as JSON on stdout."`
}

// Help is the detailed description shown by `rally list races --help`.
func (listRacesCmd) Help() string {
	return `Lists the races saved under ~/.rally/races/: id, date, track, challenge, cluster and user tags. Use an id with "rally compare".

Examples:

    rally list races
    rally list races --limit 50 --json`
}

// Validate checks flag values kong cannot.
func (c *listRacesCmd) Validate() error {
	if c.Limit < 1 {
		return fmt.Errorf("--limit %d: want 1 or more", c.Limit)
	}
	return nil
}

// Run lists the races.
func (c *listRacesCmd) Run(ctx context.Context, e *env) error {
	dir, err := home.Default()
	if err != nil {
		return err
	}
	races, listErr := report.Store{Dir: dir.Races()}.List()
	if len(races) > c.Limit {
		races = races[:c.Limit]
	}
	f := report.Text
	if c.JSON {
		f = report.JSON
	}
	if err := report.WriteList(e.Stdout, races, f); err != nil {
		return err
	}
	// Broken races are reported after the readable ones, not instead.
	return listErr
}

// listCarsCmd is `rally list cars` (wired in provision).
type listCarsCmd struct {
	teamFlags

	JSON bool `name:"json" help:"Print the cars as JSON on stdout: a list of {name, type, description}."`
}

// Help is the detailed description shown by `rally list cars --help`.
func (listCarsCmd) Help() string {
	return `Lists the cars and mixins of a team, cars first: name, type and description. Combine one car with mixins in --car, e.g. "defaults,4gheap,g1gc".

Examples:

    rally list cars
    rally list cars --team-path ~/rally-teams --json
    rally list cars --team-repository https://example.org/teams.git --team-revision v2`
}

// Run lists the cars.
func (c *listCarsCmd) Run(ctx context.Context, e *env) error {
	team, err := c.load(ctx)
	if err != nil {
		return err
	}
	cars := team.Cars()
	if c.JSON {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(cars)
	}
	tw := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tDESCRIPTION")
	for _, car := range cars {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", car.Name, car.Type, car.Description)
	}
	return tw.Flush()
}
