package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

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
	client := control.NewClient(dir.Socket(inv.Cluster))
	if st, err := client.Status(ctx); err == nil {
		fmt.Fprintf(stdout, "cluster %s is already up (coordinator pid %d, %d hosts); nothing changed\n",
			inv.Cluster, st.Coordinator.PID, len(st.Hosts))
		return nil
	}
	if o.TUI && !o.serve {
		return upWithTUI(ctx, o, inv, dir, o.Race, e)
	}
	if o.Detach && !o.serve {
		return detach(ctx, o, inv, dir, stdout)
	}

	var progress io.Writer = stdout
	logOut := io.Writer(os.Stderr)
	if o.serve {
		progress = os.NewFile(3, "progress")
		logOut = os.Stderr // the parent pointed it at coordinator.log
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
		Logger:            slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: logLevel})),
	})
	if err != nil {
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
		if o.serve {
			fmt.Fprintf(progress, "error: %v\n", upErr)
		}
		return upErr
	}
	st := co.Status()
	fmt.Fprintf(progress, "cluster %s is up: %d of %d hosts joined; control socket %s\n",
		inv.Cluster, countPhase(st, control.PhaseJoined), len(st.Hosts), st.Coordinator.Socket)
	if o.serve {
		stopEvents()
		<-printed
		fmt.Fprintln(progress, "ready")
		progress.(*os.File).Close()
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

// startDetached starts this executable as a background coordinator (own
// session, output to the cluster's coordinator.log). Its progress lines
// arrive on the returned pipe, which ends with "ready" or "error: ...".
func startDetached(o upOptions, inv *inventory.Inventory, dir home.Dir) (*exec.Cmd, *os.File, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, "", err
	}
	logPath := dir.CoordinatorLog(inv.Cluster)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		return nil, nil, "", err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, "", err
	}
	defer logFile.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, "", err
	}
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
	cmd := exec.Command(self, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{pw}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		pw.Close()
		pr.Close()
		return nil, nil, "", fmt.Errorf("start coordinator: %w", err)
	}
	pw.Close()
	return cmd, pr, logPath, nil
}

// detach starts a background coordinator and relays its progress until it
// is ready or fails.
func detach(ctx context.Context, o upOptions, inv *inventory.Inventory, dir home.Dir, stdout io.Writer) error {
	cmd, pr, logPath, err := startDetached(o, inv, dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "coordinator pid %d, log %s\n", cmd.Process.Pid, logPath)
	type relayed struct {
		ready   bool
		lastErr string
	}
	out := make(chan relayed, 1)
	go func() {
		ready, lastErr := relayProgress(pr, stdout)
		out <- relayed{ready, lastErr}
	}()
	var res relayed
	select {
	case res = <-out:
	case <-ctx.Done():
		// The coordinator is on its own: leave it forming the cluster.
		_ = cmd.Process.Release()
		fmt.Fprintf(stdout, "stopped waiting; the coordinator (pid %d) goes on: rally status to follow it, rally down to stop it\n", cmd.Process.Pid)
		return ctx.Err()
	}
	ready, lastErr := res.ready, res.lastErr
	if ready {
		_ = cmd.Process.Release()
		return nil
	}
	_ = cmd.Wait()
	if lastErr == "" {
		lastErr = "coordinator exited before the cluster was up; see " + logPath
	}
	return errors.New(lastErr)
}

// relayProgress copies a detached coordinator's progress lines until the
// pipe ends, telling whether it said ready and its last error.
func relayProgress(pr *os.File, w io.Writer) (ready bool, lastErr string) {
	defer pr.Close()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "ready":
			ready = true
		case strings.HasPrefix(line, "error: "):
			lastErr = strings.TrimPrefix(line, "error: ")
		default:
			fmt.Fprintln(w, line)
		}
	}
	return ready, lastErr
}

