package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"rally/actor"
	"rally/control"
	"rally/coordinator"
	"rally/home"
	"rally/inventory"
)

// upOptions are the flags of `rally up` that the coordinator needs.
type upOptions struct {
	Inventory         string
	Detach            bool
	AcceptNewHostKeys bool
	MinHosts          int
	Parallel          int
	ConnectTimeout    time.Duration
	// serve is set in the detached child: progress goes to fd 3.
	serve bool
	// TUI attaches the terminal UI while the cluster forms (a terminal,
	// no --detach, no --no-tui); Race is what its `r` key starts.
	TUI  bool
	Race control.RaceRequest
	// Provision forms an engine cluster on the provisioner hosts;
	// provisionArgs are its flags, for a detached coordinator.
	Provision     *coordinator.Provision
	provisionArgs []string
}

// runUp forms the cluster of an inventory, in the foreground (until
// `rally down` or Ctrl-C, which tears down) or detached (a background
// coordinator; this command returns once every host joined or failed).
func runUp(ctx context.Context, o upOptions, e *env) error {
	stdout := e.Stdout
	inv, err := inventory.Load(o.Inventory)
	if err != nil {
		return err
	}
	dir, err := home.Default()
	if err != nil {
		return err
	}
	if found, err := control.Resolve(ctx, dir, inv.Cluster); err == nil {
		fmt.Fprintf(stdout, "cluster %s is already up (coordinator pid %d, %d hosts); nothing changed\n",
			inv.Cluster, found.Status.Coordinator.PID, len(found.Status.Hosts))
		return nil
	}
	if o.TUI && !o.serve {
		return upWithTUI(ctx, o, inv, dir, o.Race, e)
	}
	if o.Detach && !o.serve {
		return detach(ctx, o, inv, dir, stdout)
	}

	// A detached coordinator's stderr is its coordinator.log, and its
	// progress goes to the process that started it.
	var progress io.Writer = stdout
	var served *coordinator.DetachedProgress
	if o.serve {
		served = coordinator.ServeDetached()
		progress = served
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	co, err := coordinator.Start(ctx, coordinator.Config{
		Inventory:         inv,
		Home:              dir,
		Version:           versionString(),
		Self:              self,
		AcceptNewHostKeys: o.AcceptNewHostKeys,
		MinHosts:          o.MinHosts,
		Parallel:          o.Parallel,
		ConnectTimeout:    o.ConnectTimeout,
		Provision:         o.Provision,
		Logger:            slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel})),
	})
	if err != nil {
		if served != nil {
			_ = served.Fail(err)
		}
		return err
	}
	events, stopEvents := co.Subscribe()
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		for ev := range events {
			if line := progressLine(ev); line != "" {
				fmt.Fprintln(progress, line)
			}
		}
	}()
	upErr := co.Up(ctx)
	if upErr != nil {
		co.Down(context.Background(), false)
		stopEvents()
		<-printed
		co.Close()
		if served != nil {
			_ = served.Fail(upErr)
		}
		return upErr
	}
	st := co.Status()
	fmt.Fprintf(progress, "cluster %s is up: %d of %d hosts joined; control socket %s\n",
		inv.Cluster, countPhase(st, control.PhaseJoined), len(st.Hosts), st.Coordinator.Socket)
	if served != nil {
		stopEvents()
		<-printed
		_ = served.Ready()
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case <-co.Done():
	case s := <-sig:
		fmt.Fprintf(stdout, "%s: tearing cluster %s down\n", s, inv.Cluster)
		co.Down(context.Background(), false)
		co.Close()
	}
	if !o.serve {
		stopEvents()
		<-printed
	}
	return nil
}

