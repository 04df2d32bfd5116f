package coordinator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"rally/control"
	"rally/inventory"
	"rally/payload"
	"rally/provision"
	"rally/remote"
	"rally/telemetry"
)

// Provision is what the provisioner hosts of a cluster install and start
// during bring-up: esrally's from-distribution pipeline, one cluster whose
// nodes run on every provisioner host of the inventory.
type Provision struct {
	// Archive is a distribution on this machine, pushed to every
	// provisioner host (content-addressed, as the worker is); or URL
	// (checked against SHA512, else URL.sha512) is downloaded by each host.
	Archive     string
	URL, SHA512 string
	// Engine and Version name an official distribution, downloaded by
	// each host for its own OS and architecture.
	Engine, Version string
	// TeamDir is a team directory on this machine, pushed to the hosts;
	// empty means rally's default team, which the worker embeds.
	TeamDir   string
	Car       string
	CarParams map[string]any
	// Plugins are installed into every node; one whose source is a file
	// of this machine (file://) is pushed to the hosts first.
	Plugins []provision.Plugin
	// Telemetry are the devices that change how the nodes' JVMs start.
	Telemetry  provision.JavaTelemetry
	RuntimeJDK int
	// Health is the cluster health to wait for (default green); Timeout
	// bounds the wait (default 3 min).
	Health  string
	Timeout time.Duration
	// PreserveInstall keeps the nodes' install and data directories at
	// teardown (their logs are fetched either way).
	PreserveInstall bool
}

// NodeRecord is what the state file keeps of a host's nodes, so that
// teardown stops them and removes their directory even after a crash.
type NodeRecord struct {
	// Dir holds the host's nodes (their installs, data, logs and PID
	// files, and cluster.json, which names them).
	Dir string `json:"dir"`
	// Nodes are the nodes' names and HTTP addresses, once started.
	Nodes []provision.NodeStatus `json:"nodes,omitempty"`
	// Preserve keeps Dir at teardown but for the logs, which are fetched.
	Preserve bool `json:"preserve,omitempty"`
}

// refusesRoot tells whether h's bring-up must stop, before anything is
// pushed, when its SSH user is root: h is a provisioner host of a cluster
// being provisioned and has no run_as, so its nodes would run as root.
func (c *Coordinator) refusesRoot(h *hostRun) bool {
	return c.cfg.Provision != nil && h.inv.Has(inventory.RoleProvisioner) && h.inv.RunAs == ""
}

// errRootWithoutRunAs is the bring-up error of a host refusesRoot stops.
var errRootWithoutRunAs = errors.New("the SSH user is root and the host has no run_as: Elasticsearch and OpenSearch refuse to run as root; set run_as to an unprivileged user of the host in the inventory")

// hostNodes is one provisioner host's part of the cluster being formed.
type hostNodes struct {
	h       *hostRun
	client  *remote.Client
	binary  string
	workdir string
	archive string // on the host
	team    string // on the host
	plugins []provision.Plugin
	prep    provision.PrepareResult
	started provision.StartResult
}

