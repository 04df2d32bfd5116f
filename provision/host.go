package provision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// LocalPlan is a cluster of n nodes on this host alone: nodes named
// <name>-node-<i> on ports of host found free now, each node a seed host
// and master-eligible.
func LocalPlan(name, host string, n int) (*HostPlan, error) {
	specs, err := FreeNodePorts(host, n)
	if err != nil {
		return nil, err
	}
	plan := &HostPlan{ClusterNodes: n}
	for i := range specs {
		specs[i].Name = fmt.Sprintf("%s-node-%d", name, i)
		plan.MasterNodes = append(plan.MasterNodes, specs[i].Name)
		plan.SeedHosts = append(plan.SeedHosts, net.JoinHostPort(host, strconv.Itoa(specs[i].TransportPort)))
	}
	plan.Nodes = specs
	return plan, nil
}

// FreeNodePorts finds an HTTP and a transport port for each of n nodes
// that bind host; the names are left for the caller to give.
func FreeNodePorts(host string, n int) ([]NodeSpec, error) {
	ports, err := freePorts(host, 2*n)
	if err != nil {
		return nil, err
	}
	specs := make([]NodeSpec, n)
	for i := range specs {
		specs[i] = NodeSpec{HTTPPort: ports[2*i], TransportPort: ports[2*i+1]}
	}
	return specs, nil
}

// clusterFile is what a cluster's directory records of it, so that
// another process (a later "rally down", after a crash) can find, stop
// and clean up its nodes.
const clusterFile = "cluster.json"

type clusterRecord struct {
	Name    string  `json:"name"`
	Engine  string  `json:"engine"`
	Version string  `json:"version"`
	JDK     JDK     `json:"jdk"`
	Nodes   []*Node `json:"nodes"`
}

// save writes the cluster's record into its directory.
func (c *Cluster) save() error {
	if c.dir == "" {
		return nil
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(clusterRecord{Name: c.Name, Engine: c.Engine, Version: c.Version, JDK: c.JDK, Nodes: c.Nodes}, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.dir, clusterFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(c.dir, clusterFile))
}

// LoadCluster reads the record StartCluster left in dir: the nodes it
// installed there, which Stop can then stop through their PID files. A
// directory without a record is os.ErrNotExist.
func LoadCluster(dir string) (*Cluster, error) {
	b, err := os.ReadFile(filepath.Join(dir, clusterFile))
	if err != nil {
		return nil, err
	}
	var r clusterRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, clusterFile), err)
	}
	for _, n := range r.Nodes {
		if n == nil {
			return nil, fmt.Errorf("%s: a node is null", filepath.Join(dir, clusterFile))
		}
	}
	return &Cluster{Name: r.Name, Engine: r.Engine, Version: r.Version, JDK: r.JDK, Nodes: r.Nodes, dir: dir}, nil
}

// Dir is the directory that holds the cluster's nodes on this host.
func (c *Cluster) Dir() string { return c.dir }

// CheckRunAs says whether nodes can run as runAs when this process runs
// with effective uid euid: root needs an unprivileged user, anyone else
// runs nodes as themselves.
func CheckRunAs(runAs string, euid int) error {
	if euid == 0 && (runAs == "" || runAs == "root") {
		return errors.New("the nodes would run as root, which Elasticsearch and OpenSearch refuse: name an unprivileged user to run them as (run_as in the inventory, --run-as on the command line)")
	}
	if runAs == "" {
		return nil
	}
	uid, _, err := lookupIDs(runAs)
	if err != nil {
		return fmt.Errorf("run as %s: %w", runAs, err)
	}
	switch {
	case uid == 0:
		return fmt.Errorf("run as %s: the user has uid 0; name an unprivileged user", runAs)
	case euid != 0 && uid != euid:
		return fmt.Errorf("run as %s: switching users needs root (this is uid %d)", runAs, euid)
	}
	return nil
}

// The provisioner host's requests: a coordinator sends them to the rally
// binary on each provisioner host ("rally provisioner prepare|start|stop",
// JSON on stdin, JSON on stdout), which calls PrepareHost, StartHost and
// StopHost. A cluster across hosts forms in two rounds: every host first
// finds ports for its nodes (prepare), then the coordinator names the
// nodes and gives every host the whole cluster's seed hosts and master
// nodes (start).

