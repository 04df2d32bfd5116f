package e2e

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"rally/control"
	"rally/lab"
	"rally/provision/plugintest"
	"rally/report"
)

// nodesDir is where a lab host keeps its nodes: its rally workdir is under
// root's home, which the nodes' user cannot reach, so they live under the
// host's own /tmp.
const nodesDir = "/tmp/rally-nodes"

// javac compiles the test plugin (scripts/deps.sh's JDK 17).
const javac = "/usr/lib/jvm/java-17-openjdk-amd64/bin/javac"

// provisionLab is a lab of 2 load drivers (h1, h2) and provisioners
// provisioner hosts (h3, ...) with nodes nodes each, which run as runAs.
func provisionLab(t *testing.T, provisioners, nodes int, runAs string) *lab.Lab {
	t.Helper()
	if runAs != "" {
		ensureNodeUser(t)
	}
	return lab.RequireOptions(t, lab.Options{Hosts: 2 + provisioners, Provisioners: provisioners, NodesPerHost: nodes, RunAs: runAs})
}

// TestProvisionedCluster: `rally up` with a provisioner host and a real
// distribution forms one 2-node cluster there (the engine's own _nodes API
// shows both nodes with the car's heap and the inventory's cluster name,
// answering HTTP on the host's address); `rally race` without
// --target-hosts indexes the whole corpus from 2 load drivers (the
// engine's _count agrees) and reports cluster and per-node figures; `rally
// down` stops the nodes, fetches their logs and leaves nothing on any host.
func TestProvisionedCluster(t *testing.T) {
	for _, e := range realEngines[:2] { // OpenSearch 2.19.1, Elasticsearch 7.17.28
		t.Run(e.name+"-"+e.version, func(t *testing.T) {
			zipPath := requireEngine(t, e)
			l := provisionLab(t, 1, 2, nodeUser)
			u := newUser(t)
			inv := l.InventoryFile()
			cluster := "lab-" + l.RunID()
			// A plugin from a zip of this machine, pushed to the host and
			// installed with the engine's own tool (esrally's flag, and
			// OpenSearch Benchmark's name for it).
			dir := t.TempDir()
			plugin, _ := plugintest.Build(t, javac, plugintest.ServerJar(t, zipPath, e.name, e.version, dir), e.name, e.version, dir)
			pluginFlag := "--elasticsearch-plugins"
			if e.name == "opensearch" {
				pluginFlag = "--opensearch-plugins"
			}
			start := time.Now()
			u.must("up", "--detach", "-i", inv, "--distribution-path", zipPath, "--car", "defaults,1gheap", pluginFlag, plugin, "--telemetry", "gc")
			t.Cleanup(func() { u.rally("down", "-i", inv) })
			t.Logf("up with a %s %s cluster in %v", e.name, e.version, time.Since(start).Round(time.Millisecond))
			nodes := checkProvisioned(t, u, l, e, cluster, []string{"h3-node-0", "h3-node-1"})
			// rally status (and the TUI) show how the nodes are.
			eventually(t, 15*time.Second, "nodes' health, heap and CPU in status", func() (bool, string) {
				st := u.status()
				for _, n := range st.Nodes {
					if n.Health != "green" || n.HeapMax < 900<<20 || n.Checked.IsZero() {
						return false, fmt.Sprintf("%+v", n)
					}
				}
				return true, ""
			})
			var plugins []struct {
				Name      string `json:"name"`
				Component string `json:"component"`
			}
			getJSON(t, "http://"+nodes[0].HTTP+"/_cat/plugins?format=json", &plugins)
			if len(plugins) != 2 || plugins[0].Component != plugintest.Name || plugins[1].Component != plugintest.Name {
				t.Errorf("_cat/plugins: %+v, want %s on both nodes", plugins, plugintest.Name)
			}

			r := u.rally("race", "--track-path", "testdata/tracks/engine", "--report-format", "json",
				"--telemetry", "node-stats,segment-stats", "--telemetry-params", "node-stats-sample-interval:0.5")
			if r.code != 0 {
				t.Fatalf("race: %s", r)
			}
			race := raceJSON(t, r)
			if race.Status != "completed" || race.Pipeline != "from-distribution" || race.Car != "defaults,1gheap" ||
				strings.Join(race.Telemetry, ",") != "node-stats,segment-stats,gc" {
				t.Errorf("race: status %q (%s), pipeline %q, car %q, telemetry %q", race.Status, race.Error, race.Pipeline, race.Car, race.Telemetry)
			}
			for _, f := range []string{"node-stats.jsonl", "segment-stats.log"} {
				if st, err := os.Stat(filepath.Join(u.home, "races", race.ID, "telemetry", f)); err != nil || st.Size() == 0 {
					t.Errorf("telemetry %s: %v", f, err)
				}
			}
			hosts := checkHostRequests(t, race, "index-append", "h1", "h2")
			t.Logf("bulk requests by host: %v", hosts)
			if race.Summary.Cluster.DocCount != engineDocs {
				t.Errorf("documents in the index (race.json): %d, want %d", race.Summary.Cluster.DocCount, engineDocs)
			}
			var count struct {
				Count int `json:"count"`
			}
			getJSON(t, "http://"+nodes[0].HTTP+"/_count", &count)
			if count.Count != engineDocs {
				t.Errorf("the engine's _count: %d, want %d", count.Count, engineDocs)
			}
			if race.Summary.Cluster.IndexingTime <= 0 {
				t.Errorf("no cluster figures: indexing time %v", race.Summary.Cluster.IndexingTime)
			}
			checkNodeTelemetry(t, race, nodes)
			checkHostTelemetry(t, race, "h3", "h3-node-0", "h3-node-1")
			downAndCheckNodes(t, u, l, cluster, nodes)
			for _, n := range nodes { // --telemetry gc on rally up
				if gc, _ := filepath.Glob(filepath.Join(u.home, "logs", cluster, n.Host, "nodes", n.Name, "gc.log")); len(gc) != 1 {
					t.Errorf("%s: no gc.log fetched", n.Name)
				}
			}
		})
	}
}

