package main

import "context"

// downCmd is `rally down`: tear a cluster down through its coordinator, or
// from its state file when the coordinator is gone (wired in coordinator,
// through runDown).
type downCmd struct {
	Inventory         string `short:"i" placeholder:"FILE" help:"The inventory the cluster was started with; needed only when its coordinator is gone."`
	Cluster           string `placeholder:"NAME" help:"The cluster to tear down (default: the inventory's, else the only one that is up)."`
	KeepFiles         bool   `help:"Leave rally's files (worker binary, logs) on the hosts."`
	AcceptNewHostKeys bool   `help:"Trust and record host keys not yet in known_hosts when cleaning up without a coordinator."`
	JSON              bool   `name:"json" help:"Print what was done on each host as JSON on stdout."`
}

// Help is the detailed description shown by `rally down --help`.
func (downCmd) Help() string {
	return `Stops the workers and any Elasticsearch nodes on every host, fetches their logs to ~/.rally/logs/<cluster>/<host>/, removes rally's files from the hosts (unless --keep-files) and stops the coordinator. When the coordinator is gone, it cleans up from the state file it left, connecting to the hosts itself.

Examples:

    rally down
    rally down --cluster demo --keep-files
    rally down -i hosts.yaml`
}

// Run tears the cluster down.
func (c *downCmd) Run(ctx context.Context, e *env) error {
	return runDown(ctx, c.Inventory, c.Cluster, c.KeepFiles, c.AcceptNewHostKeys, c.JSON, e.Stdout)
}