// PrepareRequest asks a host where its nodes will live and for free ports.
type PrepareRequest struct {
	Cluster string `json:"cluster"`
	// Workdir is rally's directory on the host; the nodes go under
	// Workdir/nodes/<Cluster> unless RunAs cannot reach it.
	Workdir string `json:"workdir"`
	RunAs   string `json:"run_as,omitempty"`
	// NetworkHost is the address the nodes bind and publish.
	NetworkHost string `json:"network_host"`
	Nodes       int    `json:"nodes"`
	// ClusterHosts is how many hosts the cluster spans: with more than
	// one, the nodes' transport binds NetworkHost and the host must pass
	// the engines' bootstrap checks, which PrepareHost checks first.
	ClusterHosts int `json:"cluster_hosts"`
}

// PrepareResult is a host's answer to PrepareRequest.
type PrepareResult struct {
	Dir         string     `json:"dir"`
	NetworkHost string     `json:"network_host"`
	Nodes       []NodeSpec `json:"nodes"`
}

// PrepareHost checks that nodes can run as the request's user here and
// finds ports for them. It starts and writes nothing.
func PrepareHost(req PrepareRequest) (PrepareResult, error) {
	if err := CheckRunAs(req.RunAs, os.Geteuid()); err != nil {
		return PrepareResult{}, err
	}
	if req.NetworkHost == "" || net.ParseIP(req.NetworkHost) == nil {
		return PrepareResult{}, fmt.Errorf("network host %q: want this host's IP address", req.NetworkHost)
	}
	if req.Nodes < 1 {
		return PrepareResult{}, fmt.Errorf("%d nodes: want 1 or more", req.Nodes)
	}
	if req.ClusterHosts > 1 {
		if err := checkHostLimits(req.NetworkHost, "/proc"); err != nil {
			return PrepareResult{}, err
		}
	}
	specs, err := FreeNodePorts(req.NetworkHost, req.Nodes)
	if err != nil {
		return PrepareResult{}, err
	}
	return PrepareResult{Dir: NodesDir(filepath.Join(req.Workdir, "nodes"), req.Cluster, req.RunAs),
		NetworkHost: req.NetworkHost, Nodes: specs}, nil
}

// StartRequest installs and starts a host's nodes of a cluster.
type StartRequest struct {
	// Archive is the distribution on the host; or URL (with SHA512, else
	// URL.sha512) is downloaded by the host into Workdir/distributions and
	// checked before anything is unpacked.
	Archive string `json:"archive,omitempty"`
	URL     string `json:"url,omitempty"`
	SHA512  string `json:"sha512,omitempty"`
	// Engine and Version, without Archive or URL, download the official
	// distribution for this host's OS and architecture.
	Engine  string `json:"engine,omitempty"`
	Version string `json:"version,omitempty"`
	Workdir string `json:"workdir"`
	// Team is a team directory on the host; empty means the default team.
	Team       string         `json:"team,omitempty"`
	Car        string         `json:"car"`
	CarParams  map[string]any `json:"car_params,omitempty"`
	RuntimeJDK int            `json:"runtime_jdk,omitempty"`
	RunAs      string         `json:"run_as,omitempty"`
	// Dir, Cluster and NetworkHost as PrepareHost said.
	Dir         string   `json:"dir"`
	Cluster     string   `json:"cluster"`
	NetworkHost string   `json:"network_host"`
	Plan        HostPlan `json:"plan"`
	// Plugins are installed into each node; a file:// source names a file
	// on this host.
	Plugins []Plugin `json:"plugins,omitempty"`
	// Telemetry are the devices that change how the nodes' JVMs start.
	Telemetry JavaTelemetry `json:"telemetry,omitzero"`
	Health    string        `json:"health,omitempty"`
	// Timeout bounds the wait for the cluster, in seconds.
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
}

// StartResult is what a host started.
type StartResult struct {
	Engine  string       `json:"engine"`
	Version string       `json:"version"`
	JDK     string       `json:"jdk"`
	Nodes   []NodeStatus `json:"nodes"`
}

// NodeStatus is a started node as others reach it.
type NodeStatus struct {
	Name string `json:"name"`
	// HTTP is host:port.
	HTTP string `json:"http"`
	PID  int    `json:"pid,omitempty"`
}

