package main

import (
	"context"
	"log/slog"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"rally/actor"
	"rally/race"
	"rally/worker"
)

// workerCmd is the hidden `rally worker`: what the coordinator starts on
// every host over SSH. The join token arrives on stdin,
// never on the command line.
type workerCmd struct {
	Name    string        `required:"" placeholder:"HOST" help:"This host's name in the inventory."`
	Tunnel  string        `default:"127.0.0.1:1900" placeholder:"ADDR" help:"The loopback end of the tunnel to the coordinator (default: ${default})."`
	Workdir string        `required:"" placeholder:"DIR" help:"Rally's directory on this host, an absolute path (logs, pid file, nodes)."`
	Grace   time.Duration `default:"30s" placeholder:"DURATION" help:"How long to keep running without the coordinator before stopping (default: ${default})."`
	Build   string        `placeholder:"SHA" help:"The checksum of this binary as the coordinator computed it, echoed back when joining."`
}

// Help is the detailed description shown by `rally worker --help`.
func (workerCmd) Help() string {
	return `Not for people: the coordinator starts this over SSH. It reads a one-time token from stdin, dials the tunnel, joins the coordinator's actor system, runs the tasks it is sent, and exits when told to stop, when stdin closes, or when the link has been gone longer than --grace.

Example (as the coordinator runs it):

    ~/.rally/bin/rally-3f2a9c1e0b7d4a55 worker --name driver-1 --tunnel 127.0.0.1:1900 --workdir ~/.rally --build 3f2a9c1e... --grace 30s`
}

// Run works until stopped.
func (c *workerCmd) Run(ctx context.Context, e *env) error {
	// Writing to a closed SSH session must be an error the worker handles
	// (it cleans up), not a signal that kills it.
	signal.Ignore(syscall.SIGPIPE)
	return worker.Run(ctx, worker.Config{
		Name:       c.Name,
		TunnelAddr: c.Tunnel,
		Workdir:    c.Workdir,
		Grace:      c.Grace,
		Build:      c.Build,
		Version:    versionString(),
		Stdin:      e.Stdin,
		Stdout:     e.Stdout,
		LogCopy:    e.Stderr,
		Setup: func(ctx context.Context, m *actor.Member, log *slog.Logger) {
			race.Serve(m, race.MemberConfig{Context: ctx, DataDir: filepath.Join(c.Workdir, "benchmarks", "data"), Logger: log})
		},
	})
}
