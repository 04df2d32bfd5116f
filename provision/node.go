package provision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"rally/telemetry"
)

// Node is one Elasticsearch or OpenSearch node on this host: where it is
// installed, where it writes, the ports it answers on and the user it runs
// as. Its configuration files are written beforehand (Node only starts,
// watches and stops the process), and must agree with these fields.
//
// A Node that started its process keeps track of it: do not copy it after
// Start. Another Node value with the same fields (in a later process, say)
// can still wait for, query and stop the node through its PID file and
// ports.
type Node struct {
	// Name is node.name; WaitReady checks that the node answering on
	// HTTPPort has this name, so a stray node on the port is not taken
	// for this one.
	Name string
	// Engine is EngineElasticsearch or EngineOpenSearch; it picks the
	// start script, bin/<Engine>.
	Engine string
	// ClusterName is cluster.name, which names the node's main log file
	// (<ClusterName>.log in LogDir); empty means the engine's default,
	// which is the engine's name.
	ClusterName string
	// InstallDir is the unpacked distribution (see Unpack).
	InstallDir string
	// DataDir is path.data.
	DataDir string
	// LogDir is path.logs. The node's console output (what the engine
	// prints before its logging is set up, and the JVM's own complaints)
	// goes to <Name>-console.log there.
	LogDir string
	// PIDFile is where the engine writes the pid of its server process;
	// its directory must be writable by RunAs.
	PIDFile string
	// HTTPHost is the address the HTTP port answers on; empty means
	// 127.0.0.1.
	HTTPHost string
	// HTTPPort is http.port.
	HTTPPort int
	// TransportPort is transport.port.
	TransportPort int
	// RunAs is the user the node runs as. Both engines refuse to run as
	// root, so when the caller is root RunAs must name another user;
	// otherwise it is empty or the caller's own user.
	RunAs string
	// Env is added to the node's environment as KEY=value lines, such as
	// ES_JAVA_HOME=/usr/lib/jvm/java-17 or OPENSEARCH_JAVA_HOME=...
	// Nothing else of the caller's environment reaches the node, so a
	// stray JAVA_HOME or ES_JAVA_OPTS cannot change what is measured.
	Env []string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed once cmd has been waited for
	waitErr error         // cmd's exit, valid once exited is closed
}

// nodePath is the PATH a node's start script gets: it needs only the
// basic tools (bash, dirname, uname) and finds java through Env.
const nodePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// nodeHTTP talks to nodes on this host. It ignores proxy settings: a
// proxy configured for the caller must not sit between it and its node.
var nodeHTTP = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2}}

func (n *Node) String() string {
	return "node " + n.Name
}

