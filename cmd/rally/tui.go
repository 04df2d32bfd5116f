package main

import "context"

// tuiCmd is `rally tui`: a terminal UI on a running cluster's event stream
// (wired in tui).
type tuiCmd struct {
	Cluster string `placeholder:"NAME" help:"The cluster to watch (default: the only one that is up)."`
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
	return notImplemented()
}
