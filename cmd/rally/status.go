package main

import "context"

// statusCmd is `rally status`: the running coordinator's view of its
// cluster (wired in control, through runStatus).
type statusCmd struct {
	Cluster string `placeholder:"NAME" help:"The cluster to show (default: the only one that is up)."`
	JSON    bool   `name:"json" help:"Print the status as JSON on stdout, for scripts."`
}

// Help is the detailed description shown by `rally status --help`.
func (statusCmd) Help() string {
	return `Asks the cluster's coordinator over its control socket (~/.rally/run/<cluster>.sock) for every host's phase, its worker and tunnel, and the actor system's status: members with their last heartbeat, round-trip time and clock offset, messages by type, dead letters.

Examples:

    rally status
    rally status --cluster demo --json`
}

// Run prints the status.
func (c *statusCmd) Run(ctx context.Context, e *env) error {
	return runStatus(ctx, c.Cluster, c.JSON, e.Stdout)
}
