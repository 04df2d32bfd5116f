package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// enginesSkipEnv turns a missing engine archive or JDK into a skip when
// set to "skip".
const enginesSkipEnv = "RALLY_ENGINES"

// nodeUser is the unprivileged user real nodes run as when the tests run
// as root: Elasticsearch refuses to start as root. scripts/deps.sh creates
// it too.
const nodeUser = "rally-node"

// engineDocs is the number of documents in testdata/tracks/engine.
const engineDocs = 1000

// engine is one real distribution the engine tests start.
type engine struct {
	// version is the integ-test archive's version in the local Maven
	// repository.
	version string
	// minJava is the lowest Java feature version the version runs on.
	minJava int
}

// TestEngineElasticsearch races a small track against real Elasticsearch
// nodes, one version after another, each unpacked from its integ-test
// archive (scripts/engines.sh fetches them). Those archives lack the
// rest-root module, so GET / answers 405 and rally must learn the version
// from the nodes info API.
func TestEngineElasticsearch(t *testing.T) {
	for _, e := range []engine{{"8.17.0", 17}, {"9.2.0", 21}} {
		t.Run(e.version, func(t *testing.T) {
			zipPath, javaHome := requireEngine(t, e)
			n := startNode(t, zipPath, javaHome)

			// The archive has no GET /: what rally reports below was
			// detected without it.
			if status, body := n.get(t, "/"); status != http.StatusMethodNotAllowed {
				t.Fatalf("GET / on %s: HTTP %d %s, want 405 (the archive changed: this test no longer covers detection without GET /)", e.version, status, body)
			}

			u := newUser(t)
			r := u.rally("race", "--track-path", "testdata/tracks/engine", "--target-hosts", n.addr, "--report-format", "json")
			if r.code != 0 {
				t.Fatalf("race against Elasticsearch %s: %s\nnode log:\n%s", e.version, r, n.logTail())
			}
			race := raceJSON(t, r)
			if race.Status != "completed" || race.Error != "" {
				t.Errorf("race status %q, error %q", race.Status, race.Error)
			}
			if race.Distribution != "elasticsearch" || race.DistributionVersion != e.version {
				t.Errorf("race.json: distribution %q version %q, want elasticsearch %s", race.Distribution, race.DistributionVersion, e.version)
			}
			for _, name := range []string{"index-append", "search-kitchen"} {
				ts := taskSummary(t, race, name)
				if ts.Errors != 0 || ts.Requests == 0 {
					t.Errorf("%s: %d requests, %d errors %v", name, ts.Requests, ts.Errors, ts.ErrorsByType)
				}
			}
			if race.Summary.Cluster.DocCount != engineDocs {
				t.Errorf("report's doc count %d, want %d", race.Summary.Cluster.DocCount, engineDocs)
			}
			status, body := n.get(t, "/engine/_count")
			var count struct {
				Count int64 `json:"count"`
			}
			if err := json.Unmarshal(body, &count); status != http.StatusOK || err != nil || count.Count != engineDocs {
				t.Errorf("GET /engine/_count: HTTP %d %s, want count %d", status, body, engineDocs)
			}
		})
	}
}

// requireEngine returns the integ-test archive of e and a JDK it runs on.
// When either is missing the test fails saying how to fetch them, or is
// skipped with that message when RALLY_ENGINES=skip.
func requireEngine(t *testing.T, e engine) (zipPath, javaHome string) {
	t.Helper()
	var missing []string
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	zipPath = filepath.Join(home, ".m2", "repository", "org", "elasticsearch", "distribution", "integ-test-zip",
		"elasticsearch", e.version, "elasticsearch-"+e.version+".zip")
	if _, err := os.Stat(zipPath); err != nil {
		missing = append(missing, "the archive "+zipPath)
	}
	javaHome = findJDK(e.minJava)
	if javaHome == "" {
		missing = append(missing, fmt.Sprintf("a JDK %d or later under /usr/lib/jvm", e.minJava))
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("Elasticsearch %s cannot run here: missing %s (fetch them with: bash scripts/engines.sh)",
			e.version, strings.Join(missing, " and "))
		if os.Getenv(enginesSkipEnv) == "skip" {
			t.Skipf("%s (skipped because %s=skip)", msg, enginesSkipEnv)
		}
		t.Fatalf("%s (set %s=skip to skip tests that need real engines)", msg, enginesSkipEnv)
	}
	return zipPath, javaHome
}

