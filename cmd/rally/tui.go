package main

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/charmbracelet/x/term"

	"rally/control"
	"rally/home"
	"rally/track"
	"rally/tui"
)

// tuiCmd is `rally tui`: a terminal UI on a running cluster's event stream
// (wired in tui).
type tuiCmd struct {
	Cluster      string `placeholder:"NAME" help:"The cluster to watch (default: the only one that is up)."`
	RaceDefaults `embed:""`
}

// RaceDefaults are the race the TUI's r key starts.
type RaceDefaults struct {
	TrackPath     string `placeholder:"DIR" help:"The track the TUI's r key races (a directory holding track.json)."`
	Challenge     string `placeholder:"NAME" help:"Its challenge (default: the track's default)."`
	TrackParams   string `placeholder:"PARAMS" help:"Its track parameters, as key:value pairs or a JSON/YAML file."`
	TargetHosts   string `placeholder:"HOSTS" help:"The Elasticsearch endpoints the TUI's race targets, e.g. 10.0.0.21:9200."`
	ClientOptions string `placeholder:"OPTIONS" help:"HTTP client options of that race."`
}

func (d RaceDefaults) request() (control.RaceRequest, error) {
	req := control.RaceRequest{Challenge: d.Challenge, TargetHosts: d.TargetHosts, ClientOptions: d.ClientOptions}
	if d.TrackPath != "" {
		abs, err := filepath.Abs(d.TrackPath)
		if err != nil {
			return req, err
		}
		req.TrackPath = abs
	}
	params, err := track.ParseParams(d.TrackParams)
	if err != nil {
		return req, usageErrorf("--track-params: %v", err)
	}
	if len(params) > 0 {
		req.TrackParams = params
	}
	return req, nil
}

// runTUI runs the terminal UI on a coordinator's control socket. With a
// track, its challenges are offered for the UI's r key.
func runTUI(ctx context.Context, cluster string, client *control.Client, race control.RaceRequest, e *env) error {
	opts := tui.Options{Cluster: cluster, Race: race, NoColor: os.Getenv("NO_COLOR") != ""}
	if race.TrackPath != "" {
		t, err := track.Load(track.LoadOptions{Path: race.TrackPath, Params: race.TrackParams})
		if err != nil {
			return &usageError{err: err}
		}
		for _, c := range t.Challenges {
			tasks := 0
			for _, st := range c.Schedule {
				tasks += len(st.Tasks)
			}
			opts.Challenges = append(opts.Challenges, tui.ChallengeChoice{Name: c.Name, Description: c.Description, Default: c.Default, Tasks: tasks})
		}
	}
	return tui.Run(ctx, client, opts, e.Stdin, e.Stdout)
}

// isTerminal tells whether w is a terminal (then people read it).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// Help is the detailed description shown by `rally tui --help`.
func (tuiCmd) Help() string {
	return `Attaches to a running coordinator and shows its cluster live: hosts and their phases, the actor system (heartbeats, round trips, clock offsets, mailboxes), the race in progress and the logs. Quitting the UI leaves the cluster running.

Examples:

    rally tui
    rally tui --cluster demo`
}

// Run shows the UI until the user quits.
func (c *tuiCmd) Run(ctx context.Context, e *env) error {
	dir, err := home.Default()
	if err != nil {
		return err
	}
	race, err := c.RaceDefaults.request()
	if err != nil {
		return err
	}
	found, err := runningCluster(ctx, dir, c.Cluster)
	if err != nil {
		return err
	}
	return runTUI(ctx, found.Name, found.Client, race, e)
}