// Start launches the node's start script, bin/<Engine> -p <PIDFile> -q,
// as RunAs, and returns once the process runs; WaitReady tells when the
// node serves.
//
// The script runs in the foreground of a session of its own rather than
// with the engines' -d: with -d, Elasticsearch 7 and OpenSearch put
// themselves in the background from their shell script, and Elasticsearch
// 8+'s launcher blocks until the server is up and then exits, so the
// process started would say little and its errors would go nowhere. In a
// new session the node has no controlling terminal and is outside the
// caller's process group, so neither a Ctrl-C nor the caller's exit
// reaches it (the kernel re-parents it to init, which reaps it); its output
// goes to a file, not a pipe that would break when the caller goes away.
// Its process group id is its pid, which lets Stop signal the whole group
// (Elasticsearch 8+'s launcher JVM and the server JVM it starts). The
// engine itself writes -p's PID file with the pid of the server JVM, the
// process that serves (in Elasticsearch 8+ a child of the one started
// here), and removes it when it shuts down cleanly.
//
// Start refuses to run the node as root, as the engines themselves do.
func (n *Node) Start(ctx context.Context) error {
	if err := n.validate(); err != nil {
		return fmt.Errorf("%v: start: %w", n, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%v: start: %w", n, err)
	}
	cred, home, err := n.credential()
	if err != nil {
		return fmt.Errorf("%v: start: %w", n, err)
	}
	script := filepath.Join(n.InstallDir, "bin", n.Engine)
	if fi, err := os.Stat(script); err != nil {
		return fmt.Errorf("%v: start: %w", n, err)
	} else if fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%v: start: %s is not executable", n, script)
	}
	pidFile, err := filepath.Abs(n.PIDFile)
	if err != nil {
		return fmt.Errorf("%v: start: %w", n, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil && !isClosed(n.exited) {
		return fmt.Errorf("%v: start: already running (pid %d)", n, n.cmd.Process.Pid)
	}
	if pid, err := readPIDFile(pidFile); err == nil {
		if n.ownsPID(pid) {
			return fmt.Errorf("%v: start: already running (pid %d in %s)", n, pid, pidFile)
		}
		// Left by a node that was killed: the engine would refuse it.
		if err := os.Remove(pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%v: start: stale PID file: %w", n, err)
		}
	}
	console, err := os.OpenFile(n.consoleLog(), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("%v: start: console log (is LogDir prepared with PrepareForUser?): %w", n, err)
	}
	defer console.Close() // the child has its own copy
	if cred != nil {
		if err := console.Chown(int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("%v: start: console log: %w", n, err)
		}
	}

	raiseNoFile()
	// Not exec.CommandContext: the node must outlive ctx.
	cmd := exec.Command(script, "-p", pidFile, "-q")
	cmd.Dir = n.InstallDir // jvm.options names logs/ and data/ relative to it
	cmd.Env = append([]string{"PATH=" + nodePath, "HOME=" + home}, n.Env...)
	cmd.Stdout, cmd.Stderr = console, console
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: cred}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%v: start %s: %w", n, script, err)
	}
	n.cmd, n.exited, n.waitErr = cmd, make(chan struct{}), nil
	exited := n.exited
	go func() {
		err := cmd.Wait()
		n.mu.Lock()
		n.waitErr = err
		n.mu.Unlock()
		close(exited)
	}()
	return nil
}

func (n *Node) validate() error {
	switch {
	case n.Name == "":
		return errors.New("no node name")
	case n.Engine != EngineElasticsearch && n.Engine != EngineOpenSearch:
		return fmt.Errorf("engine %q: want %s or %s", n.Engine, EngineElasticsearch, EngineOpenSearch)
	case n.InstallDir == "":
		return errors.New("no install directory")
	case n.LogDir == "":
		return errors.New("no log directory")
	case n.PIDFile == "":
		return errors.New("no PID file")
	case n.HTTPPort <= 0 || n.HTTPPort > 65535:
		return fmt.Errorf("HTTP port %d out of range", n.HTTPPort)
	}
	return nil
}

