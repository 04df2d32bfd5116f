package provision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nodeUser is the unprivileged user real engines run as in tests
// (scripts/deps.sh creates it).
const nodeUser = "rally-node"

// realEngine is a distribution the engine tests run, from the Maven cache
// that scripts/engines.sh fills.
type realEngine struct {
	engine, version string
	archive         string // relative to ~/.m2/repository
	javaHome        string
}

const (
	java17 = "/usr/lib/jvm/java-17-openjdk-amd64"
	java25 = "/usr/lib/jvm/temurin-25-jdk-amd64"
)

var realEngines = []realEngine{
	{EngineOpenSearch, "2.19.1", "org/opensearch/distribution/integ-test-zip/opensearch/2.19.1/opensearch-2.19.1.zip", java17},
	{EngineElasticsearch, "7.17.28", "org/elasticsearch/distribution/integ-test-zip/elasticsearch/7.17.28/elasticsearch-7.17.28.zip", java17},
	{EngineElasticsearch, "8.17.0", "org/elasticsearch/distribution/integ-test-zip/elasticsearch/8.17.0/elasticsearch-8.17.0.zip", java17},
	{EngineElasticsearch, "9.2.0", "org/elasticsearch/distribution/integ-test-zip/elasticsearch/9.2.0/elasticsearch-9.2.0.zip", java25},
	{EngineOpenSearch, "3.0.0", "org/opensearch/distribution/integ-test-zip/opensearch/3.0.0/opensearch-3.0.0.zip", java25},
}

func (e realEngine) name() string { return e.engine + "-" + e.version }

// javaEnv is the variable each engine reads its JDK from (Elasticsearch
// 7.17 also accepts ES_JAVA_HOME).
func (e realEngine) javaEnv() string {
	if e.engine == EngineOpenSearch {
		return "OPENSEARCH_JAVA_HOME=" + e.javaHome
	}
	return "ES_JAVA_HOME=" + e.javaHome
}

// requireEngine finds the archive and JDK, failing with how to get them,
// or skipping when RALLY_ENGINES=skip says real engines are not wanted.
func requireEngine(t *testing.T, e realEngine) string {
	t.Helper()
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(home, ".m2", "repository", e.archive)
	var missing []string
	if _, err := os.Stat(archive); err != nil {
		missing = append(missing, "archive "+archive)
	}
	if _, err := os.Stat(filepath.Join(e.javaHome, "bin", "java")); err != nil {
		missing = append(missing, "JDK "+e.javaHome)
	}
	if len(missing) == 0 {
		return archive
	}
	msg := fmt.Sprintf("%s: missing %s; get them with: bash scripts/engines.sh", e.name(), strings.Join(missing, " and "))
	if os.Getenv("RALLY_ENGINES") == "skip" {
		t.Skip(msg + " (skipped: RALLY_ENGINES=skip)")
	}
	t.Fatal(msg + " (or set RALLY_ENGINES=skip to skip real-engine tests)")
	return ""
}

// requireNodeUser returns the user real nodes run as: nodeUser when this
// test runs as root, the current user otherwise.
func requireNodeUser(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		return ""
	}
	if _, err := user.Lookup(nodeUser); err != nil {
		t.Fatalf("user %s: %v; create it with: bash scripts/deps.sh", nodeUser, err)
	}
	return nodeUser
}

// freePort returns a loopback port nobody uses right now, from below the
// ephemeral range as StartCluster picks them (see freePorts).
func freePort(t *testing.T) int {
	t.Helper()
	ports, err := freePorts("127.0.0.1", 1)
	if err != nil {
		t.Fatal(err)
	}
	return ports[0]
}

