package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rally/lab"
	"rally/metrics"
	"rally/report"
)

// startTarget runs the project's test target binary, estarget, in its
// canned mode (the races here need requests answered and documents
// counted, not an engine's search results) on a free loopback port, or
// where --listen says, and returns its host:port.
func startTarget(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	listen := "127.0.0.1:0"
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--listen" {
			listen = args[i+1]
			args = append(args[:i:i], args[i+2:]...)
			break
		}
	}
	cmd := exec.CommandContext(ctx, estargetBin, append([]string{"--listen", listen, "--log-level", "error"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("estarget: %v", err)
	}
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("estarget said %q", line)
	}
	return strings.TrimSpace(line[i+len("http://"):])
}

func raceJSON(t *testing.T, r result) *report.Race {
	t.Helper()
	var race report.Race
	if err := json.Unmarshal([]byte(r.stdout), &race); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, r)
	}
	return &race
}

func taskSummary(t *testing.T, r *report.Race, name string) metrics.TaskSummary {
	t.Helper()
	for _, ts := range r.Summary.Tasks {
		if ts.Task == name {
			return ts
		}
	}
	t.Fatalf("no task %s in %+v", name, r.Summary.Tasks)
	return metrics.TaskSummary{}
}

// TestRaceSampleTrack runs the sample track twice against the test target
// with the real binary (no cluster up: an in-process load driver), then
// lists and compares the two races.
func TestRaceSampleTrack(t *testing.T) {
	addr := startTarget(t)
	u := newUser(t)
	r1 := u.must("race", "--track-path", "../examples/tracks/tiny", "--target-hosts", addr, "--user-tags", "run:first")
	for _, want := range []string{"Min Throughput", "index-append", "search-kitchen", "99th percentile latency", "error rate", "Store size"} {
		if !strings.Contains(r1.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r1.stdout)
		}
	}
	if !strings.Contains(r1.stderr, "search-kitchen") || !strings.Contains(r1.stderr, "completed") {
		t.Errorf("no progress on stderr:\n%s", r1.stderr)
	}
	// A normal end is not an error: no red lines that cry wolf.
	if strings.Contains(r1.stderr, "level=ERROR") {
		t.Errorf("a successful race printed an ERROR line:\n%s", r1.stderr)
	}
	r2 := u.must("race", "--track-path", "../examples/tracks/tiny", "--target-hosts", addr, "--report-format", "json",
		"--track-params", "search_clients:1", "--report-file", filepath.Join(u.home, "r2.json"))
	race2 := raceJSON(t, r2)
	if race2.Status != "completed" || race2.Distribution != "elasticsearch" || race2.Summary.Cluster.DocCount != 2000 {
		t.Errorf("race 2: status %s, distribution %s, docs %d", race2.Status, race2.Distribution, race2.Summary.Cluster.DocCount)
	}
	if ts := taskSummary(t, race2, "index-append"); ts.Errors != 0 || ts.ThroughputUnit != "docs/s" {
		t.Errorf("index-append: %+v", ts)
	}
	if _, err := os.Stat(filepath.Join(u.home, "races", race2.ID, "race.json")); err != nil {
		t.Errorf("race.json not saved: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(u.home, "r2.json")); err != nil || !strings.Contains(string(b), race2.ID) {
		t.Errorf("--report-file: %v", err)
	}

	var listed []*report.Race
	if err := json.Unmarshal([]byte(u.must("list", "races", "--json").stdout), &listed); err != nil || len(listed) != 2 {
		t.Fatalf("list races: %v, %d races", err, len(listed))
	}
	if listed[0].ID != race2.ID {
		t.Errorf("newest first: got %s, want %s", listed[0].ID, race2.ID)
	}
	cmp := u.must("compare", "--baseline", listed[1].ID, "--contender", listed[0].ID)
	for _, want := range []string{"Baseline", "Contender", "Mean Throughput", "search-kitchen"} {
		if !strings.Contains(cmp.stdout, want) {
			t.Errorf("compare lacks %q:\n%s", want, cmp.stdout)
		}
	}
	if r := u.rally("compare", "--baseline", "nope", "--contender", race2.ID); r.code != 2 {
		t.Errorf("compare with an unknown race: %s", r)
	}
}

// TestCoordinatedOmission: the target stalls 1 s every 5 s while the
// schedule asks for 100 ops/s. Latency counts the waiting the stalls cause
// (from each request's intended start), so its p99 is near a second, while
// most requests are served quickly.
func TestCoordinatedOmission(t *testing.T) {
	addr := startTarget(t, "--stall-every", "5s", "--stall-for", "1s")
	u := newUser(t)
	r := raceJSON(t, u.must("race", "--track-path", "testdata/tracks/paced", "--target-hosts", addr,
		"--track-params", "rate:100,period:15,warmup:1,clients:4", "--report-format", "json"))
	ts := taskSummary(t, r, "search-all")
	t.Logf("latency p50 %.1f p99 %.1f ms; service time p50 %.1f p99 %.1f ms; %d requests",
		ts.Latency["50"], ts.Latency["99"], ts.ServiceTime["50"], ts.ServiceTime["99"], ts.Requests)
	if ts.Latency["99"] < 900 {
		t.Errorf("latency p99 %.1f ms, want ≥ 900 ms (the stalls' waiting is missing)", ts.Latency["99"])
	}
	if ts.ServiceTime["50"] > 50 {
		t.Errorf("service time p50 %.1f ms, want low", ts.ServiceTime["50"])
	}
}

