package provision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ClusterOptions describe the nodes to install and start on this host
// from a distribution and a car: esrally's from-distribution pipeline for
// a race without a cluster, and (per host) what a provisioner host does.
type ClusterOptions struct {
	// Archive is the distribution (zip or tar.gz) on this host.
	Archive string
	// Team is where the car comes from (DefaultTeam when nil); Car is the
	// car and its mixins ("defaults,4gheap"); CarParams override its
	// variables.
	Team      *Team
	Car       string
	CarParams map[string]any
	// RuntimeJDK is the Java major version to run on (esrally's
	// --runtime-jdk); zero means the archive's bundled JDK, else the lowest
	// suitable one found on this host.
	RuntimeJDK int
	// JDKRoots are where to look for JDKs (DefaultJDKRoots when nil).
	JDKRoots []string
	// RunAs is the user the nodes run as; required when this process runs
	// as root (both engines refuse root).
	RunAs string
	// Dir holds everything of this cluster on this host: each node's
	// install, data, logs and PID file, under Dir/<node name>/.
	Dir string
	// Name is the cluster's name (cluster.name); Nodes how many nodes to
	// start (default 1).
	Name  string
	Nodes int
	// Health is the cluster health to wait for (default green); Timeout
	// bounds the wait for every node (default 3 min).
	Health  string
	Timeout time.Duration
	// NetworkHost is the address the nodes bind and publish, HTTP and
	// transport alike (default 127.0.0.1). On a provisioner host it is the
	// host's address that the other hosts reach.
	NetworkHost string
	// Plan, when set, fixes this host's nodes (names and ports) and the
	// cluster they join across hosts (seed hosts, master nodes, node count);
	// Nodes is then ignored. Nil means a cluster of Nodes nodes on this host
	// alone, named <Name>-node-<i>, on ports found free here.
	Plan *HostPlan
	// Plugins are installed into every node's install with the
	// distribution's plugin tool, before the car is rendered (so a car's
	// templates can override a plugin's configuration files).
	Plugins []Plugin
	// Telemetry are the devices that change how the nodes' JVMs start
	// (gc, jfr).
	Telemetry JavaTelemetry
	// Progress receives a line per step; nil means none.
	Progress func(string)
}

// HostPlan is this host's part of a cluster that spans hosts.
type HostPlan struct {
	Nodes []NodeSpec `json:"nodes"`
	// SeedHosts are the transport addresses (host:port) of every node of
	// the cluster; MasterNodes the names of every master-eligible node.
	SeedHosts   []string `json:"seed_hosts"`
	MasterNodes []string `json:"master_nodes"`
	// ClusterNodes is how many nodes the whole cluster has: a node is ready
	// when the cluster has them all at the wanted health.
	ClusterNodes int `json:"cluster_nodes"`
	// TransportHost, when set, is where the nodes talk to each other
	// (transport.host) instead of NetworkHost: 127.0.0.1 for a cluster
	// whose nodes are all on one host, which keeps the engines from
	// enforcing their production bootstrap checks (they do once the
	// transport binds a non-loopback address). HTTP stays on NetworkHost.
	TransportHost string `json:"transport_host,omitempty"`
}

// NodeSpec names one node of a host and its ports.
type NodeSpec struct {
	Name          string `json:"name"`
	HTTPPort      int    `json:"http_port"`
	TransportPort int    `json:"transport_port"`
}

// Cluster is nodes started on this host.
type Cluster struct {
	Name            string
	Engine, Version string
	JDK             JDK
	Nodes           []*Node
	dir             string
}