// TestProvisionAcrossHosts: one cluster whose nodes run on 2 provisioner
// hosts. Its nodes' transport binds the hosts' addresses, so the engines
// enforce their production bootstrap checks (open files >= 65535,
// vm.max_map_count >= 262144). Where this machine allows them, the 2-node
// cluster forms across the hosts; where it does not (a hard open-files
// limit this user cannot raise), `up` refuses before unpacking anything,
// naming the limit and the fix on each host, and leaves nothing behind.
func TestProvisionAcrossHosts(t *testing.T) {
	e := realEngines[0]
	zipPath := requireEngine(t, e)
	l := provisionLab(t, 2, 1, nodeUser)
	u := newUser(t)
	inv := l.InventoryFile()
	cluster := "lab-" + l.RunID()
	r := u.rally("up", "--detach", "-i", inv, "--distribution-path", zipPath, "--car", "defaults,1gheap")
	t.Cleanup(func() { u.rally("down", "-i", inv) })
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max < 65535 {
		t.Logf("this machine's hard open-files limit is %d: a node on the network cannot pass the bootstrap checks here", lim.Max)
		out := r.stdout + r.stderr
		if r.code == 0 || !strings.Contains(out, "open-files limit is") || !strings.Contains(out, "65535") {
			t.Fatalf("up across hosts with a low open-files limit: %s", r)
		}
		for _, h := range l.Hosts() {
			assertClean(t, l, h.Name)
			assertNoNodes(t, l, h.Name)
		}
		return
	}
	if r.code != 0 {
		t.Fatalf("up: %s", r)
	}
	nodes := checkProvisioned(t, u, l, e, cluster, []string{"h3-node-0", "h4-node-0"})
	downAndCheckNodes(t, u, l, cluster, nodes)
}

