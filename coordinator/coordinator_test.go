package coordinator

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"rally/control"
	"rally/home"
	"rally/inventory"
	"rally/payload"
	"rally/remote/sshtest"
)

// rallyBin is a static build of rally from this tree, made once by
// TestMain: the coordinator pushes it to the test hosts as their worker.
var rallyBin string

func TestMain(m *testing.M) {
	// Keys come from the inventory only, never from an agent of the
	// person running the tests.
	os.Unsetenv("SSH_AUTH_SOCK")
	dir, err := os.MkdirTemp("", "rally-coordinator-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rallyBin = filepath.Join(dir, "rally")
	// CGO_ENABLED=0: payload pushes static builds only; stripped, as a
	// release is built.
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", rallyBin, "rally/cmd/rally")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build rally for the test hosts: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	if rallyPack, err = packForTests(rallyBin); err != nil {
		fmt.Fprintf(os.Stderr, "compress rally for the test hosts: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// rallyPack is rallyBin gzip-compressed as payload.Packer caches it, made
// once by TestMain and put in each test's build cache: compressing 20 MiB
// in this race-instrumented process takes about 40 s (payload's own tests
// cover compressing; here the cached file goes out as in any later up).
var rallyPack string

// packForTests compresses bin with the gzip command (not instrumented)
// into the file name the Packer looks for, beside bin.
func packForTests(bin string) (string, error) {
	sum, err := payload.FileSHA256(bin)
	if err != nil {
		return "", err
	}
	out := filepath.Join(filepath.Dir(bin), payload.PackName(sum))
	f, err := os.Create(out)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var msg bytes.Buffer
	gz := exec.Command("gzip", "-c", "-6", bin)
	gz.Stdout, gz.Stderr = f, &msg
	if err := gz.Run(); err != nil {
		return "", fmt.Errorf("gzip: %v: %s", err, msg.String())
	}
	return out, f.Close()
}

// testCluster is an inventory of hosts served by real sshd processes on
// 127.0.0.1, each with its workdir in a temporary directory, and a rally
// home of its own.
type testCluster struct {
	t        *testing.T
	servers  []*sshtest.Server
	workdirs []string // absolute, one per host, in inventory order
	inv      *inventory.Inventory
	home     home.Dir
}

// newTestCluster starts n sshd servers and writes an inventory of hosts
// h1..hn for them.
func newTestCluster(t *testing.T, n int) *testCluster {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	port, err := sshtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	tc := &testCluster{t: t}
	var yaml strings.Builder
	fmt.Fprintf(&yaml, "cluster: test\ncoordinator:\n  port: %d\nhosts:\n", port)
	for i := range n {
		s := sshtest.Start(t, sshtest.Options{})
		wd := filepath.Join(base, fmt.Sprintf("h%d", i+1), "rally")
		tc.servers = append(tc.servers, s)
		tc.workdirs = append(tc.workdirs, wd)
		fmt.Fprintf(&yaml, "  - name: h%d\n    address: 127.0.0.1\n    roles: [load-driver]\n    workdir: %q\n", i+1, wd)
		fmt.Fprintf(&yaml, "    ssh:\n      user: %q\n      port: %d\n      identity_file: %q\n      known_hosts: %q\n",
			u.Username, s.Port, s.ClientKeyFile, s.KnownHostsFile)
	}
	file := filepath.Join(base, "hosts.yaml")
	if err := os.WriteFile(file, []byte(yaml.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if tc.inv, err = inventory.Load(file); err != nil {
		t.Fatal(err)
	}
	// A short directory: the control socket's path must fit in 108 bytes.
	dir, err := os.MkdirTemp("", "rh")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tc.home = home.Dir(dir)
	cache := tc.home.BuildCache()
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(rallyPack, filepath.Join(cache, filepath.Base(rallyPack))); err != nil {
		t.Fatal(err)
	}
	return tc
}

// start starts a coordinator for the cluster; adjust changes its Config.
// At the end of the test it is torn down and closed, and any worker still
// running from a workdir is killed.
func (tc *testCluster) start(adjust func(*Config)) *Coordinator {
	t := tc.t
	t.Helper()
	logs := &syncBuffer{}
	cfg := Config{
		Inventory:      tc.inv,
		Home:           tc.home,
		Version:        "test",
		Self:           rallyBin,
		ConnectTimeout: 10 * time.Second,
		JoinTimeout:    30 * time.Second,
		Logger:         slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if adjust != nil {
		adjust(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.Down(ctx, false)
		c.Close()
		for _, wd := range tc.workdirs {
			for _, pid := range workerProcesses(wd) {
				t.Errorf("worker %d from %s still runs after teardown: killed", pid, wd)
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if t.Failed() {
			t.Logf("coordinator log:\n%s", logs.String())
		}
	})
	return c
}

// up runs Up with a bound.
func up(t *testing.T, c *Coordinator) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return c.Up(ctx)
}

// down runs Down with a bound.
func down(t *testing.T, c *Coordinator, keepFiles bool) control.DownReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return c.Down(ctx, keepFiles)
}

// hostStatus returns the named host of the coordinator's status.
func hostStatus(t *testing.T, c *Coordinator, name string) control.HostStatus {
	t.Helper()
	for _, h := range c.Status().Hosts {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("no host %s in the status", name)
	return control.HostStatus{}
}

// stateWorkerPID returns the worker PID the state file records for host.
func (tc *testCluster) stateWorkerPID(host string) int {
	tc.t.Helper()
	st, err := ReadState(tc.home.StateFile(tc.inv.Cluster))
	if err != nil || st == nil {
		tc.t.Fatalf("state file: %v (present: %t)", err, st != nil)
	}
	for _, h := range st.Hosts {
		if h.Name == host {
			return h.WorkerPID
		}
	}
	tc.t.Fatalf("state file has no host %s", host)
	return 0
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// awaitHostPhase reads events until host reaches phase and returns that
// event; it fails the test after timeout. Every host event read on the way
// is appended to seen, when not nil.
func awaitHostPhase(t *testing.T, events <-chan control.Event, host, phase string, timeout time.Duration, seen *[]control.Event) control.Event {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("event stream ended waiting for %s to be %s", host, phase)
			}
			if ev.Kind != control.EventHost || ev.Host != host {
				continue
			}
			if seen != nil {
				*seen = append(*seen, ev)
			}
			if ev.Phase == phase {
				return ev
			}
		case <-timer.C:
			t.Fatalf("timed out after %s waiting for %s to be %s", timeout, host, phase)
		}
	}
}

// workerProcesses lists the live processes running a rally build from
// workdir's bin/, as teardown finds them on a host.
func workerProcesses(workdir string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil {
			continue
		}
		if strings.HasPrefix(exe, workdir+"/bin/rally-") && alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// alive tells whether pid runs: it exists and is not a zombie (a killed
// worker whose parent has not reaped it yet).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// syncBuffer collects the coordinator's log for a failing test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