// searchableTempDir is a temporary directory the node user can reach
// (t.TempDir's parents are 0700), removed at the end of the test.
func searchableTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rally-provision-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// engineNode unpacks a real engine, prepares it for the node user and
// writes the minimal configuration of a single-node cluster on loopback,
// plus extra lines for elasticsearch.yml / opensearch.yml.
func engineNode(t *testing.T, e realEngine, archive, runAs string, extra ...string) *Node {
	t.Helper()
	base := searchableTempDir(t)
	install, err := Unpack(t.Context(), archive, filepath.Join(base, "install"))
	if err != nil {
		t.Fatal(err)
	}
	n := &Node{
		Name:          "n1",
		Engine:        e.engine,
		ClusterName:   "rally-test",
		InstallDir:    install,
		DataDir:       filepath.Join(base, "data"),
		LogDir:        filepath.Join(base, "logs"),
		PIDFile:       filepath.Join(base, "run", "node.pid"),
		HTTPPort:      freePort(t),
		TransportPort: freePort(t),
		RunAs:         runAs,
		Env:           []string{e.javaEnv()},
	}
	writeTestConfig(t, n, e, extra...)
	if runAs != "" {
		// config/ for the keystore the engines create, logs/ and data/ of
		// the install for what jvm.options names relative to it.
		err := PrepareForUser(install, runAs, "config", "logs", "data", n.DataDir, n.LogDir, filepath.Dir(n.PIDFile))
		if err != nil {
			t.Fatal(err)
		}
	} else {
		for _, d := range []string{n.DataDir, n.LogDir, filepath.Dir(n.PIDFile), filepath.Join(install, "data")} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return n
}

// writeTestConfig writes what a single node on loopback needs. The heap
// goes into jvm.options.d rather than jvm.options: OpenSearch's jvm.options
// sets -Xms1g -Xmx1g, and every archive's jvm.options carries flags that
// differ per version (OpenSearch 3's -javaagent, the vector module), so it
// is kept and overridden, the later flag winning.
func writeTestConfig(t *testing.T, n *Node, e realEngine, extra ...string) {
	t.Helper()
	var yml strings.Builder
	fmt.Fprintf(&yml, "cluster.name: %s\nnode.name: %s\n", n.ClusterName, n.Name)
	fmt.Fprintf(&yml, "path.data: %s\npath.logs: %s\n", n.DataDir, n.LogDir)
	fmt.Fprintf(&yml, "network.host: 127.0.0.1\nhttp.port: %d\ntransport.port: %d\n", n.HTTPPort, n.TransportPort)
	yml.WriteString("discovery.type: single-node\n")
	if e.engine == EngineElasticsearch {
		// 8+ would otherwise turn on TLS and passwords at first start;
		// 7.17 would warn that security is not configured.
		yml.WriteString("xpack.security.enabled: false\n")
	}
	for _, l := range extra {
		yml.WriteString(l + "\n")
	}
	cfg := filepath.Join(n.InstallDir, "config")
	if err := os.WriteFile(filepath.Join(cfg, n.Engine+".yml"), []byte(yml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(cfg, "jvm.options.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg, "jvm.options.d", "heap.options"), []byte("-Xms512m\n-Xmx512m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEngines runs each real engine through the whole lifecycle, one
// after another (two cores do not run two JVMs well).
func TestEngines(t *testing.T) {
	runAs := requireNodeUser(t)
	ready := map[string]time.Duration{}
	t.Cleanup(func() {
		for _, e := range realEngines {
			if d, ok := ready[e.name()]; ok {
				t.Logf("start to ready: %-22s %v", e.name(), d.Round(10*time.Millisecond))
			}
		}
	})
	for _, e := range realEngines {
		t.Run(e.name(), func(t *testing.T) {
			archive := requireEngine(t, e)
			t.Run("starts_green_and_stops_without_leftovers", func(t *testing.T) {
				n := engineNode(t, e, archive, runAs)
				t.Cleanup(func() { stopForCleanup(t, n) })
				begin := time.Now()
				if err := n.Start(t.Context()); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
				defer cancel()
				if err := n.WaitReady(ctx, "green", 1); err != nil {
					t.Fatal(err)
				}
				ready[e.name()] = time.Since(begin)
				engine, version, err := n.Version(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if engine != e.engine || version != e.version {
					t.Errorf("Version() = %s %s, want %s %s", engine, version, e.engine, e.version)
				}
				// Elasticsearch 8 and 9 integ-test archives lack the
				// rest-root module: GET / answers 405, and the races of
				// e2e's TestFromDistribution detect their version without
				// it. Should an archive gain GET /, that proof is gone.
				if e.engine == EngineElasticsearch && !strings.HasPrefix(e.version, "7.") {
					resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", n.HTTPPort))
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusMethodNotAllowed {
						t.Errorf("GET / on %s: HTTP %d, want 405", e.name(), resp.StatusCode)
					}
				}
				pid, err := readPIDFile(n.PIDFile)
				if err != nil {
					t.Fatalf("no PID file once ready: %v", err)
				}
				if runAs != "" {
					assertRunsAs(t, pid, runAs)
				}
				stopped := time.Now()
				if err := n.Stop(ctx, 30*time.Second); err != nil {
					t.Fatal(err)
				}
				t.Logf("stopped in %v", time.Since(stopped).Round(10*time.Millisecond))
				assertNodeGone(t, n, pid)
			})
			t.Run("unknown_setting_fails_fast_with_the_engine_complaint", func(t *testing.T) {
				n := engineNode(t, e, archive, runAs, "rally.no.such.setting: true")
				t.Cleanup(func() { stopForCleanup(t, n) })
				if err := n.Start(t.Context()); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
				defer cancel()
				begin := time.Now()
				err := n.WaitReady(ctx, "green", 1)
				if err == nil {
					t.Fatal("WaitReady succeeded with an unknown setting")
				}
				if ctx.Err() != nil {
					t.Fatalf("WaitReady waited for its whole context instead of noticing the exit: %v", err)
				}
				if !strings.Contains(err.Error(), "unknown setting [rally.no.such.setting]") {
					t.Errorf("error does not carry the engine's complaint:\n%v", err)
				}
				t.Logf("failed after %v", time.Since(begin).Round(10*time.Millisecond))
				if err := n.Stop(ctx, 10*time.Second); err != nil {
					t.Fatal(err)
				}
				assertNodeGone(t, n, 0)
			})
		})
	}
}

// stopForCleanup stops a node a test started, failed or not.
func stopForCleanup(t *testing.T, n *Node) {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	if err := n.Stop(ctx, 20*time.Second); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// assertRunsAs checks the server process's real and effective user.
func assertRunsAs(t *testing.T, pid int, name string) {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "Uid:" {
			if f[1] != u.Uid || f[2] != u.Uid {
				t.Errorf("server pid %d runs as uid %s/%s, want %s (%s)", pid, f[1], f[2], u.Uid, name)
			}
			return
		}
	}
	t.Errorf("no Uid line in /proc/%d/status", pid)
}

// assertNodeGone checks the end state after Stop: no process whose
// command line names the install, the server pid gone, nothing listening
// on the node's ports, no PID file.
func assertNodeGone(t *testing.T, n *Node, pid int) {
	t.Helper()
	if pid > 0 {
		// A process that exited stays a zombie until its parent reaps it:
		// when the parent is this test process, its reaper goroutine may
		// lag behind Stop on a loaded machine. A zombie is gone all the
		// same; anything else gets two seconds to become one.
		deadline := time.Now().Add(2 * time.Second)
		for {
			err := syscall.Kill(pid, 0)
			if errors.Is(err, syscall.ESRCH) || isZombie(pid) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("server pid %d still there after Stop (kill 0: %v)", pid, err)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if left := processesNaming(n.InstallDir); len(left) > 0 {
		t.Errorf("processes of the node left after Stop: %v", left)
	}
	// A freed port may be taken at once by another test on this machine,
	// so a listener there is only this node if it answers with its name.
	resp, err := http.Get("http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(n.HTTPPort)) + "/_nodes/_local")
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `"name":"`+n.Name+`"`) {
			t.Errorf("%s still answers on 127.0.0.1:%d after Stop", n.Name, n.HTTPPort)
		}
	}
	if _, err := os.Stat(n.PIDFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("PID file %s still there after Stop (%v)", n.PIDFile, err)
	}
}

// processesNaming lists the live processes whose command line contains s.
func processesNaming(s string) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cmdline, []byte(s)) {
			continue
		}
		if st, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			if i := bytes.LastIndexByte(st, ')'); i > 0 && len(st) > i+2 && st[i+2] == 'Z' {
				continue
			}
		}
		out = append(out, e.Name())
	}
	return out
}

// isZombie tells whether pid has exited and waits for its parent to reap
// it.
func isZombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}