// checkProvisioned checks the nodes `rally status` names, and asks the
// engine itself which nodes form the cluster.
func checkProvisioned(t *testing.T, u *user, l *lab.Lab, e engine, cluster string, want []string) []control.NodeStatus {
	t.Helper()
	st := u.status()
	if len(st.Nodes) != len(want) {
		t.Fatalf("status: %d nodes, want %d: %+v", len(st.Nodes), len(want), st.Nodes)
	}
	addr := map[string]string{}
	for _, h := range l.Hosts() {
		addr[h.Name] = h.Address
	}
	for _, n := range st.Nodes {
		if !strings.HasPrefix(n.HTTP, addr[n.Host]+":") || n.Engine != e.name || n.Version != e.version {
			t.Errorf("node %+v: want it on %s (%s), %s %s", n, n.Host, addr[n.Host], e.name, e.version)
		}
	}
	checkNodesAPI(t, st.Nodes, cluster, addr, want)
	return st.Nodes
}

// downAndCheckNodes tears the cluster down and checks that the nodes'
// logs were fetched and that no host keeps anything of rally's.
func downAndCheckNodes(t *testing.T, u *user, l *lab.Lab, cluster string, nodes []control.NodeStatus) {
	t.Helper()
	down := u.rally("down")
	if down.code != 0 || !strings.Contains(down.stdout, "node(s)") {
		t.Errorf("down: %s", down)
	}
	for _, h := range l.Hosts() {
		assertClean(t, l, h.Name)
		assertNoNodes(t, l, h.Name)
	}
	for _, n := range nodes {
		logs, _ := filepath.Glob(filepath.Join(u.home, "logs", cluster, n.Host, "nodes", n.Name, "*.log"))
		if len(logs) == 0 {
			t.Errorf("no logs of %s fetched into %s", n.Name, filepath.Join(u.home, "logs", cluster, n.Host, "nodes"))
		}
		t.Logf("%s: fetched %d log files", n.Name, len(logs))
	}
}

// checkNodesAPI asks the engine itself which nodes form the cluster.
func checkNodesAPI(t *testing.T, nodes []control.NodeStatus, cluster string, addr map[string]string, want []string) {
	t.Helper()
	var resp struct {
		ClusterName string `json:"cluster_name"`
		Nodes       map[string]struct {
			Name string `json:"name"`
			HTTP struct {
				PublishAddress string `json:"publish_address"`
			} `json:"http"`
			JVM struct {
				Mem struct {
					HeapMax int64 `json:"heap_max_in_bytes"`
				} `json:"mem"`
			} `json:"jvm"`
		} `json:"nodes"`
	}
	getJSON(t, "http://"+nodes[0].HTTP+"/_nodes/jvm,http", &resp)
	if resp.ClusterName != cluster {
		t.Errorf("_nodes: cluster %q, want %q", resp.ClusterName, cluster)
	}
	var seen []string
	for _, n := range resp.Nodes {
		seen = append(seen, n.Name)
		host, _, _ := strings.Cut(n.Name, "-node-")
		if !strings.HasPrefix(n.HTTP.PublishAddress, addr[host]+":") {
			t.Errorf("_nodes: %s answers HTTP on %s, want %s", n.Name, n.HTTP.PublishAddress, addr[host])
		}
		// 1gheap: -Xms1g -Xmx1g (the JVM reports a little less for some
		// collectors).
		if n.JVM.Mem.HeapMax < 900<<20 || n.JVM.Mem.HeapMax > 1<<30 {
			t.Errorf("_nodes: %s heap max %d, want 1 GiB", n.Name, n.JVM.Mem.HeapMax)
		}
	}
	slices.Sort(seen)
	if !slices.Equal(seen, want) {
		t.Errorf("_nodes: %v, want %v", seen, want)
	}
}