// StartHost installs and starts this host's nodes as req says and waits
// until the whole cluster is at the wanted health. On failure it stops
// what it started; the error carries the failed node's log tail.
func StartHost(ctx context.Context, req StartRequest, progress func(string)) (StartResult, error) {
	archive := req.Archive
	if archive == "" && req.URL == "" && req.Version != "" {
		u, err := DownloadURL(req.Engine, req.Version, runtime.GOOS, runtime.GOARCH)
		if err != nil {
			return StartResult{}, err
		}
		req.URL = u
	}
	if archive == "" {
		if req.URL == "" {
			return StartResult{}, errors.New("no distribution: want an archive on the host, a URL or a version")
		}
		archive = filepath.Join(req.Workdir, "distributions", path.Base(req.URL))
		if err := os.MkdirAll(filepath.Dir(archive), 0o755); err != nil {
			return StartResult{}, err
		}
		if req.SHA512 == "" || VerifySHA512(archive, req.SHA512) != nil {
			if progress != nil {
				progress("downloading " + req.URL)
			}
			if err := FetchVerified(ctx, req.URL, req.SHA512, archive); err != nil {
				return StartResult{}, err
			}
		}
	}
	var team *Team
	if req.Team != "" {
		t, err := LoadTeam(req.Team)
		if err != nil {
			return StartResult{}, err
		}
		team = t
	}
	plan := req.Plan
	c, err := StartCluster(ctx, ClusterOptions{Archive: archive, Team: team, Car: req.Car, CarParams: req.CarParams,
		RuntimeJDK: req.RuntimeJDK, RunAs: req.RunAs, Dir: req.Dir, Name: req.Cluster, NetworkHost: req.NetworkHost,
		Plan: &plan, Plugins: req.Plugins, Telemetry: req.Telemetry, Health: req.Health, Timeout: time.Duration(req.TimeoutSeconds) * time.Second, Progress: progress})
	if err != nil {
		return StartResult{}, err
	}
	res := StartResult{Engine: c.Engine, Version: c.Version, JDK: c.JDK.String()}
	for _, n := range c.Nodes {
		pid, _ := readPIDFile(n.PIDFile)
		res.Nodes = append(res.Nodes, NodeStatus{Name: n.Name, HTTP: n.HTTPAddr(), PID: pid})
	}
	return res, nil
}

// StopResult says what StopHost did.
type StopResult struct {
	Nodes []string `json:"nodes"`
}

// StopHost stops the nodes recorded in dir (SIGTERM, then SIGKILL after
// grace). A dir without a record (nothing was installed) is no error. It
// removes nothing: the caller fetches the logs first.
func StopHost(ctx context.Context, dir string, grace time.Duration) (StopResult, error) {
	var res StopResult
	c, err := LoadCluster(dir)
	if errors.Is(err, os.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	var errs []error
	for _, n := range c.Nodes {
		if err := n.Stop(ctx, grace); err != nil {
			errs = append(errs, err)
		}
		res.Nodes = append(res.Nodes, n.Name)
	}
	return res, errors.Join(errs...)
}

// Bootstrap checks: a node that binds or publishes a non-loopback address
// (every node of a cluster across hosts) enforces the engines' production
// checks, and refuses to start when the host's limits are lower.
const (
	minMaxMapCount = 262144
	minNoFile      = 65535
)

// checkHostLimits fails before anything is unpacked when the host's
// limits are below what a node whose transport binds a non-loopback
// address needs (the engines' bootstrap checks): the kernel's
// vm.max_map_count, and this process's open-files limit, which the nodes
// inherit once raiseNoFile lifted it as far as it may. The engine would
// fail the same way after starting, with less to say about the fix.
func checkHostLimits(transportHost, procRoot string) error {
	if ip := net.ParseIP(transportHost); ip == nil || ip.IsLoopback() {
		return nil
	}
	var problems []string
	if b, err := os.ReadFile(filepath.Join(procRoot, "sys", "vm", "max_map_count")); err == nil {
		if n, err := strconv.Atoi(string(bytes.TrimSpace(b))); err == nil && n < minMaxMapCount {
			problems = append(problems, fmt.Sprintf("vm.max_map_count is %d, want at least %d: as root, sysctl -w vm.max_map_count=%d (and in /etc/sysctl.conf to keep it)", n, minMaxMapCount, minMaxMapCount))
		}
	}
	raiseNoFile()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < minNoFile {
		problems = append(problems, fmt.Sprintf("the open-files limit is %d (hard %d) and this user cannot raise it, want at least %d: raise the hard limit for the SSH user (/etc/security/limits.conf nofile, or LimitNOFILE of the sshd service)", lim.Cur, lim.Max, minNoFile))
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("this host cannot run a node whose transport binds %s, as a cluster across hosts needs (the engines' bootstrap checks): %s", transportHost, strings.Join(problems, "; "))
}

// raiseNoFile lifts this process's open-files limit to what the engines'
// bootstrap checks demand, so that the nodes it starts inherit it. A
// process that may not raise its hard limit (not root) keeps what it
// has; the engine then names the limit itself.
func raiseNoFile() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur >= minNoFile {
		return
	}
	want := lim
	want.Cur = minNoFile
	if want.Max < minNoFile {
		want.Max = minNoFile
	}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) != nil && lim.Max > lim.Cur {
		want = syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want)
	}
}