// credential decides whom the node runs as: nil means the caller's own
// user. home is that user's home directory, for HOME.
func (n *Node) credential() (cred *syscall.Credential, home string, err error) {
	euid := os.Geteuid()
	if euid == 0 && n.RunAs == "" {
		return nil, "", fmt.Errorf("can not run %s as root: set the user to run it as (both engines refuse root, and a node should not hold root's rights)", n.Engine)
	}
	name := n.RunAs
	if name == "" {
		u, err := user.Current()
		if err != nil {
			return nil, "", err
		}
		return nil, u.HomeDir, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, "", fmt.Errorf("run as %s: %w", name, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, "", fmt.Errorf("run as %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, "", fmt.Errorf("run as %s: gid %q: %w", name, u.Gid, err)
	}
	switch {
	case uid == 0:
		return nil, "", fmt.Errorf("can not run %s as root (user %s has uid 0): name an unprivileged user", n.Engine, name)
	case int(uid) == euid:
		return nil, u.HomeDir, nil
	case euid != 0:
		return nil, "", fmt.Errorf("run as %s: switching users needs root (running as uid %d)", name, euid)
	}
	var groups []uint32
	if ids, err := u.GroupIds(); err == nil {
		for _, g := range ids {
			if v, err := strconv.ParseUint(g, 10, 32); err == nil {
				groups = append(groups, uint32(v))
			}
		}
	}
	// Groups must be set even when empty: otherwise the node would keep
	// the caller's (root's) supplementary groups.
	if groups == nil {
		groups = []uint32{}
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups}, u.HomeDir, nil
}

// WaitReady waits until the node answers on its HTTP port and its cluster
// reaches health ("green" or "yellow") with exactly nodes nodes, and the
// node answering is this one (by name). When the process started by Start
// exits first, or ctx ends first, the error carries the last lines of the
// node's logs.
func (n *Node) WaitReady(ctx context.Context, health string, nodes int) error {
	if health != "green" && health != "yellow" {
		return fmt.Errorf("%v: wait ready: health %q: want green or yellow", n, health)
	}
	if nodes < 1 {
		return fmt.Errorf("%v: wait ready: %d nodes: want at least 1", n, nodes)
	}
	n.mu.Lock()
	exited := n.exited
	n.mu.Unlock()
	q := url.Values{}
	q.Set("wait_for_status", health)
	q.Set("wait_for_nodes", strconv.Itoa(nodes))
	// Short server-side waits, so a node that dies is noticed within
	// about a second.
	q.Set("timeout", "1s")
	path := "/_cluster/health?" + q.Encode()
	start := time.Now()
	last := "no answer yet"
	for {
		status, body, err := n.get(ctx, path)
		switch {
		case err != nil:
			last = err.Error()
		case status == http.StatusOK:
			var h struct {
				Status   string `json:"status"`
				TimedOut bool   `json:"timed_out"`
			}
			if err := json.Unmarshal(body, &h); err == nil && !h.TimedOut {
				return n.checkIdentity(ctx)
			}
			last = fmt.Sprintf("HTTP %d: %s", status, bytes.TrimSpace(body))
		default:
			// 408 when the wait timed out, 503 while no master is elected.
			last = fmt.Sprintf("HTTP %d: %s", status, bytes.TrimSpace(body))
		}
		select {
		case <-exited:
			return fmt.Errorf("%v: exited before it was %s (%v) after %v; last lines of its logs:\n%s",
				n, health, n.exitError(), time.Since(start).Round(time.Millisecond), n.LogTail(20))
		case <-ctx.Done():
			return fmt.Errorf("%v: not %s with %d nodes after %v (%v; last answer: %s); last lines of its logs:\n%s",
				n, health, nodes, time.Since(start).Round(time.Millisecond), ctx.Err(), last, n.LogTail(20))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// checkIdentity makes sure the node answering on the HTTP port is this
// one: another node left on the port would otherwise look ready.
func (n *Node) checkIdentity(ctx context.Context) error {
	info, err := n.localInfo(ctx)
	if err != nil {
		return fmt.Errorf("%v: wait ready: %w", n, err)
	}
	if info.Name != n.Name {
		return fmt.Errorf("%v: wait ready: port %d is answered by node %q, not this one; last lines of its logs:\n%s",
			n, n.HTTPPort, info.Name, n.LogTail(20))
	}
	return nil
}

func (n *Node) exitError() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.waitErr == nil {
		return errors.New("exit status 0")
	}
	return n.waitErr
}

// Version asks the running node which engine and version it is, from
// GET /_nodes/_local (some distributions answer GET / with 405).
func (n *Node) Version(ctx context.Context) (engine, version string, err error) {
	info, err := n.localInfo(ctx)
	if err != nil {
		return "", "", fmt.Errorf("%v: version: %w", n, err)
	}
	return info.Engine, info.Version, nil
}

// nodeInfo is what rally reads of GET /_nodes/_local.
type nodeInfo struct {
	Name, Engine, Version string
}

func (n *Node) localInfo(ctx context.Context) (nodeInfo, error) {
	status, body, err := n.get(ctx, "/_nodes/_local")
	if err != nil {
		return nodeInfo{}, err
	}
	if status != http.StatusOK {
		return nodeInfo{}, fmt.Errorf("GET /_nodes/_local: HTTP %d: %s", status, bytes.TrimSpace(body))
	}
	return parseNodesLocal(body)
}

// parseNodesLocal reads the single node of a GET /_nodes/_local answer.
// The engine shows in the server module's class names (org.opensearch or
// org.elasticsearch), which every node lists under "modules"; OpenSearch
// has no other marker there.
func parseNodesLocal(body []byte) (nodeInfo, error) {
	var r struct {
		Nodes map[string]struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Modules []struct {
				Classname string `json:"classname"`
			} `json:"modules"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nodeInfo{}, fmt.Errorf("GET /_nodes/_local: %w", err)
	}
	if len(r.Nodes) != 1 {
		return nodeInfo{}, fmt.Errorf("GET /_nodes/_local: %d nodes in the answer, want 1", len(r.Nodes))
	}
	var info nodeInfo
	for _, nd := range r.Nodes {
		info = nodeInfo{Name: nd.Name, Version: nd.Version}
		for _, m := range nd.Modules {
			if strings.HasPrefix(m.Classname, "org.opensearch.") {
				info.Engine = EngineOpenSearch
				break
			}
			if strings.HasPrefix(m.Classname, "org.elasticsearch.") {
				info.Engine = EngineElasticsearch
				break
			}
		}
	}
	if info.Engine == "" || info.Version == "" {
		return nodeInfo{}, errors.New("GET /_nodes/_local: no version, or no module to tell the engine by")
	}
	return info, nil
}

// HTTPAddr is the node's HTTP address as host:port.
func (n *Node) HTTPAddr() string {
	host := n.HTTPHost
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(n.HTTPPort))
}

func (n *Node) get(ctx context.Context, path string) (status int, body []byte, err error) {
	u := "http://" + n.HTTPAddr() + path
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := nodeHTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, body, err
}

// Stop ends the node: SIGTERM to its process group, SIGKILL after grace
// if it is still there, then waits until no process of the group is left
// and removes the PID file. The group is found from the process Start
// launched or, in another process, from the PID file; a node that is not
// running is not an error. When ctx ends before the group is gone, the
// group is killed and Stop returns ctx's error.
func (n *Node) Stop(ctx context.Context, grace time.Duration) error {
	pgid, err := n.processGroup()
	if err != nil {
		return fmt.Errorf("%v: stop: %w", n, err)
	}
	killed := false
	if pgid > 0 {
		if err := signalGroup(pgid, syscall.SIGTERM); err != nil {
			return fmt.Errorf("%v: stop: %w", n, err)
		}
		gctx, cancel := context.WithTimeout(ctx, grace)
		gone := waitGroupGone(gctx, pgid)
		cancel()
		if !gone {
			killed = true
			if err := signalGroup(pgid, syscall.SIGKILL); err != nil {
				return fmt.Errorf("%v: stop: %w", n, err)
			}
			// SIGKILL cannot be refused, so this wait is short even when
			// ctx has ended; only a process stuck in the kernel outlasts it.
			kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), killWait)
			gone = waitGroupGone(kctx, pgid)
			cancel()
			if !gone {
				return fmt.Errorf("%v: stop: process group %d still there %v after SIGKILL", n, pgid, killWait)
			}
		}
	}
	n.mu.Lock()
	exited := n.exited
	n.mu.Unlock()
	if exited != nil {
		// The group is gone, so the wait returns at once: this keeps the
		// goroutine that waits for the process from outliving Stop.
		select {
		case <-exited:
		case <-time.After(killWait):
		}
	}
	// The engine removes its PID file when it shuts down cleanly, not
	// when it is killed.
	if err := os.Remove(n.PIDFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%v: stop: %w", n, err)
	}
	if killed && ctx.Err() != nil {
		return fmt.Errorf("%v: stop: killed: %w", n, ctx.Err())
	}
	return nil
}

// killWait bounds the wait for a process group to vanish after SIGKILL.
const killWait = 10 * time.Second

// processGroup finds the node's process group: 0 when nothing runs.
func (n *Node) processGroup() (int, error) {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd != nil {
		// Start made the process a session leader: its pid is the group's
		// id, whether or not the leader itself is still there.
		if !isClosed(exited) || groupAlive(cmd.Process.Pid) {
			return cmd.Process.Pid, nil
		}
	}
	pid, err := readPIDFile(n.PIDFile)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if !n.ownsPID(pid) {
		return 0, nil // stale: the pid is gone or someone else's now
	}
	pgid, err := syscall.Getpgid(pid)
	if errors.Is(err, syscall.ESRCH) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("process group of pid %d: %w", pid, err)
	}
	if pgid == syscall.Getpgrp() {
		return 0, fmt.Errorf("pid %d is in this process's own group %d: refusing to signal it", pid, pgid)
	}
	return pgid, nil
}

// ownsPID reports whether pid is a live process of this node: its command
// line names the install directory (-Des.path.home=..., or
// -Dopensearch.path.home=...). A PID file outlives a killed node, and its
// pid may since belong to anything.
func (n *Node) ownsPID(pid int) bool {
	if pid <= 1 || syscall.Kill(pid, 0) == syscall.ESRCH {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		// No /proc (macOS): the pid is alive; trust the PID file.
		return !errors.Is(err, os.ErrNotExist) || !procAvailable()
	}
	for _, dir := range []string{n.InstallDir, realPath(n.InstallDir)} {
		if dir != "" && bytes.Contains(cmdline, []byte(dir)) {
			return true
		}
	}
	return false
}

func realPath(p string) string {
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		return ""
	}
	return r
}

func procAvailable() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

func readPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("PID file %s: %q is not a pid", path, bytes.TrimSpace(b))
	}
	return pid, nil
}

func signalGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 1 {
		return fmt.Errorf("refusing to signal process group %d", pgid)
	}
	err := syscall.Kill(-pgid, sig)
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("%v to process group %d: %w", sig, pgid, err)
	}
	return nil
}

// waitGroupGone polls until no live process is left in the group; false
// when ctx ends first.
func waitGroupGone(ctx context.Context, pgid int) bool {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for groupAlive(pgid) {
		select {
		case <-ctx.Done():
			return !groupAlive(pgid)
		case <-tick.C:
		}
	}
	return true
}

// groupAlive reports whether the group has a process that is not a
// zombie. kill(-pgid, 0) alone also counts zombies, which stay until their
// parent reaps them; a node whose launcher has not reaped it yet is gone
// all the same.
func groupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	live, err := telemetry.GroupPIDs("/proc", pgid)
	if err != nil {
		return true // /proc cannot tell
	}
	return len(live) > 0
}

func isClosed(c chan struct{}) bool {
	if c == nil {
		return true
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// consoleLog is where the node's standard output and error go.
func (n *Node) consoleLog() string {
	return filepath.Join(n.LogDir, n.Name+"-console.log")
}

// mainLog is the engine's own log file, <cluster.name>.log.
func (n *Node) mainLog() string {
	cluster := n.ClusterName
	if cluster == "" {
		cluster = n.Engine
	}
	return filepath.Join(n.LogDir, cluster+".log")
}

// LogTail returns the last lines of the node's main log and, when it has
// any, of its console output (where a node that dies before its logging
// is set up, or a JVM that does not start, says why), each under a
// heading naming the file.
func (n *Node) LogTail(lines int) string {
	var b strings.Builder
	for _, p := range []string{n.mainLog(), n.consoleLog()} {
		t := tailFile(p, lines)
		if t == "" {
			continue
		}
		fmt.Fprintf(&b, "==> %s <==\n%s", p, t)
		if !strings.HasSuffix(t, "\n") {
			b.WriteByte('\n')
		}
	}
	if b.Len() == 0 {
		return fmt.Sprintf("(nothing logged in %s)\n", n.LogDir)
	}
	return b.String()
}

// tailFile returns the last lines of a file, reading at most its last
// 256 KiB; "" when it is missing or empty.
func tailFile(path string, lines int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const window = 256 << 10
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(fi.Size()-window, 0)
	buf := make([]byte, fi.Size()-off)
	k, _ := f.ReadAt(buf, off)
	buf = bytes.TrimRight(buf[:k], "\n")
	if len(buf) == 0 || lines <= 0 {
		return ""
	}
	i := len(buf)
	for range lines {
		j := bytes.LastIndexByte(buf[:i], '\n')
		if j < 0 {
			i = 0
			if off > 0 {
				// The first line of the window may be cut: drop it.
				if k := bytes.IndexByte(buf, '\n'); k >= 0 {
					i = k + 1
				}
			}
			break
		}
		i = j
	}
	return strings.TrimPrefix(string(buf[i:]), "\n") + "\n"
}
