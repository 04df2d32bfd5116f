package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"rally/control"
	"rally/home"
	"rally/inventory"
	"rally/remote"
)

// createdMarker marks a workdir that rally created, so that teardown removes
// it whole even when an earlier `down --keep-files` left it behind.
const createdMarker = ".rally-created"

// Down tears the cluster down: stops every worker (through the actor
// system, then by signal if it lingers), fetches worker logs, removes the
// files rally put on the hosts unless keepFiles, closes tunnels and SSH
// connections, removes the state file and the control socket. It runs once;
// later calls return the first report.
func (c *Coordinator) Down(ctx context.Context, keepFiles bool) control.DownReport {
	c.downOnce.Do(func() {
		c.setPhase(control.ClusterDown)
		c.stopRace()
		rep := control.DownReport{Cluster: c.cfg.Inventory.Cluster, Hosts: make([]control.HostReport, len(c.hosts))}
		var wg sync.WaitGroup
		for i, h := range c.hosts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rep.Hosts[i] = c.downHost(ctx, h, keepFiles)
			}()
		}
		wg.Wait()
		c.sys.Close()
		c.state.remove()
		c.downRep = rep
		c.log.Info("cluster torn down", "cluster", rep.Cluster)
	})
	return c.downRep
}

// Close ends the coordinator after Down: the control socket stops, every
// goroutine it owns returns.
func (c *Coordinator) Close() {
	c.closeOnce.Do(c.close)
}

func (c *Coordinator) close() {
	c.cancel()
	// Closing the broadcaster first ends the event streams, which would
	// otherwise keep Shutdown waiting for their handlers.
	c.events.close()
	shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_ = c.srv.Shutdown(shut)
	os.Remove(c.socket)
	c.log.Debug("control socket closed", "took", time.Since(start))
	c.wg.Wait()
	c.log.Debug("coordinator closed", "took", time.Since(start))
	close(c.done)
}

func (c *Coordinator) downHost(ctx context.Context, h *hostRun, keepFiles bool) control.HostReport {
	name := string(h.inv.Name)
	rep := control.HostReport{Name: name}
	// Wait for a bring-up, reform or worker restart of the host under way,
	// after telling it to give up; none starts once it sees teardown.
	h.beginTeardown()
	h.reform.Lock()
	defer h.reform.Unlock()
	h.mu.Lock()
	client, proc, l, workdir, binary := h.client, h.proc, h.listener, h.workdir, h.status.Binary
	h.mu.Unlock()
	if proc != nil {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := c.sys.StopMember(sctx, name, "rally down"); err == nil {
			rep.WorkersStopped++
		}
		cancel()
		proc.Stdin.Close()
		waited := make(chan struct{})
		go func() { _ = proc.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
		}
	}
	if l != nil {
		l.Close()
	}
	if client != nil && workdir != "" && linkDown(client) {
		// The SSH link died (a cut network, a rebooted router): dial
		// again, since the worker and its files may well still be there.
		client.Close()
		client = nil
		if fresh, err := remote.Dial(ctx, c.remoteTarget(h.inv)); err == nil {
			client = fresh
		} else {
			rep.Error = "reconnect for teardown: " + err.Error()
		}
	}
	if client != nil && workdir != "" {
		rec := HostRecord{Name: name, Workdir: workdir, Binary: binary}
		c.state.mu.Lock()
		for _, r := range c.state.st.Hosts {
			if r.Name == name && r.Nodes != nil {
				n := *r.Nodes
				rec.Nodes = &n
			}
		}
		c.state.mu.Unlock()
		r := cleanHost(ctx, client, rec, c.cfg.Home.WorkerLogs(c.cfg.Inventory.Cluster), keepFiles)
		r.WorkersStopped += rep.WorkersStopped
		rep = r
	}
	if client != nil {
		client.Close()
	}
	c.setHostPhase(name, control.PhaseTornDown, rep.Error)
	return rep
}

// linkDown tells whether a client's SSH connection has ended.
func linkDown(c *remote.Client) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