// javaVersionLine is the feature version in a JDK's release file.
var javaVersionLine = regexp.MustCompile(`(?m)^JAVA_VERSION="(\d+)`)

// findJDK returns the JDK under /usr/lib/jvm with the lowest feature
// version of at least min (the one closest to what the engine was built
// for), or "" when there is none.
func findJDK(min int) string {
	dirs, _ := filepath.Glob("/usr/lib/jvm/*")
	best, bestVersion := "", 0
	for _, d := range dirs {
		if fi, err := os.Lstat(d); err != nil || !fi.IsDir() {
			continue // symbolic links name JDKs also listed under their own name
		}
		release, err := os.ReadFile(filepath.Join(d, "release"))
		if err != nil {
			continue
		}
		m := javaVersionLine.FindSubmatch(release)
		if m == nil {
			continue
		}
		v, _ := strconv.Atoi(string(m[1]))
		if _, err := os.Stat(filepath.Join(d, "bin", "java")); err != nil || v < min {
			continue
		}
		if best == "" || v < bestVersion {
			best, bestVersion = d, v
		}
	}
	return best
}

// node is one real Elasticsearch node started by a test.
type node struct {
	addr string // 127.0.0.1:port of its HTTP API
	log  string // its console output
}

// startNode unpacks the archive into a fresh directory, configures a
// single-node cluster on loopback with security off and a small heap,
// starts it in its own process group (as nodeUser when running as root),
// and waits until GET /_cluster/health answers. The node and everything
// it started are stopped when the test ends: SIGTERM to the group, SIGKILL
// after a grace period.
func startNode(t *testing.T, zipPath, javaHome string) *node {
	t.Helper()
	// Not t.TempDir: its parents are private to root, and the node's user
	// must reach this directory.
	dir, err := os.MkdirTemp("", "rally-engine-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	esHome, err := unzip(zipPath, dir)
	if err != nil {
		t.Fatalf("unpack %s: %v", zipPath, err)
	}
	httpPort, transportPort := freePort(t), freePort(t)
	for _, sub := range []string{"data", "logs", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The disk threshold is off so that a nearly full CI disk does not
	// leave the index unassigned.
	config := fmt.Sprintf(`cluster.name: rally-engine-test
node.name: node-1
path.data: %[1]s/data
path.logs: %[1]s/logs
network.host: 127.0.0.1
http.port: %[2]d
transport.port: %[3]d
discovery.type: single-node
xpack.security.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
`, dir, httpPort, transportPort)
	if err := os.WriteFile(filepath.Join(esHome, "config", "elasticsearch.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(filepath.Join(esHome, "bin", "elasticsearch"))
	cmd.Dir = esHome
	cmd.Env = []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + dir,
		"ES_JAVA_HOME=" + javaHome,
		"ES_JAVA_OPTS=-Xms256m -Xmx256m",
		"ES_TMPDIR=" + filepath.Join(dir, "tmp"),
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if os.Geteuid() == 0 {
		uid, gid := nodeUserIDs(t)
		if err := chownTree(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uid, Gid: gid}
	}
	logPath := filepath.Join(dir, "console.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Elasticsearch: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	n := &node{addr: fmt.Sprintf("127.0.0.1:%d", httpPort), log: logPath}
	t.Cleanup(func() { stopGroup(t, cmd.Process.Pid, exited) })

	start := time.Now()
	deadline := start.Add(3 * time.Minute)
	for {
		select {
		case <-exited:
			t.Fatalf("Elasticsearch exited while starting (%s)\n%s", cmd.ProcessState, n.logTail())
		default:
		}
		if status, _ := n.tryGet("/_cluster/health"); status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Elasticsearch did not answer GET /_cluster/health within %s\n%s", deadline.Sub(start), n.logTail())
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("Elasticsearch on %s (Java %s) answered after %s", n.addr, filepath.Base(javaHome), time.Since(start).Round(100*time.Millisecond))
	return n
}

// stopGroup stops the process group led by pid: SIGTERM, then SIGKILL if
// anything of it is left after a grace period. exited closes when the
// leader has been reaped; the test fails if the group outlives SIGKILL.
func stopGroup(t *testing.T, pid int, exited <-chan struct{}) {
	const grace = 30 * time.Second
	syscall.Kill(-pid, syscall.SIGTERM)
	if !groupGone(pid, exited, grace) {
		t.Logf("process group %d still running %s after SIGTERM: SIGKILL", pid, grace)
		syscall.Kill(-pid, syscall.SIGKILL)
		if !groupGone(pid, exited, 10*time.Second) {
			t.Errorf("process group %d still running after SIGKILL", pid)
		}
	}
}

// groupGone waits up to max for the leader to be reaped and then for no
// process of the group to be left.
func groupGone(pid int, exited <-chan struct{}, max time.Duration) bool {
	timeout := time.After(max)
	select {
	case <-exited:
	case <-timeout:
		return false
	}
	for {
		if err := syscall.Kill(-pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		select {
		case <-timeout:
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// nodeUserIDs returns nodeUser's uid and gid, creating the user as a
// system user without a home or login shell when it does not exist.
func nodeUserIDs(t *testing.T) (uint32, uint32) {
	t.Helper()
	u, err := osuser.Lookup(nodeUser)
	if err != nil {
		out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", nodeUser).CombinedOutput()
		if err != nil {
			t.Fatalf("useradd %s: %v: %s", nodeUser, err, out)
		}
		if u, err = osuser.Lookup(nodeUser); err != nil {
			t.Fatal(err)
		}
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return uint32(uid), uint32(gid)
}

// chownTree gives dir and everything under it to uid:gid.
func chownTree(dir string, uid, gid uint32) error {
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(uid), int(gid))
	})
}

// unzip unpacks an archive whose entries share one top directory into dir
// and returns that top directory, keeping the entries' permissions.
func unzip(zipPath, dir string) (string, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return "", err
	}
	defer zr.Close()
	top := ""
	for _, f := range zr.File {
		name := filepath.Clean(f.Name)
		if !filepath.IsLocal(name) {
			return "", fmt.Errorf("entry %q leaves the archive", f.Name)
		}
		if first, _, _ := strings.Cut(filepath.ToSlash(name), "/"); top == "" {
			top = first
		}
		target := filepath.Join(dir, name)
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return "", err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return "", err
		}
		if err := unzipFile(f, target); err != nil {
			return "", err
		}
	}
	if top == "" {
		return "", errors.New("empty archive")
	}
	return filepath.Join(dir, top), nil
}

func unzipFile(f *zip.File, target string) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	mode := f.Mode().Perm()
	if mode == 0 {
		mode = 0o644
	}
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, rc); err != nil {
		out.Close()
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	return out.Close()
}

// freePort returns a TCP port on 127.0.0.1 that nothing listened on a
// moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// tryGet sends GET path to the node; status 0 means no answer.
func (n *node) tryGet(path string) (int, []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.addr+path, nil)
	if err != nil {
		return 0, nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// get sends GET path and fails the test when the node does not answer.
func (n *node) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	status, body := n.tryGet(path)
	if status == 0 {
		t.Fatalf("GET %s on %s: %s", path, n.addr, body)
	}
	return status, body
}

// logTail returns the end of the node's console output.
func (n *node) logTail() string {
	b, _ := os.ReadFile(n.log)
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(bytes.TrimSpace(b))
}
