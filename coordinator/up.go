package coordinator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"rally/control"
	"rally/inventory"
	"rally/payload"
	"rally/remote"
)

// hostRun is one host's bring-up and what stays open for it.
type hostRun struct {
	inv inventory.Host

	mu       sync.Mutex
	status   control.HostStatus
	client   *remote.Client
	listener net.Listener
	proc     *remote.Process
	workdir  string // absolute, on the host

	// reform is held while the host is brought up, formed again after its
	// SSH link died, or its worker restarted, so that teardown waits for
	// it rather than race it.
	reform sync.Mutex

	// stop is closed when teardown of the host begins, so that work under
	// reform gives up at once instead of keeping teardown waiting for a
	// timeout. It is made on first use, under mu.
	stop     chan struct{}
	stopOnce sync.Once
}

// stopping returns the channel that teardown of the host closes.
func (h *hostRun) stopping() <-chan struct{} { return h.stopChan() }

func (h *hostRun) stopChan() chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stop == nil {
		h.stop = make(chan struct{})
	}
	return h.stop
}

// beginTeardown tells a bring-up, reform or restart of the host under way
// to give up.
func (h *hostRun) beginTeardown() {
	stop := h.stopChan()
	h.stopOnce.Do(func() { close(stop) })
}

// untilTeardown returns a context that ends with parent or when teardown
// of the host begins; cancel releases it.
func (h *hostRun) untilTeardown(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	stop := h.stopping()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func (h *hostRun) snapshot() control.HostStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.status
	s.Roles = append([]string(nil), s.Roles...)
	return s
}

func (h *hostRun) phase() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.status.Phase
}

// Up forms the cluster: every host in parallel (bounded by Parallel). It
// returns nil when at least MinHosts joined; hosts that failed keep their
// reason in Status. On ErrTooFewHosts the caller should tear down.
func (c *Coordinator) Up(ctx context.Context) error {
	// Hosts of this machine's platform get this executable: compress it
	// (or find it in the cache) while the hosts are dialed, so that the
	// first host that lacks it does not wait for that, and a bring-up of
	// hosts that all have it does not wait either (Close does). A failure
	// here is the first such host's to report.
	if c.build.Path != "" {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			_, _ = c.packer.Pack(c.build)
		}()
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.Parallel)
	for _, h := range c.hosts {
		g.Go(func() error {
			// Teardown waits for a bring-up under way (it takes reform),
			// after telling it to give up.
			h.reform.Lock()
			defer h.reform.Unlock()
			hctx, cancel := h.untilTeardown(gctx)
			defer cancel()
			if err := c.bringUp(hctx, h); err != nil {
				if c.tearingDown() {
					err = fmt.Errorf("%w: %w", errTearingDown, err)
				}
				c.log.Error("bring-up failed", "host", h.status.Name, "err", err)
				c.setHostPhase(h.status.Name, control.PhaseFailed, err.Error())
			}
			return nil
		})
	}
	_ = g.Wait()
	joined := 0
	for _, h := range c.hosts {
		if h.phase() == control.PhaseJoined {
			joined++
		}
	}
	// Each failed host's reason was already published as its own event.
	if joined < c.cfg.MinHosts {
		return fmt.Errorf("%w: %d of %d joined, %d required", ErrTooFewHosts,
			joined, len(c.hosts), c.cfg.MinHosts)
	}
	if c.cfg.Provision != nil {
		if err := c.provisionCluster(ctx); err != nil {
			c.log.Error("provisioning failed", "err", err)
			return err
		}
	}
	c.setPhase(control.ClusterUp)
	return nil
}

// remoteTarget maps an inventory host to an SSH target.
func (c *Coordinator) remoteTarget(h inventory.Host) remote.Target {
	t := remote.Target{
		Name:             string(h.Name),
		Address:          h.Address,
		Port:             h.SSH.Port,
		User:             h.SSH.User,
		KnownHostsFile:   h.SSH.KnownHosts,
		AcceptNewHostKey: c.cfg.AcceptNewHostKeys,
		Jump:             h.SSH.Jump,
		ConnectTimeout:   c.cfg.ConnectTimeout,
	}
	if h.SSH.ConnectTimeout > 0 {
		t.ConnectTimeout = h.SSH.ConnectTimeout
	}
	if h.SSH.IdentityFile != "" {
		t.IdentityFiles = []string{h.SSH.IdentityFile}
	}
	return t
}