// StartCluster installs the distribution once per node, renders the car
// into each install, starts the nodes and waits until the cluster has
// every node at the wanted health. Anything wrong with the archive, the
// car, Java or the user is found before a node starts; a node that fails
// to start stops the others, and the error carries its log's last lines.
func StartCluster(ctx context.Context, o ClusterOptions) (*Cluster, error) {
	if o.Nodes <= 0 {
		o.Nodes = 1
	}
	if o.NetworkHost == "" {
		o.NetworkHost = "127.0.0.1"
	}
	if o.Health == "" {
		o.Health = "green"
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Minute
	}
	if o.Name == "" {
		o.Name = "rally"
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if err := CheckRunAs(o.RunAs, os.Geteuid()); err != nil {
		return nil, err
	}
	transport := o.NetworkHost
	if o.Plan != nil && o.Plan.TransportHost != "" {
		transport = o.Plan.TransportHost
	}
	if err := checkHostLimits(transport, "/proc"); err != nil {
		return nil, err
	}
	arch, err := InspectArchive(o.Archive, runtime.GOOS, runtime.GOARCH)
	if err != nil {
		return nil, err
	}
	team := o.Team
	if team == nil {
		if team, err = DefaultTeam(); err != nil {
			return nil, err
		}
	}
	spec := o.Car
	if spec == "" {
		spec = "defaults"
	}
	car, err := team.Car(spec, o.CarParams)
	if err != nil {
		return nil, err
	}
	roots := o.JDKRoots
	if roots == nil {
		roots = DefaultJDKRoots(os.Getenv("JAVA_HOME"))
	}
	jdk, err := ChooseJDK(arch, o.RuntimeJDK, FindJDKs(roots))
	if err != nil {
		return nil, err
	}
	c := &Cluster{Name: o.Name, Engine: arch.Engine, Version: arch.Version, JDK: jdk, dir: o.Dir}
	progress(fmt.Sprintf("%s %s from %s, car %s, Java %s", arch.Engine, arch.Version, filepath.Base(o.Archive), car.Name(), jdk))

	plan := o.Plan
	if plan == nil {
		if plan, err = LocalPlan(o.Name, o.NetworkHost, o.Nodes); err != nil {
			return nil, err
		}
	}
	for _, spec := range plan.Nodes {
		root := filepath.Join(o.Dir, spec.Name)
		n := &Node{Name: spec.Name, Engine: arch.Engine, ClusterName: o.Name,
			DataDir: filepath.Join(root, "data"), LogDir: filepath.Join(root, "logs"),
			PIDFile: filepath.Join(root, "run", "node.pid"), HTTPHost: o.NetworkHost,
			HTTPPort: spec.HTTPPort, TransportPort: spec.TransportPort,
			RunAs: o.RunAs, Env: JavaEnv(arch.Engine, arch.Version, jdk)}
		if opts := o.Telemetry.javaOpts(n.LogDir); len(opts) > 0 {
			n.Env = append(n.Env, javaOptsEnv(arch.Engine)+"="+strings.Join(opts, " "))
		}
		// Recorded before anything is unpacked, so that a later process
		// (rally down after a crash) finds every node that may run.
		c.Nodes = append(c.Nodes, n)
		if err := c.save(); err != nil {
			c.stop()
			return nil, err
		}
		if err := c.install(ctx, o, arch, car, n, root, plan); err != nil {
			c.stop()
			return nil, fmt.Errorf("%s: %w", spec.Name, err)
		}
	}
	for _, n := range c.Nodes {
		progress(fmt.Sprintf("starting %s (http 127.0.0.1:%d)", n.Name, n.HTTPPort))
		if err := n.Start(ctx); err != nil {
			c.stop()
			return nil, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	for _, n := range c.Nodes {
		if err := n.WaitReady(wctx, o.Health, plan.ClusterNodes); err != nil {
			c.stop()
			return nil, err
		}
	}
	progress(fmt.Sprintf("cluster %s is %s with %d node(s)", o.Name, o.Health, plan.ClusterNodes))
	return c, nil
}

// install unpacks the distribution for one node, renders the car into it
// and hands the node's directories to the user it runs as.
func (c *Cluster) install(ctx context.Context, o ClusterOptions, arch Archive, car *Car, n *Node, root string, plan *HostPlan) error {
	for _, d := range []string{n.DataDir, n.LogDir, filepath.Dir(n.PIDFile)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	installDir, err := Unpack(ctx, arch.Path, filepath.Join(root, "install"))
	if err != nil {
		return err
	}
	n.InstallDir = installDir
	if len(o.Plugins) > 0 {
		// The engine's Java without the telemetry's JVM options, which are
		// the node's alone.
		if err := InstallPlugins(ctx, installDir, arch.Engine, JavaEnv(arch.Engine, arch.Version, c.JDK), n.RunAs, o.Plugins); err != nil {
			return err
		}
	}
	vars := NodeVars{ClusterName: o.Name, NodeName: n.Name, NetworkHost: o.NetworkHost,
		HTTPPort: n.HTTPPort, TransportPort: n.TransportPort, DataPaths: []string{n.DataDir}, LogPath: n.LogDir,
		InstallRoot: installDir, SeedHosts: plan.SeedHosts, MasterNodes: plan.MasterNodes}
	// A full OpenSearch distribution bundles its security plugin, which
	// would demand certificates; the test archives lack it.
	if _, err := os.Stat(filepath.Join(installDir, "plugins", "opensearch-security")); err == nil {
		vars.ClusterSettings = map[string]any{"plugins.security.disabled": true}
	}
	if plan.TransportHost != "" {
		if vars.ClusterSettings == nil {
			vars.ClusterSettings = map[string]any{}
		}
		vars.ClusterSettings["transport.host"] = plan.TransportHost
	}
	if _, err := car.Render(installDir, arch.Engine, arch.Version, vars); err != nil {
		return err
	}
	if n.RunAs != "" && os.Geteuid() == 0 {
		if err := PrepareForUser(installDir, n.RunAs, "config", "logs", n.DataDir, n.LogDir, filepath.Dir(n.PIDFile)); err != nil {
			return err
		}
	}
	return nil
}

// TargetHosts are the nodes' HTTP addresses as --target-hosts takes them.
func (c *Cluster) TargetHosts() string {
	var hosts []string
	for _, n := range c.Nodes {
		hosts = append(hosts, n.HTTPAddr())
	}
	return strings.Join(hosts, ",")
}

// Stop stops every node (SIGTERM, then SIGKILL after grace), copies each
// node's logs into logsTo (when set) and removes the cluster's directory
// unless preserve is set. It returns the first failure, after trying
// everything.
func (c *Cluster) Stop(ctx context.Context, grace time.Duration, logsTo string, preserve bool) error {
	var errs []error
	for _, n := range c.Nodes {
		if err := n.Stop(ctx, grace); err != nil {
			errs = append(errs, err)
		}
		if logsTo != "" {
			if err := copyDir(n.LogDir, filepath.Join(logsTo, n.Name)); err != nil {
				errs = append(errs, fmt.Errorf("%v: fetch logs: %w", n, err))
			}
		}
	}
	if !preserve && c.dir != "" {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stop ends whatever started after a failure and removes the installs
// and data; the nodes' logs stay for the user to read (the error quotes
// their last lines).
func (c *Cluster) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, n := range c.Nodes {
		_ = n.Stop(ctx, 10*time.Second)
	}
	if c.dir == "" {
		return
	}
	entries, _ := os.ReadDir(c.dir)
	for _, e := range entries {
		for _, sub := range []string{"install", "data", "run"} {
			_ = os.RemoveAll(filepath.Join(c.dir, e.Name(), sub))
		}
	}
}

// Node ports are taken below the kernel's ephemeral range (32768 and up
// on Linux), where the source ports of outgoing connections and the
// ports of listeners bound to port 0 come from: a port found free there
// could be taken by any connection before the node binds it. Below it,
// only a process that asks for that port by number competes.
const (
	nodePortLow  = 20000
	nodePortHigh = 32768
)

// nodePortNext is where the next search for node ports starts; it moves on
// so that clusters started one after another do not probe the same ports.
var nodePortNext atomic.Int64

func init() { nodePortNext.Store(int64(nodePortLow + rand.IntN(nodePortHigh-nodePortLow))) }

// freePorts returns n TCP ports of host that were free a moment ago,
// from below the ephemeral range.
func freePorts(host string, n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for tries := 0; len(ports) < n && tries < nodePortHigh-nodePortLow; tries++ {
		p := int(nodePortNext.Add(1)-1)%(nodePortHigh-nodePortLow) + nodePortLow
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		ls = append(ls, l)
		ports = append(ports, p)
	}
	if len(ports) < n {
		return nil, fmt.Errorf("find %d free ports between %d and %d on %s: only %d", n, nodePortLow, nodePortHigh, host, len(ports))
	}
	return ports, nil
}

// copyDir copies the regular files of dir (recursively) into to.
func copyDir(dir, to string) error {
	return filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// NodesDir is where the nodes of a cluster named name live on this host:
// under preferred (~/.rally/local), unless the user the nodes run as
// cannot reach it (root's home is 0700), then under the system's
// temporary directory, which every user can reach.
func NodesDir(preferred, name, runAs string) string {
	dir := filepath.Join(preferred, name)
	if runAs == "" || os.Geteuid() != 0 {
		return dir
	}
	uid, gid, err := lookupIDs(runAs)
	if err != nil {
		return dir // StartCluster names the unknown user
	}
	if err := os.MkdirAll(preferred, 0o755); err == nil && checkReachable(preferred, uid, gid) == nil {
		return dir
	}
	return filepath.Join(os.TempDir(), "rally-nodes", name)
}
