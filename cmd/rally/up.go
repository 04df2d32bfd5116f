package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"rally/control"
	"rally/inventory"
)

// upCmd is `rally up`: validate the inventory, then form the cluster
// (wired in coordinator, through runUp).
type upCmd struct {
	Inventory         string        `short:"i" required:"" placeholder:"FILE" help:"The inventory: hosts, roles and SSH settings (see examples/hosts.yaml)."`
	Check             bool          `help:"Only validate the inventory and exit: no connection is made."`
	JSON              bool          `name:"json" help:"With --check: print the result as JSON on stdout."`
	Detach            bool          `help:"Run the coordinator in the background and return once every host joined or failed."`
	AcceptNewHostKeys bool          `help:"Trust and record host keys not yet in known_hosts (a changed key is always an error)."`
	MinHosts          int           `placeholder:"N" help:"Carry on when at least N hosts joined (default: all of them must)."`
	NoTUI             bool          `name:"no-tui" help:"Print progress lines instead of the terminal UI."`
	Parallel          int           `default:"64" placeholder:"N" help:"Bring up at most N hosts at once (default: ${default})."`
	ConnectTimeout    time.Duration `placeholder:"DURATION" help:"SSH connect timeout for hosts whose inventory entry sets no ssh.connect_timeout, e.g. 5s (default: 10s)."`
	RaceDefaults      `embed:""`
	distFlags
	telemetryFlags
	// ServeDetached marks the background coordinator that --detach starts.
	ServeDetached bool `hidden:"" name:"serve-detached" help:"Internal: this process is the detached coordinator."`
}

// Help is the detailed description shown by `rally up --help`.
func (upCmd) Help() string {
	return `Reads the inventory, dials every host over SSH (keys from ssh-agent or the inventory, known_hosts checked), pushes the static worker build each host needs, opens a loopback-only tunnel to the coordinator and starts a worker there. In the foreground it runs until Ctrl-C or "rally down"; with --detach it returns once the cluster is up.

Examples:

    rally up --check -i examples/hosts.yaml
    rally up -i hosts.yaml --detach --accept-new-host-keys
    rally up -i hosts.yaml --min-hosts 2 --connect-timeout 5s

With a distribution (--distribution-path, --distribution-url or --distribution-version with --engine), the provisioner hosts of the inventory form one Elasticsearch or OpenSearch cluster once they joined: the archive is pushed to each (content-addressed, as the worker), each node is configured from the car (--car, --car-params, a team of cars from --team-path or --team-repository) and started as the host's run_as user (an unprivileged user: the engines refuse root), and up returns when the cluster is at --cluster-health with every node. rally race then targets those nodes without --target-hosts; rally down stops them, fetches their logs and removes their files.

    rally up -i hosts.yaml --detach --distribution-path opensearch-2.19.1.tar.gz --car defaults,1gheap`
}

// Validate checks flag values kong cannot.
func (c *upCmd) Validate() error {
	switch {
	case c.MinHosts < 0:
		return fmt.Errorf("--min-hosts %d: want 0 (all) or more", c.MinHosts)
	case c.Parallel < 1:
		return fmt.Errorf("--parallel %d: want 1 or more", c.Parallel)
	case c.ConnectTimeout < 0:
		return fmt.Errorf("--connect-timeout %s: want a positive duration", c.ConnectTimeout)
	case c.JSON && !c.Check:
		return errors.New("--json: only with --check")
	}
	return nil
}

// Run validates the inventory (--check) or brings the cluster up.
func (c *upCmd) Run(ctx context.Context, e *env) error {
	if c.Check {
		return c.check(e)
	}
	var race control.RaceRequest
	tuiMode := !c.Detach && !c.NoTUI && !c.ServeDetached && isTerminal(e.Stdout)
	if tuiMode {
		var err error
		if race, err = c.RaceDefaults.request(); err != nil {
			return err
		}
	}
	prov, err := c.distFlags.provision(ctx)
	if err != nil {
		return err
	}
	tele, err := c.telemetryFlags.parse()
	if err != nil {
		return err
	}
	if r := tele.Race(); len(r) > 0 {
		return usageErrorf("--telemetry %s: runs during a race: give it to rally race", strings.Join(r, ","))
	}
	if len(tele.Devices) > 0 {
		if prov == nil {
			return usageErrorf("--telemetry %s: changes how nodes start, and rally up starts none without a distribution (--distribution-path)", strings.Join(tele.Devices, ","))
		}
		prov.Telemetry = java(tele)
	}
	return runUp(ctx, upOptions{
		Provision:         prov,
		provisionArgs:     append(c.distFlags.args(), c.telemetryFlags.args()...),
		TUI:               tuiMode,
		Race:              race,
		Inventory:         c.Inventory,
		Detach:            c.Detach,
		AcceptNewHostKeys: c.AcceptNewHostKeys,
		MinHosts:          c.MinHosts,
		Parallel:          c.Parallel,
		ConnectTimeout:    c.ConnectTimeout,
		serve:             c.ServeDetached,
	}, e)
}

// checkResult is the stable JSON of `rally up --check --json`.
type checkResult struct {
	File     string            `json:"file"`
	OK       bool              `json:"ok"`
	Cluster  string            `json:"cluster,omitempty"`
	Hosts    int               `json:"hosts"`
	Roles    map[string]int    `json:"roles,omitempty"`
	Problems []checkProblemRow `json:"problems,omitempty"`
}

type checkProblemRow struct {
	File  string `json:"file"`
	Line  int    `json:"line,omitempty"`
	Col   int    `json:"col,omitempty"`
	Field string `json:"field,omitempty"`
	Msg   string `json:"msg"`
}

// check loads the inventory and says whether it is valid, without
// connecting anywhere.
func (c *upCmd) check(e *env) error {
	inv, err := inventory.Load(c.Inventory)
	if !c.JSON {
		if err != nil {
			return err
		}
		fmt.Fprintf(e.Stdout, "%s: ok: %s\n", c.Inventory, inv.Summary())
		return nil
	}
	res := checkResult{File: c.Inventory, OK: err == nil}
	var problems inventory.Problems
	switch {
	case err == nil:
		res.Cluster, res.Hosts, res.Roles = inv.Cluster, len(inv.Hosts), map[string]int{}
		for _, r := range inventory.Roles {
			res.Roles[string(r)] = len(inv.WithRole(r))
		}
	case errors.As(err, &problems):
		for _, p := range problems {
			res.Problems = append(res.Problems, checkProblemRow{File: p.File, Line: p.Line, Col: p.Col, Field: p.Field, Msg: p.Msg})
		}
	default:
		return err
	}
	enc := json.NewEncoder(e.Stdout)
	enc.SetIndent("", "  ")
	if werr := enc.Encode(res); werr != nil {
		return werr
	}
	if err != nil {
		return &shownError{err: err}
	}
	return nil
}