// cleanHost stops any worker process still running from the workdir's
// binaries, fetches the worker logs into logsDir/<host>/, and removes what
// rally put in the workdir unless keepFiles.
func cleanHost(ctx context.Context, client *remote.Client, rec HostRecord, logsDir string, keepFiles bool) control.HostReport {
	rep := control.HostReport{Name: rec.Name}
	var errs []string
	wd := rec.Workdir
	if !safeWorkdir(wd) {
		rep.Error = fmt.Sprintf("refusing to clean workdir %q: not an absolute path below a directory", wd)
		return rep
	}
	// Every process whose executable is one of our binaries in this
	// workdir is ours: TERM, then KILL what is left after 5 s.
	script := fmt.Sprintf(`wd=%s; n=0
ours() { for p in /proc/[0-9]*; do e=$(readlink "$p/exe" 2>/dev/null) || continue; case "$e" in "$wd"/bin/rally-*) echo "${p#/proc/}";; esac; done; }
for p in $(ours); do kill -TERM "$p" 2>/dev/null && n=$((n+1)); done
i=0; while [ -n "$(ours)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
for p in $(ours); do kill -KILL "$p" 2>/dev/null; done
echo "$n"`, remote.ShellQuote(wd))
	res, err := client.Run(ctx, script, nil)
	if err != nil {
		errs = append(errs, "stop workers: "+err.Error())
	} else if n, err := strconv.Atoi(strings.TrimSpace(string(res.Stdout))); err == nil {
		rep.WorkersStopped = n
	}
	// Nodes next, with the binary still there; their logs are fetched
	// whether they stopped or not.
	nodesOK := true
	if rec.Nodes != nil && rec.Nodes.Dir != "" {
		n, err := stopNodes(ctx, client, rec)
		rep.NodesStopped = n
		if err != nil {
			nodesOK = false
			errs = append(errs, "stop nodes: "+err.Error())
		}
		fetched, err := fetchNodeLogs(client, rec.Nodes.Dir, filepath.Join(logsDir, rec.Name, "nodes"))
		rep.LogsFetched = append(rep.LogsFetched, fetched...)
		if err != nil {
			errs = append(errs, "fetch node logs: "+err.Error())
		}
	}

	fetched, err := fetchLogs(client, path.Join(wd, "logs"), filepath.Join(logsDir, rec.Name))
	rep.LogsFetched = append(rep.LogsFetched, fetched...)
	if err != nil {
		errs = append(errs, "fetch logs: "+err.Error())
	}

	if !keepFiles {
		n, err := removeFiles(ctx, client, rec, nodesOK)
		rep.FilesRemoved = n
		if err != nil {
			errs = append(errs, "remove files: "+err.Error())
		}
	}
	rep.Error = strings.Join(errs, "; ")
	return rep
}

// safeWorkdir guards rm -rf: an absolute path at least two levels deep.
func safeWorkdir(wd string) bool {
	if !path.IsAbs(wd) || path.Clean(wd) != wd {
		return false
	}
	return strings.Count(wd, "/") >= 2
}

// readRemoteDir lists a directory of the host; one that does not exist
// is empty.
func readRemoteDir(client *remote.Client, dir string) ([]os.FileInfo, error) {
	fs, err := client.SFTP()
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return entries, err
}

