// Package coordinator is the long-lived coordinator process of a cluster:
// it forms the cluster (dial every host over SSH, push the worker build,
// open a loopback-only reverse tunnel to the actor system, start the
// worker), serves the control socket, records what it started in a state
// file, and tears everything down again, also for a coordinator that
// crashed (from the state file).
//
// It wires remote, payload and actor together; it must not render anything
// for people (the CLI and the TUI do, from what it publishes).
package coordinator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"rally/actor"
	"rally/control"
	"rally/home"
	"rally/inventory"
	"rally/payload"
)

// Config is what a coordinator needs, parsed and validated by the CLI.
type Config struct {
	Inventory *inventory.Inventory
	Home      home.Dir
	// Version and Self identify this rally build; Self is the executable,
	// pushed to hosts of the same platform.
	Version string
	Self    string
	// AcceptNewHostKeys appends unknown host keys to known_hosts.
	AcceptNewHostKeys bool
	// MinHosts is how many hosts must join for up to succeed (0: all).
	MinHosts int
	// Parallel is how many hosts are brought up at once (default 64).
	Parallel       int
	ConnectTimeout time.Duration
	// JoinTimeout bounds one host's bring-up after its upload.
	JoinTimeout time.Duration
	// HeartbeatInterval and Expiry tune the actor system (defaults 1 s, 10 s).
	HeartbeatInterval time.Duration
	Expiry            time.Duration
	// WorkerGrace is how long a worker outlives a lost link.
	WorkerGrace time.Duration
	// RestartTries is how many times in a row a worker that exited while
	// its host's SSH link lived is started again before the host is failed
	// (default 5; negative: never). A worker that stayed joined for a
	// minute starts a new count.
	RestartTries int
	// RestartBackoff is the wait before the first restart, doubled for
	// each further try up to 30 s (default 1 s).
	RestartBackoff time.Duration
	// Provision, when set, forms an engine cluster on the provisioner
	// hosts once they joined.
	Provision *Provision
	Logger    *slog.Logger
}