// upWithTUI starts a background coordinator and attaches the terminal UI
// to it while the cluster forms. Quitting the UI leaves the cluster up.
func upWithTUI(ctx context.Context, o upOptions, inv *inventory.Inventory, dir home.Dir, race control.RaceRequest, e *env) error {
	cmd, pr, logPath, err := startDetached(o, inv, dir)
	if err != nil {
		return err
	}
	exited := make(chan string, 1)
	go func() {
		ready, lastErr := relayProgress(pr, io.Discard)
		if !ready {
			_ = cmd.Wait()
			exited <- lastErr
			return
		}
		_ = cmd.Process.Release()
	}()
	client := control.NewClient(dir.Socket(inv.Cluster))
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := client.Status(ctx); err == nil {
			break
		}
		select {
		case msg := <-exited:
			if msg == "" {
				msg = "coordinator exited before its control socket answered; see " + logPath
			}
			return errors.New(msg)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("coordinator's control socket did not answer within 15s; see %s", logPath)
		}
	}
	if err := runTUI(ctx, inv.Cluster, client, race, e); err != nil {
		return err
	}
	if _, err := client.Status(context.Background()); err == nil {
		fmt.Fprintf(e.Stdout, "cluster %s keeps running: \"rally tui\" to watch it, \"rally down\" to tear it down\n", inv.Cluster)
	}
	return nil
}

func progressLine(ev control.Event) string {
	switch ev.Kind {
	case "host":
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
	case "actor":
		if ev.Phase == "rejected" {
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

// resolveCluster picks the cluster a command is about: the flag, else the
// inventory's, else the only one with a running coordinator or a state file.
func resolveCluster(dir home.Dir, flag, inventoryPath string) (string, *inventory.Inventory, error) {
	var inv *inventory.Inventory
	if inventoryPath != "" {
		var err error
		if inv, err = inventory.Load(inventoryPath); err != nil {
			return "", nil, err
		}
		if flag == "" {
			flag = inv.Cluster
		}
	}
	if flag != "" {
		return flag, inv, home.CheckCluster(flag)
	}
	names := map[string]bool{}
	socks, _ := filepath.Glob(filepath.Join(dir.RunDir(), "*.sock"))
	for _, s := range socks {
		names[strings.TrimSuffix(filepath.Base(s), ".sock")] = true
	}
	states, _ := filepath.Glob(filepath.Join(string(dir), "clusters", "*", "state.json"))
	for _, s := range states {
		names[filepath.Base(filepath.Dir(s))] = true
	}
	var list []string
	for n := range names {
		list = append(list, n)
	}
	sort.Strings(list)
	switch len(list) {
	case 0:
		return "", nil, fmt.Errorf("%w: no cluster is up (start one with: rally up -i hosts.yaml)", control.ErrNotRunning)
	case 1:
		return list[0], nil, nil
	}
	return "", nil, usageErrorf("several clusters are known (%s): name one with --cluster", strings.Join(list, ", "))
}

// runStatus prints the coordinator's status, for people or as JSON.
func runStatus(ctx context.Context, cluster string, asJSON bool, w io.Writer) error {
	dir, err := home.Default()
	if err != nil {
		return err
	}
	name, _, err := resolveCluster(dir, cluster, "")
	if err != nil {
		return err
	}
	st, err := control.NewClient(dir.Socket(name)).Status(ctx)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	return writeStatus(w, st, time.Now())
}

// runDown tears a cluster down through its coordinator, or from the state
// file and the inventory when no coordinator answers.
func runDown(ctx context.Context, inventoryPath, cluster string, keepFiles, acceptNew, asJSON bool, w io.Writer) error {
	dir, err := home.Default()
	if err != nil {
		return err
	}
	name, inv, err := resolveCluster(dir, cluster, inventoryPath)
	if err != nil {
		if errors.Is(err, control.ErrNotRunning) {
			fmt.Fprintln(w, "nothing to tear down: no cluster is up")
			return nil
		}
		return err
	}
	client := control.NewClient(dir.Socket(name))
	var rep control.DownReport
	st, err := client.Status(ctx)
	if err == nil {
		rep, err = client.Down(ctx, control.DownRequest{KeepFiles: keepFiles})
		if err != nil {
			return fmt.Errorf("cluster %s: %w", name, err)
		}
		waitGone(st.Coordinator.PID, 10*time.Second)
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
		fmt.Fprintf(w, "%s: stopped %d worker(s), removed %d file(s), fetched %d log(s): %s\n",
			h.Name, h.WorkersStopped, h.FilesRemoved, len(h.LogsFetched), status)
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

// waitGone waits for a local process to exit. A zombie counts as gone:
// the detached coordinator's parent is init, which may reap it late.
func waitGone(pid int, max time.Duration) {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); err != nil || zombie(pid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// zombie tells whether pid has exited but not been reaped yet.
func zombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}
