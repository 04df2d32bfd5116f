package provision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The fake engine is this test binary started by a bin/elasticsearch
// script: it takes the engines' -p, answers the two requests Node makes,
// and behaves as FAKE_MODE says. It lets the lifecycle's corner cases (a
// node ignoring SIGTERM, a launcher with a server child) run in
// milliseconds instead of a JVM's seconds.
const (
	fakeServe    = "serve"    // answers, exits on SIGTERM
	fakeDie      = "die"      // complains about a setting and exits 1
	fakeStubborn = "stubborn" // answers, ignores SIGTERM
	fakeLauncher = "launcher" // starts the server as its child, like Elasticsearch 8+
)

// TestNodeFakeEngineProcess is the fake engine's main when the test binary
// runs as one; otherwise it does nothing.
func TestNodeFakeEngineProcess(t *testing.T) {
	mode := os.Getenv("FAKE_MODE")
	if mode == "" {
		return
	}
	os.Exit(fakeEngineMain(mode))
}

func fakeEngineMain(mode string) int {
	var pidFile string
	args := os.Args
	for i, a := range args {
		if a == "-p" && i+1 < len(args) {
			pidFile = args[i+1]
		}
	}
	logf := func(format string, a ...any) {
		f, err := os.OpenFile(os.Getenv("FAKE_LOG"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err == nil {
			fmt.Fprintf(f, format+"\n", a...)
			f.Close()
		}
	}
	switch mode {
	case fakeDie:
		logf("[ERROR] fatal exception while booting: unknown setting [fake.setting]")
		fmt.Fprintln(os.Stderr, "ERROR: fake died while starting up")
		return 1
	case fakeLauncher:
		// The launcher stays in the foreground with the server as its
		// child, in the same process group.
		cmd := exec.Command(os.Args[0], os.Args[1:]...)
		cmd.Env = append(os.Environ(), "FAKE_MODE="+fakeServe)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		signal.Ignore(syscall.SIGTERM)
		if err := cmd.Run(); err != nil {
			return 1
		}
		return 0
	}
	if mode == fakeStubborn {
		signal.Ignore(syscall.SIGTERM)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("FAKE_PORT"))
	if err != nil {
		logf("[ERROR] bind: %v", err)
		return 1
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		logf("[ERROR] pid file: %v", err)
		return 1
	}
	logf("[INFO] started")
	term := make(chan os.Signal, 1)
	if mode != fakeStubborn { // Notify would undo the Ignore
		signal.Notify(term, syscall.SIGTERM)
	}
	go func() {
		<-term
		os.Remove(pidFile)
		os.Exit(0)
	}()
	mux := http.NewServeMux()
	mux.HandleFunc("/_cluster/health", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"status":"green","timed_out":false}`)
	})
	mux.HandleFunc("/_nodes/_local", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"nodes":{"x1":{"name":%q,"version":"0.0.1","modules":[{"classname":"org.elasticsearch.fake.FakeModule"}]}}}`, os.Getenv("FAKE_NAME"))
	})
	http.Serve(l, mux)
	return 1
}