func (c *Config) defaults() {
	if c.Parallel <= 0 {
		// Measured with 40 lab hosts on 2 cores: 16 at a time formed them
		// in three waves, 13.4 to 14.9 s from nothing on the hosts; all at
		// once 10.2 to 10.7 s. A host holds its place through its join.
		c.Parallel = 64
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.JoinTimeout <= 0 {
		c.JoinTimeout = 60 * time.Second
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = time.Second
	}
	if c.Expiry <= 0 {
		c.Expiry = 10 * time.Second
	}
	if c.WorkerGrace <= 0 {
		c.WorkerGrace = 30 * time.Second
	}
	if c.RestartTries == 0 {
		c.RestartTries = 5
	}
	if c.RestartBackoff <= 0 {
		c.RestartBackoff = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MinHosts <= 0 || c.MinHosts > len(c.Inventory.Hosts) {
		c.MinHosts = len(c.Inventory.Hosts)
	}
}

// Coordinator is a running coordinator.
type Coordinator struct {
	cfg     Config
	log     *slog.Logger
	sys     *actor.System
	state   *stateFile
	events  *broadcaster
	started time.Time
	socket  string
	build   payload.Build
	// packer compresses worker builds for the wire, once per build, into
	// the build cache.
	packer      *payload.Packer
	symbolsOnce sync.Once

	mu      sync.Mutex
	phase   string
	hosts   []*hostRun // inventory order
	uploads int
	upBytes int64
	nodes   []control.NodeStatus // started on provisioner hosts

	racing racing

	ctl       net.Listener
	srv       *http.Server
	downOnce  sync.Once
	closeOnce sync.Once
	downRep   control.DownReport
	done      chan struct{}
	life      context.Context // ends at Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// ErrTooFewHosts means fewer hosts joined than MinHosts.
var ErrTooFewHosts = errors.New("too few hosts joined")

// Start creates the actor system, the control socket and the state file of
// a new coordinator. It fails when a coordinator of the cluster already
// runs. Call Up next. The coordinator lives until Close, not until ctx
// ends: a cluster is torn down explicitly.
func Start(ctx context.Context, cfg Config) (*Coordinator, error) {
	cfg.defaults()
	cluster := cfg.Inventory.Cluster
	if err := home.CheckCluster(cluster); err != nil {
		return nil, err
	}
	self, err := payload.Finder{Self: cfg.Self, CacheDir: cfg.Home.BuildCache()}.Find(payload.Platform{OS: runtime.GOOS, Arch: runtime.GOARCH})
	if err != nil {
		// The coordinator may not be a static build itself (a developer's
		// go run); hosts of its platform then need a build from the cache.
		cfg.Logger.Warn("no static build of this executable", "err", err)
	}
	life, cancel := context.WithCancel(context.WithoutCancel(ctx))
	events := newBroadcaster()
	cfg.Logger = slog.New(teeHandler{inner: cfg.Logger.Handler(), publish: events.publish})
	c := &Coordinator{
		cfg:     cfg,
		log:     cfg.Logger,
		events:  events,
		started: time.Now(),
		socket:  cfg.Home.Socket(cluster),
		build:   self,
		packer:  payload.NewPacker(cfg.Home.BuildCache()),
		phase:   control.ClusterForming,
		done:    make(chan struct{}),
		life:    life,
		cancel:  cancel,
	}
	c.sys = actor.NewSystem(actor.Options{
		Version:           cfg.Version,
		Build:             self.SHA256,
		HeartbeatInterval: cfg.HeartbeatInterval,
		Expiry:            cfg.Expiry,
		Logger:            cfg.Logger,
	})
	for _, h := range cfg.Inventory.Hosts {
		roles := make([]string, len(h.Roles))
		for i, r := range h.Roles {
			roles[i] = string(r)
		}
		c.hosts = append(c.hosts, &hostRun{inv: h, status: control.HostStatus{
			Name: string(h.Name), Address: h.Address, Roles: roles, Phase: control.PhasePending,
		}})
	}
	l, err := control.Listen(c.socket)
	if err != nil {
		cancel()
		c.sys.Close()
		return nil, err
	}
	c.ctl = l
	c.state = &stateFile{path: cfg.Home.StateFile(cluster), st: State{
		Cluster:     cluster,
		Inventory:   cfg.Inventory.File,
		Coordinator: PIDRecord{PID: os.Getpid(), Socket: c.socket, Started: c.started.UTC()},
	}}
	if err := c.state.update(func(*State) {}); err != nil {
		l.Close()
		cancel()
		c.sys.Close()
		return nil, err
	}
	c.srv = &http.Server{Handler: c.handler(), ReadHeaderTimeout: 5 * time.Second}
	c.wg.Add(2)
	go func() { defer c.wg.Done(); _ = c.srv.Serve(l) }()
	go func() { defer c.wg.Done(); c.watchActors(life) }()
	return c, nil
}

// Done is closed once the cluster is torn down.
func (c *Coordinator) Done() <-chan struct{} { return c.done }

// Subscribe returns the coordinator's events (host phases, logs, actor
// events); a slow reader loses events, never blocks the coordinator.
func (c *Coordinator) Subscribe() (<-chan control.Event, func()) { return c.events.subscribe(256) }

func (c *Coordinator) setPhase(p string) {
	c.mu.Lock()
	c.phase = p
	c.mu.Unlock()
	c.events.publish(control.Event{Time: time.Now(), Kind: control.EventCluster, Phase: p})
}

// Status is what the control socket's status route answers.
func (c *Coordinator) Status() control.Status {
	c.mu.Lock()
	st := control.Status{
		Cluster: c.cfg.Inventory.Cluster,
		Phase:   c.phase,
		Coordinator: control.CoordinatorInfo{
			PID: os.Getpid(), Version: c.cfg.Version, Build: c.build.SHA256,
			Socket: c.socket, Started: c.started, Inventory: c.cfg.Inventory.File,
		},
		Uploads:       c.uploads,
		UploadedBytes: c.upBytes,
	}
	for _, h := range c.hosts {
		st.Hosts = append(st.Hosts, h.snapshot())
	}
	st.Nodes = append([]control.NodeStatus(nil), c.nodes...)
	c.mu.Unlock()
	st.Actors = c.sys.Status()
	return st
}

// watchActors turns actor events into host phases and published events.
func (c *Coordinator) watchActors(ctx context.Context) {
	ch, cancel := c.sys.Subscribe(256)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			switch ev.Kind {
			case actor.EventLost:
				// A host whose worker is being restarted keeps saying so:
				// its member is lost until the new worker joins.
				if h := c.host(ev.Member); h != nil && h.phase() != control.PhaseRestarting {
					c.setHostPhase(ev.Member, control.PhaseLost, "heartbeat expired")
				}
			case actor.EventJoined:
				if h := c.host(ev.Member); h != nil && h.phase() == control.PhaseLost {
					c.setHostPhase(ev.Member, control.PhaseJoined, "")
				}
			}
			c.events.publish(control.Event{Time: ev.Time, Kind: control.EventActor, Host: ev.Member, Phase: ev.Kind, Text: ev.Detail})
		}
	}
}

func (c *Coordinator) host(name string) *hostRun {
	for _, h := range c.hosts {
		if h.status.Name == name {
			return h
		}
	}
	return nil
}

func (c *Coordinator) setHostPhase(name, phase, errText string) {
	h := c.host(name)
	if h == nil {
		return
	}
	h.mu.Lock()
	h.status.Phase = phase
	h.status.Error = errText
	snap := h.status
	h.mu.Unlock()
	c.events.publish(control.Event{Time: time.Now(), Kind: control.EventHost, Host: name, Phase: phase, Text: errText, HostStatus: &snap})
}

func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the kernel's RNG failing is not recoverable
	}
	return hex.EncodeToString(b)
}