func (c *Coordinator) bringUp(ctx context.Context, h *hostRun) (err error) {
	name := string(h.inv.Name)
	steps := newStepTimes()
	step := func(phase string) { c.setHostPhase(name, phase, "") }
	if c.tearingDown() {
		return errTearingDown
	}
	defer func() {
		if err != nil {
			// A worker that did not join is stopped; the SSH client stays
			// for teardown to clean the host's files with.
			h.mu.Lock()
			if h.proc != nil {
				h.proc.Kill()
				h.proc = nil
			}
			if h.listener != nil {
				h.listener.Close()
				h.listener = nil
			}
			h.mu.Unlock()
		}
	}()

	step(control.PhaseConnect)
	client, err := remote.Dial(ctx, c.remoteTarget(h.inv))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	steps.done("dial")
	h.mu.Lock()
	h.client = client
	h.mu.Unlock()

	// One command tells the platform and the user, makes the workdir and
	// lists the builds there: one round trip before the push.
	probe, err := payload.ProbeHost(ctx, client, payload.ProbeOptions{
		Workdir: h.inv.Workdir, Marker: createdMarker, RefuseRoot: c.refusesRoot(h),
	})
	if errors.Is(err, payload.ErrRoot) {
		return errRootWithoutRunAs
	}
	if err != nil {
		return err
	}
	steps.done("probe")
	workdir := probe.Workdir
	h.mu.Lock()
	h.status.Platform = probe.Platform.String()
	h.workdir = workdir
	h.mu.Unlock()
	if err := c.state.update(func(s *State) {
		r := s.host(name)
		r.Address, r.Workdir = h.inv.Address, workdir
		r.CreatedWorkdir = r.CreatedWorkdir || probe.Created
	}); err != nil {
		return err
	}
	build, err := payload.Finder{Self: c.cfg.Self, CacheDir: c.cfg.Home.BuildCache()}.Find(probe.Platform)
	if err != nil {
		return err
	}

	step(control.PhaseUpload)
	res := payload.PushResult{RemotePath: probe.BuildPath(build)}
	if !probe.Has(build) {
		if build.Symbols {
			c.symbolsOnce.Do(func() {
				c.log.Warn("the worker build carries symbols and debug information (built without -ldflags='-s -w'): hosts get more bytes than they need",
					"build", build.Path, "bytes", build.Size)
			})
		}
		res, err = payload.Push(ctx, client, build, c.packer, workdir, func(sent, total int64) {
			h.mu.Lock()
			h.status.UploadSent, h.status.UploadTotal = sent, total
			h.mu.Unlock()
		})
		if err != nil {
			return fmt.Errorf("upload worker: %w", err)
		}
	}
	steps.done("push")
	h.mu.Lock()
	h.status.Binary, h.status.Uploaded = res.RemotePath, res.Uploaded
	h.status.UploadSent, h.status.UploadTotal = res.Bytes, res.Bytes
	h.mu.Unlock()
	if res.Uploaded {
		c.mu.Lock()
		c.uploads++
		c.upBytes += res.Bytes
		c.mu.Unlock()
	}

	step(control.PhaseTunnel)
	l, err := client.ListenRemote(net.JoinHostPort("127.0.0.1", strconv.Itoa(c.cfg.Inventory.CoordinatorPort)))
	if err != nil {
		// Someone holds the port on that host: let its sshd choose one.
		c.log.Warn("tunnel port taken, falling back to a server-chosen port", "host", name, "port", c.cfg.Inventory.CoordinatorPort, "err", err)
		l, err = client.ListenRemote("127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("tunnel: %w", err)
		}
	}
	port := l.Addr().(*net.TCPAddr).Port
	h.mu.Lock()
	h.listener = l
	h.status.TunnelPort = port
	h.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		_ = c.sys.Serve(context.Background(), l, name)
	}()
	if err := c.state.update(func(s *State) {
		r := s.host(name)
		r.Binary, r.TunnelPort = res.RemotePath, port
	}); err != nil {
		return err
	}

	launch := workerLaunch{binary: res.RemotePath, workdir: workdir, build: build.SHA256, port: port}
	steps.done("tunnel")
	step(control.PhaseStart)
	proc, err := c.startWorker(ctx, h, client, launch)
	if err != nil {
		return err
	}
	steps.done("join")
	c.log.Info("host joined", append([]any{"host", name, "uploaded", res.Uploaded}, steps.attrs...)...)
	step(control.PhaseJoined)
	c.wg.Add(2)
	go c.watchLink(h, client)
	go c.watchWorker(h, client, proc, launch)
	return nil
}

