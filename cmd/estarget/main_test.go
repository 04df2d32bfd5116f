package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// syncBuffer is a bytes.Buffer safe to read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestHelpGolden(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--help"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	golden := filepath.Join("testdata", "help.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if out.String() != string(want) {
		t.Fatalf("--help differs from %s (run with -update if intended):\n%s", golden, out.String())
	}
	for _, must := range []string{"TEST TARGET", "NOT Elasticsearch", "Proxy mode (--upstream", "Canned mode (no --upstream)", "Fault rules", "--match"} {
		if !strings.Contains(out.String(), must) {
			t.Errorf("--help must say %q", must)
		}
	}
}

func TestBadUsageExits2(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown_flavor", []string{"--flavor", "solr"}, "flavor"},
		{"rate_out_of_range", []string{"--listen", "127.0.0.1:0", "--rate-429", "2"}, "rate_429"},
		{"stall_every_without_stall_for", []string{"--listen", "127.0.0.1:0", "--stall-every", "1s"}, "stall"},
		{"bad_version", []string{"--listen", "127.0.0.1:0", "--version", "x.y"}, "version"},
		{"unknown_flag", []string{"--colour"}, "colour"},
		{"upstream_without_scheme", []string{"--upstream", "localhost:9200"}, "upstream"},
		{"match_without_a_fault", []string{"--match", "POST */_bulk"}, "--match"},
		{"faults_not_json", []string{"--faults", "{rules"}, "--faults"},
		{"rates_of_a_rule_above_1", []string{"--rate-reset", "0.6", "--rate-truncate", "0.6"}, "must not exceed 1"},
		{"bad_method", []string{"--match", "GE-T /", "--latency", "1ms"}, "method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), tt.args, &out, &errb); code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitUsage, errb.String())
			}
			if !strings.Contains(errb.String(), tt.want) {
				t.Fatalf("stderr %q should mention %q", errb.String(), tt.want)
			}
		})
	}
}

var listening = regexp.MustCompile(`^estarget listening on (http://127\.0\.0\.1:[1-9][0-9]*)\n$`)

// waitForURL waits until out holds the listening line and returns the URL.
func waitForURL(t *testing.T, out interface{ String() string }) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no listening line on stdout: %q", out.String())
	return ""
}

func TestServesOnAFreePortUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--flavor", "opensearch", "--latency", "1ms"}, &out, &errb)
	}()
	url := waitForURL(t, &out)
	res, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `"distribution":"opensearch"`) || res.Header.Get("X-Elastic-Product") != "" {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d; stderr: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if !strings.Contains(errb.String(), "serving test target") {
		t.Fatalf("stderr log: %s", errb.String())
	}
}

// TestProxyModeWithFaultFlags runs the proxy in front of a stand-in
// engine with a rule made of the fault flags: matching requests are
// rejected before they reach the engine, the others are forwarded, and
// --faults rules come first.
func TestProxyModeWithFaultFlags(t *testing.T) {
	var seen []string
	var mu sync.Mutex
	engine := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		io.WriteString(w, `{"engine":true}`)
	}))
	defer engine.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--upstream", engine.URL, "--match", "POST */_bulk", "--rate-429", "1",
			"--faults", `{"rules":[{"path":"/first","rate_5xx":1}]}`, "--seed", "5"}, &out, &errb)
	}()
	url := waitForURL(t, &out)
	for _, tc := range []struct {
		method, path string
		status       int
	}{{"POST", "/logs/_bulk", 429}, {"GET", "/logs/_count", 200}, {"PUT", "/logs/_bulk", 200}, {"GET", "/first", 0}} {
		req, _ := http.NewRequest(tc.method, url+tc.path, strings.NewReader("{}\n"))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if tc.status == 0 && res.StatusCode < 500 || tc.status != 0 && res.StatusCode != tc.status {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, res.StatusCode, body)
		}
	}
	res, err := http.Get(url + "/_estarget/faults")
	if err != nil {
		t.Fatal(err)
	}
	faults, _ := io.ReadAll(res.Body)
	res.Body.Close()
	want := `{"rules":[{"path":"/first","rate_5xx":1},{"method":"POST","path":"*/_bulk","rate_429":1}],"seed":5}`
	if string(faults) != want {
		t.Errorf("faults %s, want %s", faults, want)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, ",") != "GET /logs/_count,PUT /logs/_bulk" {
		t.Errorf("the engine saw %v", seen)
	}
	if !strings.Contains(errb.String(), "mode=proxy") || !strings.Contains(errb.String(), "upstream="+engine.URL) {
		t.Errorf("log: %s", errb.String())
	}
}

func TestTakenAddressExits1(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--listen", ln.Addr().String()}, &out, &errb); code != exitFailure {
		t.Fatalf("exit %d, want %d", code, exitFailure)
	}
	if !strings.Contains(errb.String(), ln.Addr().String()) {
		t.Fatalf("stderr should name the address: %s", errb.String())
	}
}

// TestBinaryStopsOnSIGTERM runs the real binary and stops it by PID.
func TestBinaryStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "estarget")
	build := exec.Command("go", "build", "-o", bin, "rally/cmd/estarget")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb syncBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("read stdout: %v", err)
	}
	m := listening.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("stdout line %q", line)
	}
	res, err := http.Get(m[1] + "/_cluster/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Fatalf("health: %d", res.StatusCode)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; stderr: %s", err, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not exit after SIGTERM")
	}
}