// checkNodeTelemetry checks race.json's per-node figures.
func checkNodeTelemetry(t *testing.T, race *report.Race, nodes []control.NodeStatus) {
	t.Helper()
	if len(race.Nodes) != len(nodes) {
		t.Fatalf("race.json: telemetry of %d nodes, want %d: %+v", len(race.Nodes), len(nodes), race.Nodes)
	}
	for i, n := range race.Nodes {
		if n.Name != nodes[i].Name && n.Name != nodes[len(nodes)-1-i].Name {
			t.Errorf("race.json: telemetry of node %q, not one of ours", n.Name)
		}
		if n.CPUTime == nil || *n.CPUTime <= 0 || n.CPUPercent == nil || *n.CPUPercent <= 0 {
			t.Errorf("race.json: node %s has no CPU figures: %+v", n.Name, n)
		}
		// A node that holds no shard of the small corpus may well not
		// collect during the race: its figures are there, maybe zero.
		if !n.GCAvailable {
			t.Errorf("race.json: node %s has no GC figures: %+v", n.Name, n.GCFigures)
		}
	}
}

// checkHostTelemetry checks what the provisioner host sampled from /proc
// during the race: the host's CPU and memory, and each node's processes.
func checkHostTelemetry(t *testing.T, race *report.Race, host string, nodes ...string) {
	t.Helper()
	h, ok := race.HostTelemetry[host]
	if !ok {
		t.Fatalf("race.json: no host telemetry of %s: %v", host, race.HostTelemetry)
	}
	if h.Samples < 2 || h.Host.Samples < 2 || h.Host.CPUBusyMean <= 0 || h.Host.MemoryAvailableMin == 0 {
		t.Errorf("race.json: %s's host figures: %+v", host, h.Host)
	}
	if len(h.Targets) != len(nodes) {
		t.Errorf("race.json: %s sampled %d nodes, want %v: %+v (errors %q)", host, len(h.Targets), nodes, h.Targets, h.Errors)
	}
	for _, n := range nodes {
		p, ok := h.Targets[n]
		if !ok || p.Samples < 2 || p.CPUTime <= 0 || p.RSSMax < 50<<20 || p.ThreadsMax < 10 || p.Gone {
			t.Errorf("race.json: %s's processes: %+v (found %v)", n, p, ok)
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", url, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, body)
	}
}

// assertNoNodes checks that a host runs no node and keeps no node files.
func assertNoNodes(t *testing.T, l *lab.Lab, host string) {
	t.Helper()
	files, err := l.Files(context.Background(), host, nodesDir)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s: %s is still there (%v): %q", host, nodesDir, err, files)
	}
}