// workerLaunch is what starting a worker on a formed host takes: the build
// already pushed there, the workdir and the tunnel's port on the host.
type workerLaunch struct {
	binary, workdir, build string
	port                   int
}

// startWorker starts the worker on h with a new token and waits until it
// joined (JoinTimeout). The worker's PID, as it reported it in its hello,
// goes into the host's status and the state file; a worker that did not
// join is killed.
func (c *Coordinator) startWorker(ctx context.Context, h *hostRun, client *remote.Client, w workerLaunch) (_ *remote.Process, err error) {
	name := string(h.inv.Name)
	token := newToken()
	c.sys.Expect(name, token)
	// exec: the worker replaces the shell, so the host runs one process.
	cmd := fmt.Sprintf("exec %s worker --name %s --tunnel 127.0.0.1:%d --workdir %s --build %s --grace %s",
		remote.ShellQuote(w.binary), remote.ShellQuote(name), w.port, remote.ShellQuote(w.workdir), w.build, c.cfg.WorkerGrace)
	// Not ctx: a worker that joined outlives its bring-up.
	proc, err := client.Start(context.Background(), cmd)
	if err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	defer func() {
		if err != nil {
			proc.Kill()
		}
	}()
	exited := make(chan error, 1)
	stderrTail := &tail{}
	stderrDone := make(chan struct{})
	c.wg.Add(3)
	go func() { defer c.wg.Done(); c.pipeLog(name, "stdout", proc.Stdout, nil) }()
	go func() {
		defer c.wg.Done()
		defer close(stderrDone)
		c.pipeLog(name, "stderr", proc.Stderr, stderrTail)
	}()
	go func() { defer c.wg.Done(); exited <- proc.Wait() }()
	// exitedEarly says why a worker that exited before joining did.
	exitedEarly := func(err error) error {
		// The exit status can overtake the last lines of stderr, which
		// say why: give them a moment.
		select {
		case <-stderrDone:
		case <-time.After(time.Second):
		}
		return fmt.Errorf("worker exited before joining (%v): %s", err, stderrTail.String())
	}
	// The token goes through stdin, never the command line; stdin stays
	// open: its EOF tells the worker that this coordinator is gone.
	if _, werr := io.WriteString(proc.Stdin, token+"\n"); werr != nil {
		// A worker that died at once closed its stdin first: say why it
		// died rather than that the token could not be sent.
		select {
		case err := <-exited:
			return nil, exitedEarly(err)
		case <-time.After(5 * time.Second):
			return nil, fmt.Errorf("start worker: send token: %w", werr)
		}
	}

	jctx, cancel := context.WithTimeout(ctx, c.cfg.JoinTimeout)
	defer cancel()
	joined := make(chan error, 1)
	go func() { joined <- c.sys.WaitMembers(jctx, name) }()
	select {
	case err := <-joined:
		if err != nil {
			return nil, fmt.Errorf("worker did not join within %s: %w", c.cfg.JoinTimeout, err)
		}
	case err := <-exited:
		cancel()
		return nil, exitedEarly(err)
	}
	pid := 0
	for _, m := range c.sys.Status().Members {
		if m.Name == name {
			pid = m.PID
		}
	}
	if err := c.state.update(func(s *State) { s.host(name).WorkerPID = pid }); err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.proc = proc
	h.status.WorkerPID = pid
	h.mu.Unlock()
	return proc, nil
}