// fakeNode sets up an install whose bin/elasticsearch runs the fake engine.
func fakeNode(t *testing.T, mode string) *Node {
	t.Helper()
	runAs := requireNodeUser(t)
	base := searchableTempDir(t)
	install := filepath.Join(base, "install", "fake-1.0")
	bin := filepath.Join(install, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A copy, because the node user cannot reach the test binary's
	// private build directory.
	copyFile(t, self, filepath.Join(bin, "fake-engine"), 0o755)
	script := "#!/bin/sh\nexec \"$(dirname \"$0\")/fake-engine\" -test.run='^TestNodeFakeEngineProcess$' -- \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "elasticsearch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	n := newFakeNode(base, install, runAs, freePort(t), "n1", mode)
	dirs := []string{n.LogDir, filepath.Dir(n.PIDFile)}
	if runAs == "" {
		for _, d := range dirs {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	} else if err := PrepareForUser(install, runAs, dirs...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopForCleanup(t, n) })
	return n
}

// newFakeNode describes a fake node; a second call with the same
// arguments is what a later process would know of the same node.
func newFakeNode(base, install, runAs string, port int, name, mode string) *Node {
	logDir := filepath.Join(base, "logs")
	return &Node{
		Name:        name,
		Engine:      EngineElasticsearch,
		ClusterName: "fake",
		InstallDir:  install,
		LogDir:      logDir,
		PIDFile:     filepath.Join(base, "run", name+".pid"),
		HTTPPort:    port,
		RunAs:       runAs,
		Env: []string{
			"FAKE_MODE=" + mode, "FAKE_NAME=" + name, "FAKE_PORT=" + strconv.Itoa(port),
			"FAKE_LOG=" + filepath.Join(logDir, "fake.log"),
		},
	}
}

func copyFile(t *testing.T, from, to string, perm os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

func startReady(t *testing.T, n *Node) {
	t.Helper()
	if err := n.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := n.WaitReady(ctx, "green", 1); err != nil {
		t.Fatal(err)
	}
}

func TestNodeLifecycle(t *testing.T) {
	t.Run("starts_answers_and_stops_on_sigterm", func(t *testing.T) {
		n := fakeNode(t, fakeServe)
		startReady(t, n)
		engine, version, err := n.Version(t.Context())
		if err != nil || engine != EngineElasticsearch || version != "0.0.1" {
			t.Fatalf("Version() = %q %q %v, want elasticsearch 0.0.1", engine, version, err)
		}
		pid, err := readPIDFile(n.PIDFile)
		if err != nil {
			t.Fatal(err)
		}
		if pgid, _ := syscall.Getpgid(pid); pgid == syscall.Getpgrp() {
			t.Error("the node is in the caller's process group")
		}
		if n.RunAs != "" {
			assertRunsAs(t, pid, n.RunAs)
		}
		begin := time.Now()
		if err := n.Stop(t.Context(), 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d > 5*time.Second {
			t.Errorf("Stop took %v for a node that exits on SIGTERM", d)
		}
		assertNodeGone(t, n, pid)
	})
	t.Run("stops_launcher_and_server_child_together", func(t *testing.T) {
		n := fakeNode(t, fakeLauncher)
		startReady(t, n)
		server, err := readPIDFile(n.PIDFile)
		if err != nil {
			t.Fatal(err)
		}
		launcher := n.cmd.Process.Pid
		if server == launcher {
			t.Fatal("the PID file names the launcher, want its server child")
		}
		if err := n.Stop(t.Context(), 10*time.Second); err != nil {
			t.Fatal(err)
		}
		assertNodeGone(t, n, server)
		if err := syscall.Kill(launcher, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("launcher %d still there (%v)", launcher, err)
		}
	})
	t.Run("kills_a_node_that_ignores_sigterm_after_grace", func(t *testing.T) {
		n := fakeNode(t, fakeStubborn)
		startReady(t, n)
		pid, _ := readPIDFile(n.PIDFile)
		const grace = 300 * time.Millisecond
		begin := time.Now()
		if err := n.Stop(t.Context(), grace); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d < grace {
			t.Errorf("Stop returned after %v, before the grace of %v", d, grace)
		}
		assertNodeGone(t, n, pid)
	})
	t.Run("node_that_dies_fails_wait_ready_with_its_log", func(t *testing.T) {
		n := fakeNode(t, fakeDie)
		n.ClusterName = "" // the main log is then <engine>.log: point FAKE_LOG there
		n.Env = append(n.Env, "FAKE_LOG="+filepath.Join(n.LogDir, "elasticsearch.log"))
		if err := n.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		err := n.WaitReady(ctx, "green", 1)
		if err == nil || ctx.Err() != nil {
			t.Fatalf("WaitReady = %v (context %v), want an early exit", err, ctx.Err())
		}
		for _, want := range []string{"exited before it was green", "unknown setting [fake.setting]", "fake died while starting up"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q:\n%v", want, err)
			}
		}
	})
	t.Run("another_value_stops_it_through_the_pid_file", func(t *testing.T) {
		n := fakeNode(t, fakeServe)
		startReady(t, n)
		pid, _ := readPIDFile(n.PIDFile)
		later := newFakeNode(filepath.Dir(n.LogDir), n.InstallDir, n.RunAs, n.HTTPPort, n.Name, fakeServe)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := later.WaitReady(ctx, "green", 1); err != nil {
			t.Fatal(err)
		}
		if err := later.Stop(ctx, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		assertNodeGone(t, n, pid)
		if err := n.Stop(ctx, time.Second); err != nil {
			t.Errorf("stopping a node already stopped: %v", err)
		}
	})
	t.Run("stale_pid_file_is_neither_obeyed_nor_signalled", func(t *testing.T) {
		n := fakeNode(t, fakeServe)
		// This test process is alive but is not the node.
		if err := os.WriteFile(n.PIDFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := n.Stop(t.Context(), time.Second); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(n.PIDFile); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale PID file kept: %v", err)
		}
		if err := os.WriteFile(n.PIDFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			t.Fatal(err)
		}
		startReady(t, n)
		if pid, _ := readPIDFile(n.PIDFile); pid == os.Getpid() {
			t.Error("the stale PID file was not replaced")
		}
	})
	t.Run("another_node_on_the_port_is_not_taken_for_this_one", func(t *testing.T) {
		other := fakeNode(t, fakeServe)
		other.Name = "other"
		other.Env = append(other.Env, "FAKE_NAME=other")
		startReady(t, other)
		n := fakeNode(t, fakeServe)
		n.HTTPPort = other.HTTPPort
		n.Env = append(n.Env, "FAKE_PORT="+strconv.Itoa(other.HTTPPort))
		if err := n.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		if err := n.WaitReady(ctx, "green", 1); err == nil {
			t.Fatal("WaitReady took the other node for this one")
		}
	})
}

func TestNodeStartRefuses(t *testing.T) {
	valid := func() *Node {
		return &Node{Name: "n1", Engine: EngineElasticsearch, InstallDir: t.TempDir(), LogDir: t.TempDir(), PIDFile: "n1.pid", HTTPPort: 9200, RunAs: "nobody"}
	}
	cases := []struct {
		name   string
		change func(*Node)
		want   string
		root   bool // only meaningful when the test runs as root
	}{
		{"root_without_a_user", func(n *Node) { n.RunAs = "" }, "can not run elasticsearch as root", true},
		{"root_by_name", func(n *Node) { n.RunAs = "root" }, "can not run elasticsearch as root", true},
		{"opensearch_as_root", func(n *Node) { n.RunAs, n.Engine = "", EngineOpenSearch }, "can not run opensearch as root", true},
		{"no_name", func(n *Node) { n.Name = "" }, "no node name", false},
		{"unknown_engine", func(n *Node) { n.Engine = "solr" }, `engine "solr"`, false},
		{"port_out_of_range", func(n *Node) { n.HTTPPort = 70000 }, "out of range", false},
		{"no_pid_file", func(n *Node) { n.PIDFile = "" }, "no PID file", false},
		{"no_start_script", func(n *Node) {}, "bin/elasticsearch", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.root && os.Geteuid() != 0 {
				t.Skip("refusing root needs a test that runs as root")
			}
			n := valid()
			c.change(n)
			err := n.Start(t.Context())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Start = %v, want an error with %q", err, c.want)
			}
		})
	}
}

func TestNodeWaitReadyArguments(t *testing.T) {
	n := &Node{Name: "n1", HTTPPort: 1}
	for _, c := range []struct {
		health string
		nodes  int
	}{{"red", 1}, {"", 1}, {"green", 0}} {
		if err := n.WaitReady(t.Context(), c.health, c.nodes); err == nil {
			t.Errorf("WaitReady(%q, %d) accepted", c.health, c.nodes)
		}
	}
}

func TestNodeParseNodesLocal(t *testing.T) {
	cases := []struct {
		name, body string
		want       nodeInfo
		err        bool
	}{
		{"elasticsearch", `{"nodes":{"a":{"name":"n1","version":"8.17.0","modules":[{"classname":"org.elasticsearch.transport.netty4.Netty4Plugin"}]}}}`,
			nodeInfo{Name: "n1", Engine: EngineElasticsearch, Version: "8.17.0"}, false},
		{"opensearch", `{"nodes":{"a":{"name":"n2","version":"2.19.1","modules":[{"classname":"org.opensearch.transport.Netty4ModulePlugin"}]}}}`,
			nodeInfo{Name: "n2", Engine: EngineOpenSearch, Version: "2.19.1"}, false},
		{"two_nodes", `{"nodes":{"a":{"name":"x","version":"1"},"b":{"name":"y","version":"1"}}}`, nodeInfo{}, true},
		{"no_modules", `{"nodes":{"a":{"name":"x","version":"1"}}}`, nodeInfo{}, true},
		{"not_json", `<html>`, nodeInfo{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseNodesLocal([]byte(c.body))
			if (err != nil) != c.err || got != c.want {
				t.Errorf("parseNodesLocal = %+v, %v; want %+v, error %v", got, err, c.want, c.err)
			}
		})
	}
}

func TestNodeLogTail(t *testing.T) {
	dir := t.TempDir()
	n := &Node{Name: "n1", Engine: EngineOpenSearch, LogDir: dir}
	if got := n.LogTail(5); !strings.Contains(got, "nothing logged") {
		t.Errorf("LogTail with no logs = %q", got)
	}
	var lines []string
	for i := range 30 {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	if err := os.WriteFile(filepath.Join(dir, "opensearch.log"), []byte(strings.Join(lines, "\n")+"\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := n.LogTail(3)
	want := "==> " + filepath.Join(dir, "opensearch.log") + " <==\nline 27\nline 28\nline 29\n"
	if got != want {
		t.Errorf("LogTail(3) = %q, want %q", got, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "n1-console.log"), []byte("Error: could not find java"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := n.LogTail(100); !strings.Contains(got, "line 0\n") || !strings.HasSuffix(got, "n1-console.log <==\nError: could not find java\n") {
		t.Errorf("LogTail(100) = %q", got)
	}
}

func TestNodeTailFileLongFile(t *testing.T) {
	// Longer than the window read, so the first line read is cut.
	p := filepath.Join(t.TempDir(), "big.log")
	line := strings.Repeat("x", 1000) + "\n"
	if err := os.WriteFile(p, []byte(strings.Repeat(line, 400)+"last\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := tailFile(p, 2)
	if got != line+"last\n" {
		t.Errorf("tailFile(2) = %d bytes, want the last two lines", len(got))
	}
	if all := tailFile(p, 10000); strings.Count(all, "\n") > 300 || !strings.HasPrefix(all, "xxx") || len(strings.Split(all, "\n")[0]) != 1000 {
		t.Errorf("tailFile(10000) kept a cut line or too much: %d lines", strings.Count(all, "\n"))
	}
}