func fetchLogs(client *remote.Client, remoteDir, localDir string) ([]string, error) {
	entries, err := readRemoteDir(client, remoteDir)
	if err != nil {
		return nil, err
	}
	fs, err := client.SFTP()
	if err != nil {
		return nil, err
	}
	var fetched []string
	for _, e := range entries {
		// Names come from the host: only plain file names are fetched, so
		// a hostile host cannot write outside localDir.
		if !e.Mode().IsRegular() || !safeName(e.Name()) {
			continue
		}
		if err := os.MkdirAll(localDir, 0o700); err != nil {
			return fetched, err
		}
		src, err := fs.Open(path.Join(remoteDir, e.Name()))
		if err != nil {
			return fetched, err
		}
		dst := filepath.Join(localDir, e.Name())
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err == nil {
			_, err = io.Copy(out, src)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		src.Close()
		if err != nil {
			return fetched, err
		}
		fetched = append(fetched, dst)
	}
	return fetched, nil
}

// removeFiles removes the workdir whole when rally created it, else only
// the binary, logs, run files, pushed tracks, teams, distributions and
// corpus pieces (with their manifests) rally put there, leaving corpora
// the worker downloaded; and a provisioner host's nodes directory, unless the
// nodes are to be preserved or did not stop (their files are then left
// for the next teardown, which stops them first).
func removeFiles(ctx context.Context, client *remote.Client, rec HostRecord, nodesStopped bool) (int, error) {
	wd := rec.Workdir
	nodes, keepWorkdir := "", ""
	if n := rec.Nodes; n != nil && n.Dir != "" {
		if !safeWorkdir(n.Dir) {
			return 0, fmt.Errorf("refusing to remove nodes directory %q: not an absolute path below a directory", n.Dir)
		}
		if n.Preserve || !nodesStopped {
			if strings.HasPrefix(n.Dir, wd+"/") {
				keepWorkdir = "1"
			}
		} else {
			nodes = n.Dir
		}
	}
	script := fmt.Sprintf(`wd=%s; nodes=%s; keep=%s; n=0
if [ -n "$nodes" ] && [ -d "$nodes" ]; then n=$(find "$nodes" | wc -l); rm -rf -- "$nodes"; rmdir -- "$(dirname -- "$nodes")" 2>/dev/null; fi
if [ ! -d "$wd" ]; then echo "$n"; exit 0; fi
if [ -e "$wd/%s" ] && [ -z "$keep" ]; then n=$((n + $(find "$wd" | wc -l))); rm -rf -- "$wd"; echo "$n"; exit; fi
pushed() { find "$wd/benchmarks/data" -mindepth 2 -maxdepth 2 \( -name '*.pieces' -o -name '*.pieces.json' -o -name '.*.pieces.json.*.part' \) "$@"; }
n=$((n + $( { find "$wd/bin" -maxdepth 1 -name 'rally-*'; find "$wd/logs" "$wd/run" "$wd/tracks" "$wd/teams" "$wd/distributions" "$wd/plugins"; pushed -exec find {} \; ; } 2>/dev/null | wc -l)))
rm -f -- "$wd"/bin/rally-*; rm -rf -- "$wd/logs" "$wd/run" "$wd/tracks" "$wd/teams" "$wd/distributions" "$wd/plugins"; rmdir "$wd/bin" "$wd/nodes" 2>/dev/null
pushed -exec rm -rf -- {} + 2>/dev/null; rmdir "$wd"/benchmarks/data/* "$wd/benchmarks/data" "$wd/benchmarks" 2>/dev/null
echo "$n"`, remote.ShellQuote(wd), remote.ShellQuote(nodes), remote.ShellQuote(keepWorkdir), createdMarker)
	res, err := client.Run(ctx, script, nil)
	if err != nil {
		return 0, err
	}
	if res.ExitStatus != 0 {
		return 0, fmt.Errorf("exit %d: %s", res.ExitStatus, strings.TrimSpace(string(res.Stderr)))
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(res.Stdout)))
	return n, nil
}

// stopNodes stops a provisioner host's nodes with the rally binary there
// ("rally provisioner stop": SIGTERM, then SIGKILL after a grace) and
// says how many it stopped.
func stopNodes(ctx context.Context, client *remote.Client, rec HostRecord) (int, error) {
	if rec.Binary == "" {
		return 0, errors.New("no rally binary recorded on the host to stop the nodes with")
	}
	cmd := fmt.Sprintf("%s provisioner stop --dir %s --grace 30s", remote.ShellQuote(rec.Binary), remote.ShellQuote(rec.Nodes.Dir))
	res, err := client.Run(ctx, cmd, nil)
	if err != nil {
		return 0, err
	}
	if res.ExitStatus != 0 {
		return 0, fmt.Errorf("exit %d: %s", res.ExitStatus, strings.TrimSpace(string(res.Stderr)))
	}
	var out struct {
		Nodes []string `json:"nodes"`
	}
	if err := json.Unmarshal(res.Stdout, &out); err != nil {
		return 0, fmt.Errorf("answer %q: %w", strings.TrimSpace(string(res.Stdout)), err)
	}
	return len(out.Nodes), nil
}