// watchLink forms a host again when its SSH connection dies while the
// cluster is up (a cut network, a VPN that dropped): the worker there exits
// with its SSH session, so the host is dialed again, its tunnel reopened and
// a new worker started (the build is already there), with backoff, until it
// works or the cluster is torn down.
func (c *Coordinator) watchLink(h *hostRun, client *remote.Client) {
	defer c.wg.Done()
	select {
	case <-client.Done():
	case <-c.life.Done():
		return
	}
	name := string(h.inv.Name)
	backoff := time.Second
	for {
		if c.tearingDown() {
			return
		}
		c.log.Warn("ssh link lost; forming the host again", "host", name, "err", client.Err(), "in", backoff)
		c.setHostPhase(name, control.PhaseLost, fmt.Sprintf("ssh link lost (%v); reconnecting", client.Err()))
		select {
		case <-time.After(backoff):
		case <-c.life.Done():
			return
		}
		h.reform.Lock()
		if c.tearingDown() {
			h.reform.Unlock()
			return
		}
		h.mu.Lock()
		if h.listener != nil {
			h.listener.Close()
		}
		if h.client != nil {
			h.client.Close()
		}
		h.mu.Unlock()
		ctx, cancel := h.untilTeardown(c.life)
		err := c.bringUp(ctx, h)
		cancel()
		h.reform.Unlock()
		if err == nil {
			c.log.Info("host formed again", "host", name)
			return // bringUp watches the new link
		}
		c.setHostPhase(name, control.PhaseLost, "reconnecting: "+err.Error())
		backoff = min(2*backoff, 30*time.Second)
	}
}

// tearingDown tells whether teardown has begun.
func (c *Coordinator) tearingDown() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.phase == control.ClusterDown
}

// errTearingDown stops a bring-up that teardown overtook.
var errTearingDown = errors.New("the cluster is being torn down")

// resolveWorkdir makes the workdir absolute (~ is the SSH user's home)
// and creates it, telling whether it had to.
func resolveWorkdir(ctx context.Context, c *remote.Client, workdir string) (string, bool, error) {
	if workdir == "" {
		workdir = "~/.rally"
	}
	fs, err := c.SFTP()
	if err != nil {
		return "", false, err
	}
	if workdir == "~" || strings.HasPrefix(workdir, "~/") {
		home, err := fs.Getwd()
		if err != nil {
			return "", false, fmt.Errorf("home directory: %w", err)
		}
		workdir = path.Join(home, strings.TrimPrefix(workdir, "~"))
	}
	if !path.IsAbs(workdir) {
		return "", false, fmt.Errorf("%q is not absolute and does not start with ~/", workdir)
	}
	workdir = path.Clean(workdir)
	if _, err := fs.Stat(workdir); err == nil {
		return workdir, false, nil
	}
	if err := fs.MkdirAll(workdir); err != nil {
		return "", false, fmt.Errorf("create %s: %w", workdir, err)
	}
	return workdir, true, nil
}

// pipeLog copies a worker's output lines into the coordinator's log and
// event stream.
func (c *Coordinator) pipeLog(host, stream string, r io.Reader, t *tail) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if t != nil {
			t.add(line)
		}
		c.log.Info("worker output", "host", host, "stream", stream, "line", line)
		c.events.publish(control.Event{Time: time.Now(), Kind: control.EventLog, Host: host, Text: line})
	}
}

// tail keeps the last lines of a stream for error messages.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (t *tail) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, s)
	if len(t.lines) > 5 {
		t.lines = t.lines[1:]
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return "no output"
	}
	return strings.Join(t.lines, " | ")
}

// stepTimes measures a host's bring-up step by step, for the log line that
// says where the time went.
type stepTimes struct {
	last  time.Time
	attrs []any
}

func newStepTimes() *stepTimes { return &stepTimes{last: time.Now()} }

// done records the time since the previous step under name.
func (s *stepTimes) done(name string) {
	now := time.Now()
	s.attrs = append(s.attrs, name, now.Sub(s.last).Round(time.Millisecond))
	s.last = now
}