// TestProvisionRefusals: a provisioner host whose SSH user is root and
// that has no run_as is refused before anything is pushed to it; a node
// with a bad setting fails `up` within its timeout, with the node's own
// words from its log, and nothing runs anywhere afterwards.
func TestProvisionRefusals(t *testing.T) {
	e := realEngines[0]
	zipPath := requireEngine(t, e)
	if os.Geteuid() != 0 {
		t.Fatalf("the lab runs as root")
	}
	t.Run("root-without-run-as", func(t *testing.T) {
		l := provisionLab(t, 1, 1, "")
		u := newUser(t)
		r := u.rally("up", "--detach", "-i", l.InventoryFile(), "--distribution-path", zipPath)
		if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "run_as") {
			t.Fatalf("up as root without run_as: %s", r)
		}
		for _, h := range l.Hosts() {
			assertClean(t, l, h.Name)
		}
	})
	t.Run("downloaded-by-the-host", func(t *testing.T) {
		l := provisionLab(t, 1, 1, nodeUser)
		u := newUser(t)
		url := serveArchive(t, l.Gateway(), zipPath)
		wrong := strings.Repeat("ab", 64)
		r := u.rally("up", "--detach", "-i", l.InventoryFile(), "--distribution-url", url, "--distribution-sha512", wrong)
		if r.code == 0 || !strings.Contains(r.stdout+r.stderr, wrong[:16]) {
			t.Fatalf("a download with a wrong sha512: %s", r)
		}
		for _, h := range l.Hosts() {
			assertClean(t, l, h.Name)
			assertNoNodes(t, l, h.Name)
		}
		// The right checksum, from URL.sha512 as both vendors publish it.
		u.must("up", "--detach", "-i", l.InventoryFile(), "--distribution-url", url)
		t.Cleanup(func() { u.rally("down", "-i", l.InventoryFile()) })
		nodes := checkProvisioned(t, u, l, e, "lab-"+l.RunID(), []string{"h3-node-0"})
		downAndCheckNodes(t, u, l, "lab-"+l.RunID(), nodes)
	})
	t.Run("bad-setting", func(t *testing.T) {
		l := provisionLab(t, 1, 1, nodeUser)
		u := newUser(t)
		params := filepath.Join(t.TempDir(), "car-params.json")
		if err := os.WriteFile(params, []byte(`{"additional_cluster_settings": {"no.such.setting": true}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		r := u.rally("up", "--detach", "-i", l.InventoryFile(), "--distribution-path", zipPath, "--car-params", params)
		took := time.Since(start)
		if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "no.such.setting") {
			t.Fatalf("up with a bad setting: %s", r)
		}
		t.Logf("up failed after %v: %s", took.Round(time.Millisecond), r)
		for _, h := range l.Hosts() {
			assertClean(t, l, h.Name)
			assertNoNodes(t, l, h.Name)
		}
	})
}

// serveArchive serves a distribution and its .sha512 on the lab's bridge
// address, where the lab hosts reach this machine.
func serveArchive(t *testing.T, gateway, archive string) string {
	t.Helper()
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512(data)
	name := filepath.Base(archive)
	l, err := net.Listen("tcp", net.JoinHostPort(gateway, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/" + name:
			w.Write(data)
		case "/" + name + ".sha512":
			io.WriteString(w, hex.EncodeToString(sum[:])+"  "+name+"\n")
		default:
			http.NotFound(w, r)
		}
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String() + "/" + name
}

// TestProvisionedCoordinatorKilled: the nodes outlive a coordinator killed
// with -9 (they run detached), and `rally down -i` stops them from what
// the state file recorded, fetches their logs and leaves every host clean.
func TestProvisionedCoordinatorKilled(t *testing.T) {
	e := realEngines[0]
	zipPath := requireEngine(t, e)
	l := provisionLab(t, 1, 1, nodeUser)
	u := newUser(t)
	inv := l.InventoryFile()
	u.must("up", "--detach", "-i", inv, "--distribution-path", zipPath)
	t.Cleanup(func() { u.rally("down", "-i", inv) })
	nodes := checkProvisioned(t, u, l, e, "lab-"+l.RunID(), []string{"h3-node-0"})
	if err := syscall.Kill(coordinatorPID(t, u), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status string `json:"status"`
	}
	getJSON(t, "http://"+nodes[0].HTTP+"/_cluster/health", &health)
	if health.Status != "green" {
		t.Errorf("the node after the coordinator's crash: %s", health.Status)
	}
	r := u.must("down", "-i", inv)
	if !strings.Contains(r.stdout, "h3: stopped 0 worker(s) and 1 node(s)") && !strings.Contains(r.stdout, "h3: stopped 1 worker(s) and 1 node(s)") {
		t.Errorf("down -i: %s", r)
	}
	for _, h := range l.Hosts() {
		assertClean(t, l, h.Name)
		assertNoNodes(t, l, h.Name)
	}
	logs, _ := filepath.Glob(filepath.Join(u.home, "logs", "lab-"+l.RunID(), "h3", "nodes", "h3-node-0", "*.log"))
	if len(logs) == 0 {
		t.Errorf("the node's logs were not fetched")
	}
}