// fetchNodeLogs copies each node's logs (<dir>/<node>/logs/*) into
// localDir/<node>/.
func fetchNodeLogs(client *remote.Client, dir, localDir string) ([]string, error) {
	entries, err := readRemoteDir(client, dir)
	if err != nil {
		return nil, err
	}
	var fetched []string
	for _, e := range entries {
		if !e.IsDir() || !safeName(e.Name()) {
			continue
		}
		f, err := fetchLogs(client, path.Join(dir, e.Name(), "logs"), filepath.Join(localDir, e.Name()))
		fetched = append(fetched, f...)
		if err != nil {
			return fetched, err
		}
	}
	return fetched, nil
}

// safeName is a plain file name from a host: no separator, not . or ..,
// so that a hostile host cannot make rally write outside a directory.
func safeName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`) && name == filepath.Base(name)
}

// CleanupConfig is what an offline teardown needs.
type CleanupConfig struct {
	Inventory *inventory.Inventory
	Home      home.Dir
	KeepFiles bool
	// AcceptNewHostKeys as for up.
	AcceptNewHostKeys bool
	Parallel          int
	ConnectTimeout    time.Duration
}

// Cleanup tears down what a state file records when no coordinator
// answers (it crashed or was killed): it stops the coordinator process if
// it still lives, and on every host stops leftover workers, fetches logs and
// removes files. With no state file it still cleans every inventory host's
// workdir of what rally puts there. It removes the state file at the end.
func Cleanup(ctx context.Context, cfg CleanupConfig) (control.DownReport, error) {
	cluster := cfg.Inventory.Cluster
	rep := control.DownReport{Cluster: cluster}
	st, err := ReadState(cfg.Home.StateFile(cluster))
	if err != nil {
		return rep, err
	}
	if st != nil && st.Coordinator.PID > 0 && st.Coordinator.PID != os.Getpid() {
		killStaleCoordinator(st.Coordinator.PID)
	}
	co := &Coordinator{cfg: Config{Inventory: cfg.Inventory, AcceptNewHostKeys: cfg.AcceptNewHostKeys, ConnectTimeout: cfg.ConnectTimeout}}
	co.cfg.defaults()
	parallel := cfg.Parallel
	if parallel <= 0 {
		parallel = 16
	}
	rep.Hosts = make([]control.HostReport, len(cfg.Inventory.Hosts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i, h := range cfg.Inventory.Hosts {
		g.Go(func() error {
			rec := HostRecord{Name: string(h.Name), Address: h.Address}
			if st != nil {
				for _, r := range st.Hosts {
					if r.Name == rec.Name {
						rec = r
					}
				}
			}
			client, err := remote.Dial(gctx, co.remoteTarget(h))
			if err != nil {
				rep.Hosts[i] = control.HostReport{Name: rec.Name, Error: "connect: " + err.Error()}
				return nil
			}
			defer client.Close()
			if rec.Workdir == "" {
				wd, created, err := resolveWorkdir(gctx, client, h.Workdir)
				if err != nil {
					rep.Hosts[i] = control.HostReport{Name: rec.Name, Error: "workdir: " + err.Error()}
					return nil
				}
				if created {
					// Nothing was there: take back the directory we just made.
					_, _ = client.Run(gctx, "rmdir "+remote.ShellQuote(wd), nil)
					rep.Hosts[i] = control.HostReport{Name: rec.Name}
					return nil
				}
				rec.Workdir = wd
			}
			rep.Hosts[i] = cleanHost(gctx, client, rec, cfg.Home.WorkerLogs(cluster), cfg.KeepFiles)
			return nil
		})
	}
	_ = g.Wait()
	for _, h := range rep.Hosts {
		if h.Error != "" {
			return rep, fmt.Errorf("teardown incomplete: %s: %s", h.Name, h.Error)
		}
	}
	os.Remove(cfg.Home.StateFile(cluster))
	os.Remove(cfg.Home.Socket(cluster))
	return rep, nil
}

// killStaleCoordinator stops a coordinator process that no longer answers
// on its socket, but only when the PID still runs this same executable
// (a PID can be reused by an unrelated process).
func killStaleCoordinator(pid int) {
	self, err := os.Executable()
	if err != nil {
		return
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil || strings.TrimSuffix(exe, " (deleted)") != self {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}