// serveArgs is the command line of the detached coordinator that
// `rally up --detach` starts: this command again, with the same flags.
func serveArgs(o upOptions) []string {
	abs, _ := filepath.Abs(o.Inventory)
	args := []string{"up", "-i", abs, "--detach", "--serve-detached",
		fmt.Sprintf("--parallel=%d", o.Parallel), fmt.Sprintf("--min-hosts=%d", o.MinHosts),
		"--log-level=" + logLevel.Level().String()}
	if o.ConnectTimeout > 0 {
		args = append(args, "--connect-timeout="+o.ConnectTimeout.String())
	}
	if o.AcceptNewHostKeys {
		args = append(args, "--accept-new-host-keys")
	}
	if o.Provision != nil {
		args = append(args, o.provisionArgs...)
	}
	return args
}

// detach starts a background coordinator and relays its progress until it
// is ready or fails.
func detach(ctx context.Context, o upOptions, inv *inventory.Inventory, dir home.Dir, stdout io.Writer) error {
	d, err := coordinator.StartDetached(coordinator.DetachOptions{
		Home: dir, Cluster: inv.Cluster, Args: serveArgs(o), Progress: stdout,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "coordinator pid %d, log %s\n", d.PID, d.LogPath)
	err = d.Wait(ctx)
	if err != nil && ctx.Err() != nil {
		fmt.Fprintf(stdout, "stopped waiting; the coordinator (pid %d) goes on: rally status to follow it, rally down to stop it\n", d.PID)
	}
	return err
}

// upWithTUI starts a background coordinator and attaches the terminal UI
// to it while the cluster forms. Quitting the UI leaves the cluster up.
func upWithTUI(ctx context.Context, o upOptions, inv *inventory.Inventory, dir home.Dir, race control.RaceRequest, e *env) error {
	d, err := coordinator.StartDetached(coordinator.DetachOptions{Home: dir, Cluster: inv.Cluster, Args: serveArgs(o)})
	if err != nil {
		return err
	}
	// Closing leaves a coordinator still forming the cluster on its own.
	defer d.Close()
	client, err := d.WaitAnswering(ctx, 15*time.Second)
	if err != nil {
		return err
	}
	if err := runTUI(ctx, inv.Cluster, client, race, e); err != nil {
		return err
	}
	if _, err := client.Status(context.Background()); err == nil {
		fmt.Fprintf(e.Stdout, "cluster %s keeps running: \"rally tui\" to watch it, \"rally down\" to tear it down\n", inv.Cluster)
	}
	return nil
}

// progressLine is how `rally up` prints an event, or "" for events it
// does not print.
func progressLine(ev control.Event) string {
	switch ev.Kind {
	case control.EventProvision:
		if ev.Host == "" {
			return "nodes: " + ev.Text
		}
		return fmt.Sprintf("%s: %s", ev.Host, ev.Text)
	case control.EventHost:
		switch ev.Phase {
		case control.PhaseFailed, control.PhaseLost:
			return fmt.Sprintf("%s: %s: %s", ev.Host, ev.Phase, ev.Text)
		case control.PhaseJoined:
			if h := ev.HostStatus; h != nil {
				up := "upload skipped, build present"
				if h.Uploaded {
					up = fmt.Sprintf("uploaded %s", humanBytes(h.UploadTotal))
				}
				return fmt.Sprintf("%s: joined (%s, worker pid %d, tunnel 127.0.0.1:%d, %s)",
					ev.Host, h.Platform, h.WorkerPID, h.TunnelPort, up)
			}
		case control.PhaseTornDown:
			if ev.Text != "" {
				return fmt.Sprintf("%s: torn down with errors: %s", ev.Host, ev.Text)
			}
			return fmt.Sprintf("%s: torn down", ev.Host)
		}
		return fmt.Sprintf("%s: %s", ev.Host, ev.Phase)
	case control.EventActor:
		if ev.Phase == actor.EventRejected {
			return fmt.Sprintf("%s: rejected a connection: %s", ev.Host, ev.Text)
		}
	}
	return ""
}

func countPhase(st control.Status, phase string) int {
	n := 0
	for _, h := range st.Hosts {
		if h.Phase == phase {
			n++
		}
	}
	return n
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// runningCluster is control.Resolve, with an ambiguous choice made the
// user's to fix (exit 2).
func runningCluster(ctx context.Context, dir home.Dir, name string) (control.Found, error) {
	found, err := control.Resolve(ctx, dir, name)
	return found, ambiguityAsUsage(err)
}

// ambiguityAsUsage marks "several clusters, name one" as bad usage.
func ambiguityAsUsage(err error) error {
	var amb *control.AmbiguousError
	if errors.As(err, &amb) {
		return &usageError{err: err}
	}
	return err
}

// runStatus prints the coordinator's status, for people or as JSON.
func runStatus(ctx context.Context, cluster string, asJSON bool, w io.Writer) error {
	dir, err := home.Default()
	if err != nil {
		return err
	}
	found, err := runningCluster(ctx, dir, cluster)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(found.Status)
	}
	return writeStatus(w, found.Status, time.Now())
}

// runDown tears a cluster down through its coordinator, or from the state
// file and the inventory when no coordinator answers.
func runDown(ctx context.Context, inventoryPath, cluster string, keepFiles, acceptNew, asJSON bool, w io.Writer) error {
	dir, err := home.Default()
	if err != nil {
		return err
	}
	var inv *inventory.Inventory
	if inventoryPath != "" {
		if inv, err = inventory.Load(inventoryPath); err != nil {
			return err
		}
		if cluster == "" {
			cluster = inv.Cluster
		}
	}
	found, err := control.ResolveKnown(ctx, dir, cluster)
	if errors.Is(err, control.ErrNoneUp) {
		fmt.Fprintln(w, "nothing to tear down: no cluster is up")
		return nil
	}
	if err != nil {
		return ambiguityAsUsage(err)
	}
	name := found.Name
	var rep control.DownReport
	if found.Client != nil {
		rep, err = found.Client.Down(ctx, control.DownRequest{KeepFiles: keepFiles})
		if err != nil {
			return fmt.Errorf("cluster %s: %w", name, err)
		}
		coordinator.WaitGone(ctx, found.Status.Coordinator.PID, 10*time.Second)
	} else {
		state, serr := coordinator.ReadState(dir.StateFile(name))
		if serr != nil {
			return serr
		}
		if inv == nil && state != nil && state.Inventory != "" {
			if inv, err = inventory.Load(state.Inventory); err != nil {
				return fmt.Errorf("cluster %s: its coordinator is gone and its inventory does not load: %w", name, err)
			}
		}
		if inv == nil {
			if state == nil {
				fmt.Fprintf(w, "nothing to tear down: cluster %s is not up and left no state\n", name)
				return nil
			}
			return usageErrorf("cluster %s: its coordinator is gone; give the inventory with -i hosts.yaml to clean its hosts", name)
		}
		fmt.Fprintf(w, "cluster %s: no coordinator answers; cleaning up from %s\n", name, dir.StateFile(name))
		rep, err = coordinator.Cleanup(ctx, coordinator.CleanupConfig{Inventory: inv, Home: dir, KeepFiles: keepFiles, AcceptNewHostKeys: acceptNew})
		if err != nil {
			writeDownReport(w, rep, asJSON)
			return err
		}
	}
	return writeDownReport(w, rep, asJSON)
}

func writeDownReport(w io.Writer, rep control.DownReport, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	}
	for _, h := range rep.Hosts {
		if asJSON {
			break
		}
		status := "clean"
		if h.Error != "" {
			status = "error: " + h.Error
		}
		nodes := ""
		if h.NodesStopped > 0 {
			nodes = fmt.Sprintf(" and %d node(s)", h.NodesStopped)
		}
		fmt.Fprintf(w, "%s: stopped %d worker(s)%s, removed %d file(s), fetched %d log(s): %s\n",
			h.Name, h.WorkersStopped, nodes, h.FilesRemoved, len(h.LogsFetched), status)
	}
	var failed []string
	for _, h := range rep.Hosts {
		if h.Error != "" {
			failed = append(failed, h.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("cluster %s: teardown incomplete on %s; run rally down -i hosts.yaml again once they are reachable",
			rep.Cluster, strings.Join(failed, ", "))
	}
	if !asJSON {
		fmt.Fprintf(w, "cluster %s is down\n", rep.Cluster)
	}
	return nil
}