// provisionCluster forms the engine cluster on the joined provisioner
// hosts: it pushes the distribution (and team), asks every host for its
// nodes' ports, names the nodes, then starts them everywhere at once and
// waits until the cluster has every node at the wanted health. A failure
// anywhere stops the start on every host; teardown then stops whatever
// runs (the state file names every host's nodes directory before a node
// starts).
func (c *Coordinator) provisionCluster(ctx context.Context) error {
	p := c.cfg.Provision
	var hosts []*hostNodes
	for _, h := range c.hosts {
		if !h.inv.Has(inventory.RoleProvisioner) {
			continue
		}
		h.mu.Lock()
		joined := h.status.Phase == control.PhaseJoined
		hn := &hostNodes{h: h, client: h.client, binary: h.status.Binary, workdir: h.workdir}
		h.mu.Unlock()
		if !joined {
			return fmt.Errorf("provision: provisioner host %s did not join", h.inv.Name)
		}
		hosts = append(hosts, hn)
	}
	if len(hosts) == 0 {
		return errors.New("provision: a distribution was given but the inventory has no provisioner host")
	}
	var file payload.File
	if p.Archive != "" {
		var err error
		if file, err = payload.HashFile(p.Archive); err != nil {
			return fmt.Errorf("provision: %w", err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, hn := range hosts {
		g.Go(func() error {
			var err error
			name := string(hn.h.inv.Name)
			if p.Archive != "" {
				c.provisionLog(name, "pushing "+p.Archive)
				res, err := payload.PushFile(gctx, hn.client, file, hn.workdir, "distributions", nil)
				if err != nil {
					return err
				}
				hn.archive = res.RemotePath
			}
			if p.TeamDir != "" {
				res, err := payload.PushTree(gctx, hn.client, p.TeamDir, hn.workdir, "teams")
				if err != nil {
					return err
				}
				hn.team = res.RemoteDir
			}
			if hn.plugins, err = c.pushPlugins(gctx, hn); err != nil {
				return err
			}
			req := provision.PrepareRequest{Cluster: c.cfg.Inventory.Cluster, Workdir: hn.workdir,
				RunAs: hn.h.inv.RunAs, Nodes: hn.h.inv.Nodes, ClusterHosts: len(hosts)}
			if err := c.provisioner(gctx, hn, "prepare", req, &hn.prep); err != nil {
				return err
			}
			return c.state.update(func(s *State) {
				s.host(name).Nodes = &NodeRecord{Dir: hn.prep.Dir, Preserve: p.PreserveInstall}
			})
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("provision: %w", err)
	}

	// The nodes of a cluster on one host talk over its loopback interface;
	// load drivers reach their HTTP port on the host's address.
	var plan provision.HostPlan
	if len(hosts) == 1 {
		plan.TransportHost = "127.0.0.1"
	}
	for _, hn := range hosts {
		transport := hn.prep.NetworkHost
		if plan.TransportHost != "" {
			transport = plan.TransportHost
		}
		for i := range hn.prep.Nodes {
			spec := &hn.prep.Nodes[i]
			spec.Name = fmt.Sprintf("%s-node-%d", hn.h.inv.Name, i)
			plan.MasterNodes = append(plan.MasterNodes, spec.Name)
			plan.SeedHosts = append(plan.SeedHosts, net.JoinHostPort(transport, strconv.Itoa(spec.TransportPort)))
			plan.ClusterNodes++
		}
	}
	c.provisionLog("", fmt.Sprintf("starting %d node(s) on %d provisioner host(s), car %s", plan.ClusterNodes, len(hosts), p.Car))
	g, gctx = errgroup.WithContext(ctx)
	for _, hn := range hosts {
		g.Go(func() error {
			hp := plan
			hp.Nodes = hn.prep.Nodes
			req := provision.StartRequest{Archive: hn.archive, URL: p.URL, SHA512: p.SHA512, Engine: p.Engine, Version: p.Version, Workdir: hn.workdir,
				Team: hn.team, Car: p.Car, CarParams: p.CarParams, RuntimeJDK: p.RuntimeJDK, RunAs: hn.h.inv.RunAs,
				Dir: hn.prep.Dir, Cluster: c.cfg.Inventory.Cluster, NetworkHost: hn.prep.NetworkHost, Plan: hp, Plugins: hn.plugins, Telemetry: p.Telemetry,
				Health: p.Health, TimeoutSeconds: int(p.Timeout / time.Second)}
			if err := c.provisioner(gctx, hn, "start", req, &hn.started); err != nil {
				return err
			}
			return c.state.update(func(s *State) { s.host(string(hn.h.inv.Name)).Nodes.Nodes = hn.started.Nodes })
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	var nodes []control.NodeStatus
	for _, hn := range hosts {
		for _, n := range hn.started.Nodes {
			nodes = append(nodes, control.NodeStatus{Host: string(hn.h.inv.Name), Name: n.Name, HTTP: n.HTTP, PID: n.PID,
				Engine: hn.started.Engine, Version: hn.started.Version, JDK: hn.started.JDK})
		}
	}
	c.mu.Lock()
	c.nodes = nodes
	c.mu.Unlock()
	c.wg.Add(1)
	go c.watchNodes()
	c.provisionLog("", fmt.Sprintf("cluster %s: %d node(s) of %s %s are %s", c.cfg.Inventory.Cluster, len(nodes),
		hosts[0].started.Engine, hosts[0].started.Version, orDefault(p.Health, "green")))
	return nil
}

// pushPlugins pushes the plugin zips of this machine to a host and
// returns the plugins with their sources on the host.
func (c *Coordinator) pushPlugins(ctx context.Context, hn *hostNodes) ([]provision.Plugin, error) {
	var out []provision.Plugin
	for _, pl := range c.cfg.Provision.Plugins {
		u, err := url.Parse(pl.Source)
		if err != nil || u.Scheme != "file" {
			out = append(out, pl)
			continue
		}
		f, err := payload.HashFile(u.Path)
		if err != nil {
			return nil, fmt.Errorf("plugin %s: %w", pl.Name, err)
		}
		res, err := payload.PushFile(ctx, hn.client, f, hn.workdir, "plugins", nil)
		if err != nil {
			return nil, err
		}
		pl.Source = (&url.URL{Scheme: "file", Path: res.RemotePath}).String()
		out = append(out, pl)
	}
	return out, nil
}

// provisioner runs "rally provisioner <cmd>" on a host with req as JSON on
// stdin and decodes its JSON answer into res; its progress lines (stderr)
// become log events of the host. A failure quotes the command's last lines.
func (c *Coordinator) provisioner(ctx context.Context, hn *hostNodes, cmd string, req, res any) error {
	name := string(hn.h.inv.Name)
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	proc, err := hn.client.Start(ctx, remote.ShellQuote(hn.binary)+" provisioner "+cmd)
	if err != nil {
		return fmt.Errorf("%s: provisioner %s: %w", name, cmd, err)
	}
	go func() {
		_, _ = proc.Stdin.Write(body)
		proc.Stdin.Close()
	}()
	var out bytes.Buffer
	var lines []string
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _, _ = io.Copy(&out, proc.Stdout) }()
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(proc.Stderr)
		sc.Buffer(make([]byte, 4096), 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			c.provisionLog(name, sc.Text())
		}
	}()
	wg.Wait()
	if err := proc.Wait(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: provisioner %s: %w", name, cmd, ctx.Err())
		}
		marker := "rally provisioner " + cmd + ": "
		return fmt.Errorf("%s: %s", name, strings.TrimPrefix(strings.Join(lastLines(lines, marker, 40), "\n"), marker))
	}
	if err := json.Unmarshal(out.Bytes(), res); err != nil {
		return fmt.Errorf("%s: provisioner %s: answer: %w", name, cmd, err)
	}
	return nil
}

// lastLines keeps the error and what follows it: the lines from the last
// that starts with marker on, else the last n.
func lastLines(lines []string, marker string, n int) []string {
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], marker) {
			return lines[i:]
		}
	}
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

// provisionLog publishes a line of provisioning progress.
func (c *Coordinator) provisionLog(host, line string) {
	c.log.Info("provision", "host", host, "line", line)
	c.events.publish(control.Event{Time: time.Now(), Kind: control.EventProvision, Host: host, Text: line})
}

// targetHosts are the provisioned nodes' HTTP addresses, as
// --target-hosts takes them; empty when no node was provisioned.
func (c *Coordinator) targetHosts() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var hosts []string
	for _, n := range c.nodes {
		hosts = append(hosts, n.HTTP)
	}
	return strings.Join(hosts, ",")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// sampleHosts starts "rally provisioner sample" on every provisioner host
// that runs nodes: the host's worker binary samples the nodes' processes
// and the host from /proc until its stdin closes. The function it returns
// closes them and collects each host's summary; a host whose sampler
// failed is named in the error and left out.
func (c *Coordinator) sampleHosts(ctx context.Context) func(context.Context) (map[string]telemetry.Summary, error) {
	type sampling struct {
		host string
		proc *remote.Process
		out  bytes.Buffer
		errs bytes.Buffer
		done chan struct{}
	}
	dirs := map[string]string{}
	c.state.mu.Lock()
	for _, r := range c.state.st.Hosts {
		if r.Nodes != nil && r.Nodes.Dir != "" {
			dirs[r.Name] = r.Nodes.Dir
		}
	}
	c.state.mu.Unlock()
	var ss []*sampling
	for _, h := range c.hosts {
		name := string(h.inv.Name)
		h.mu.Lock()
		client, binary := h.client, h.status.Binary
		h.mu.Unlock()
		if dirs[name] == "" || client == nil || binary == "" {
			continue
		}
		cmd := fmt.Sprintf("%s provisioner sample --dir %s", remote.ShellQuote(binary), remote.ShellQuote(dirs[name]))
		// Not ctx: the sampling ends when stop closes its stdin.
		proc, err := client.Start(context.Background(), cmd)
		if err != nil {
			c.log.Warn("host telemetry not started", "host", name, "err", err)
			continue
		}
		s := &sampling{host: name, proc: proc, done: make(chan struct{})}
		go func() {
			defer close(s.done)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = io.Copy(&s.errs, proc.Stderr) }()
			_, _ = io.Copy(&s.out, proc.Stdout)
			wg.Wait()
		}()
		ss = append(ss, s)
	}
	if len(ss) == 0 {
		return nil
	}
	return func(ctx context.Context) (map[string]telemetry.Summary, error) {
		out := map[string]telemetry.Summary{}
		var errs []error
		for _, s := range ss {
			s.proc.Stdin.Close()
		}
		for _, s := range ss {
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				s.proc.Kill()
				<-s.done
			}
			err := s.proc.Wait()
			var sum telemetry.Summary
			if jerr := json.Unmarshal(s.out.Bytes(), &sum); jerr != nil {
				errs = append(errs, fmt.Errorf("%s: sampling: %v (%v): %s", s.host, jerr, err, strings.TrimSpace(s.errs.String())))
				continue
			}
			out[s.host] = sum
		}
		return out, errors.Join(errs...)
	}
}

// nodeWatchInterval is how often the provisioned nodes are asked how
// they are, for rally status and the TUI.
const nodeWatchInterval = 3 * time.Second

// watchNodes reads the provisioned cluster's health and each node's heap
// and CPU every few seconds until the coordinator ends.
func (c *Coordinator) watchNodes() {
	defer c.wg.Done()
	client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1}, Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	t := time.NewTicker(nodeWatchInterval)
	defer t.Stop()
	for {
		c.pollNodes(client)
		select {
		case <-c.life.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Coordinator) pollNodes(client *http.Client) {
	c.mu.Lock()
	var addrs []string
	for _, n := range c.nodes {
		addrs = append(addrs, n.HTTP)
	}
	c.mu.Unlock()
	var health struct {
		Status string `json:"status"`
	}
	var stats struct {
		Nodes map[string]struct {
			Name string `json:"name"`
			JVM  struct {
				Mem struct {
					HeapUsed int64 `json:"heap_used_in_bytes"`
					HeapMax  int64 `json:"heap_max_in_bytes"`
				} `json:"mem"`
			} `json:"jvm"`
			Process struct {
				CPU struct {
					Percent int `json:"percent"`
				} `json:"cpu"`
			} `json:"process"`
		} `json:"nodes"`
	}
	// The first node that answers speaks for the cluster.
	for _, a := range addrs {
		if getJSON(c.life, client, "http://"+a+"/_cluster/health", &health) == nil &&
			getJSON(c.life, client, "http://"+a+"/_nodes/stats/jvm,process", &stats) == nil {
			break
		}
		health.Status = ""
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.nodes {
		n := &c.nodes[i]
		n.Health, n.HeapUsed, n.HeapMax, n.CPUPercent = "", 0, 0, 0
		for _, s := range stats.Nodes {
			if s.Name == n.Name && health.Status != "" {
				n.Health, n.HeapUsed, n.HeapMax, n.CPUPercent = health.Status, s.JVM.Mem.HeapUsed, s.JVM.Mem.HeapMax, s.Process.CPU.Percent
				n.Checked = now
			}
		}
	}
}

func getJSON(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(v)
}