// TestThroughputControl: at a target of 200 ops/s for 10 s the measured
// mean throughput is within 2% of 200.
func TestThroughputControl(t *testing.T) {
	addr := startTarget(t)
	u := newUser(t)
	start := time.Now()
	r := raceJSON(t, u.must("race", "--track-path", "testdata/tracks/paced", "--target-hosts", addr,
		"--track-params", "rate:200,period:10,warmup:1,clients:4", "--report-format", "json"))
	ts := taskSummary(t, r, "search-all")
	t.Logf("throughput min %.1f mean %.1f median %.1f max %.1f ops/s, %d requests in %s",
		ts.Throughput.Min, ts.Throughput.Mean, ts.Throughput.Median, ts.Throughput.Max, ts.Requests, time.Since(start).Round(time.Second))
	if ts.Throughput.Mean < 196 || ts.Throughput.Mean > 204 {
		t.Errorf("mean throughput %.2f ops/s, want 200 ± 2%%", ts.Throughput.Mean)
	}
	if ts.Errors != 0 {
		t.Errorf("%d errors", ts.Errors)
	}
}

// TestRaceOnCluster runs the sample track on the load drivers of a lab
// cluster: the coordinator pushes the track to each host, the workers there
// run the clients against a target on the lab's bridge, and the merged
// report comes back.
func TestRaceOnCluster(t *testing.T) {
	l := lab.Require(t, 2)
	u := newUser(t)
	target := startTarget(t, "--listen", l.Gateway()+":0")
	u.must("up", "--detach", "-i", l.InventoryFile())
	t.Cleanup(func() { u.rally("down") })
	r := u.must("race", "--track-path", "../examples/tracks/tiny", "--target-hosts", target, "--report-format", "json")
	race := raceJSON(t, r)
	if race.Status != "completed" || len(race.Hosts) != 2 {
		t.Fatalf("race: status %s (%s), hosts %v\n%s", race.Status, race.Error, race.Hosts, r.stderr)
	}
	if race.Summary.Cluster.DocCount != 2000 {
		t.Errorf("documents stored: %d, want 2000", race.Summary.Cluster.DocCount)
	}
	if !strings.Contains(r.stderr, "on cluster") {
		t.Errorf("race did not run on the cluster:\n%s", r.stderr)
	}
	for _, h := range l.Hosts() {
		files, err := l.Files(context.Background(), h.Name, "/root/.rally/tracks")
		if err != nil || len(files) == 0 {
			t.Errorf("%s: track not pushed: %v %v", h.Name, files, err)
		}
	}
	u.must("down")
	for _, h := range l.Hosts() {
		assertClean(t, l, h.Name)
	}
}

// TestInfoRendersRallyTracks: every Rally track kept as test material
// renders with `rally info`, and operations that need a track.py are named.
func TestInfoRendersRallyTracks(t *testing.T) {
	u := newUser(t)
	dirs, err := filepath.Glob("../track/testdata/rally-tracks/*/track.json")
	if err != nil || len(dirs) != 5 {
		t.Fatalf("tracks: %v %v", dirs, err)
	}
	needsPython := 0
	for _, file := range dirs {
		dir := filepath.Dir(file)
		r := u.must("info", "--track-path", dir)
		if !strings.Contains(r.stdout, filepath.Base(dir)) {
			t.Errorf("%s: info does not name the track:\n%s", dir, r.stdout)
		}
		if strings.Contains(r.stdout, "track.py") {
			needsPython++
		}
		var js map[string]any
		if err := json.Unmarshal([]byte(u.must("info", "--json", "--track-path", dir).stdout), &js); err != nil {
			t.Errorf("%s: info --json: %v", dir, err)
		}
	}
	if needsPython == 0 {
		t.Error("no track reports an operation that needs track.py (nested, geonames and http_logs have some)")
	}
	// A race of a challenge that needs track.py is refused up front, naming it.
	r := u.rally("race", "--track-path", "../track/testdata/rally-tracks/nested", "--target-hosts", "127.0.0.1:1")
	if r.code != 2 || !strings.Contains(r.stderr, "track.py") {
		t.Errorf("race needing track.py: %s", r)
	}
}

// TestRaceAbortedByCtrlC: Ctrl-C during a race aborts it; the race is
// saved as aborted with what was measured, and rally exits 1.
func TestRaceAbortedByCtrlC(t *testing.T) {
	addr := startTarget(t)
	u := newUser(t)
	cmd := exec.Command(rallyBin, "race", "--track-path", "testdata/tracks/paced", "--target-hosts", addr,
		"--track-params", "rate:50,period:60,warmup:0,clients:2", "--report-format", "json")
	cmd.Env = append(os.Environ(), "RALLY_HOME="+u.home)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("exit: %v, want 1\nstderr:\n%s", err, errb.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("race did not stop after Ctrl-C\nstderr:\n%s", errb.String())
	}
	race := raceJSON(t, result{stdout: out.String()})
	if race.Status != report.StatusAborted {
		t.Errorf("status %s, want aborted", race.Status)
	}
	if ts := taskSummary(t, race, "search-all"); ts.Requests < 50 {
		t.Errorf("only %d requests measured before the abort", ts.Requests)
	}
	if _, err := os.Stat(filepath.Join(u.home, "races", race.ID, "race.json")); err != nil {
		t.Errorf("aborted race not saved: %v", err)
	}
}
