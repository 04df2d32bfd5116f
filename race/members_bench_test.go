package race

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"rally/actor"
	"rally/report"
)

// membersPeriod is how long each race of BenchmarkMembers runs; bench/run.sh
// passes a shorter one for its quick run.
var membersPeriod = flag.Duration("members-period", 10*time.Second,
	"time period of each race of BenchmarkMembers (whole seconds)")

// membersChildEnv makes this test binary the members' process of
// BenchmarkMembers instead of running tests (see TestMain): its value is
// "COUNT COORDINATOR-ADDRESS TOKEN DATA-DIR".
const membersChildEnv = "RALLY_BENCH_MEMBERS_CHILD"

// membersRate is each simulated member's request rate: low, so that every
// member's shipper sends one metrics delta per second while the members'
// process stays light next to the coordinator on a small machine.
const membersRate = 2

func TestMain(m *testing.M) {
	if spec := os.Getenv(membersChildEnv); spec != "" {
		if err := runMembersChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, "members:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// BenchmarkMembers measures the coordinator side of a race with 100 and
// 500 load-driver members: the actor system and the race conductor run in
// this process, the members in a child process (this test binary again),
// each a real actor.Member with its own loopback TCP connection (real
// frames, real heartbeats both ways, reliable messages with acks) running
// the real member side of a race (Serve: track loaded, the driver's step
// executor, the shipper) with one client at 2 ops/s against a canned
// target in the child, so that every member sends one metrics delta per
// second for the race's task. What differs from a real cluster: no SSH
// tunnel between them, and all members share one host and one process.
//
// It reports, per race of -members-period: the coordinator process's CPU
// per second (cpu-ms/s: everything this process did, status requests
// included), its peak RSS (VmHWM, reset before the race) and the peak of
// its live heap (what the last collection marked, live-heap-MB), the
// latency of a status request during the race (status-p50-ms,
// status-p99-ms: the actor status and the race's progress as JSON over
// HTTP, every 100 ms, as the control socket answers `rally status`), the
// time the coordinator's metrics handler spends per delta (merge-µs/delta:
// decode, duplicate check, merge into the race's aggregator; wall time,
// so waiting for a core counts too), the whole coordinator CPU over the
// deltas merged (cpu-µs/delta), the deltas merged per second and the
// race's gaps (deltas that never arrived). A race that loses a member or
// does not complete fails the benchmark.
//
//	go test -run '^$' -bench Members -benchtime 1x ./race/
//	go test -run '^$' -bench 'Members/members=100$' -benchtime 1x ./race/ -args -members-period=3s
func BenchmarkMembers(b *testing.B) {
	for _, n := range []int{100, 500} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) { benchMembers(b, n) })
	}
}

func benchMembers(b *testing.B, n int) {
	period := max(int(membersPeriod.Round(time.Second)/time.Second), 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(b.N)*time.Duration(period)*time.Second+5*time.Minute)
	defer cancel()

	sys := actor.NewSystem(actor.Options{Version: "bench", Address: "bench-coordinator"})
	defer sys.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	serveDone := make(chan struct{})
	go func() { defer close(serveDone); _ = sys.Serve(ctx, l, "") }()
	defer func() { cancel(); <-serveDone }()
	token := randomHex(b)
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("m%03d", i)
		sys.Expect(names[i], token)
	}

	child := startMembersChild(b, ctx, n, l.Addr().String(), token)
	defer child.stop(b)
	jctx, jcancel := context.WithTimeout(ctx, 2*time.Minute)
	err = sys.WaitMembers(jctx, names...)
	jcancel()
	if err != nil {
		b.Fatalf("%v; members' output:\n%s", err, child.output())
	}

	dir := b.TempDir()
	trackJSON := fmt.Sprintf(`{"version": 2, "indices": [{"name": "noop"}],
  "operations": [{"name": "search", "operation-type": "search", "index": "noop", "body": {"query": {"match_all": {}}}}],
  "challenges": [{"name": "members", "default": true, "schedule": [
    {"operation": "search", "clients": %d, "warmup-time-period": 0, "time-period": %d, "target-throughput": %d}]}]}`,
		n, period, membersRate*n)
	if err := os.WriteFile(filepath.Join(dir, "track.json"), []byte(trackJSON), 0o644); err != nil {
		b.Fatal(err)
	}
	plan, err := Check(Request{TrackPath: dir, TargetHosts: child.target})
	if err != nil {
		b.Fatal(err)
	}
	c := NewConductor(Config{System: sys, Store: report.Store{Dir: filepath.Join(dir, "races")}, Version: "bench",
		// The coordinator encodes every progress update for the event
		// stream that `rally status --follow` and the UI read.
		Progress: func(p Progress) { _ = json.NewEncoder(io.Discard).Encode(p) }})
	// The conductor's own handler, timed: decode, duplicate check, merge.
	var merged, mergeNanos atomic.Int64
	sys.Handle(MsgMetrics, func(from string, body json.RawMessage) {
		t0 := time.Now()
		c.onMetrics(from, body)
		mergeNanos.Add(int64(time.Since(t0)))
		merged.Add(1)
	})
	status := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(struct {
			Actors actor.Status `json:"actors"`
			Race   *Progress    `json:"race"`
		}{sys.Status(), c.Current()})
	}))
	defer status.Close()

	var cpu, wall time.Duration
	var statusLat []time.Duration
	var heapPeak uint64
	gaps := 0
	resetPeakRSS()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		plan.ID = ""
		stopWatch := watchCoordinator(status.URL, &statusLat, &heapPeak)
		cpu0, t0 := processCPU(), time.Now()
		r, err := c.Run(ctx, plan, names)
		cpu += processCPU() - cpu0
		wall += time.Since(t0)
		stopWatch()
		if err != nil {
			b.Fatalf("race: %v; members' output:\n%s", err, child.output())
		}
		if r.Status != report.StatusCompleted || len(r.LostHosts) > 0 {
			b.Fatalf("race %s: status %s (%s), %d load drivers lost", r.ID, r.Status, r.Error, len(r.LostHosts))
		}
		for _, g := range r.Gaps {
			gaps += len(g.Missing)
		}
	}
	b.StopTimer()
	if merged.Load() == 0 || len(statusLat) == 0 {
		b.Fatalf("%d deltas merged, %d status requests answered: nothing measured", merged.Load(), len(statusLat))
	}
	slices.Sort(statusLat)
	pct := func(p float64) float64 {
		return float64(statusLat[min(int(p*float64(len(statusLat))), len(statusLat)-1)]) / 1e6
	}
	b.ReportMetric(float64(cpu.Milliseconds())/wall.Seconds(), "cpu-ms/s")
	b.ReportMetric(float64(peakRSS())/(1<<20), "rss-MB")
	b.ReportMetric(float64(heapPeak)/(1<<20), "live-heap-MB")
	b.ReportMetric(pct(0.50), "status-p50-ms")
	b.ReportMetric(pct(0.99), "status-p99-ms")
	b.ReportMetric(float64(mergeNanos.Load())/float64(merged.Load())/1e3, "merge-µs/delta")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(merged.Load())/1e3, "cpu-µs/delta")
	b.ReportMetric(float64(merged.Load())/wall.Seconds(), "deltas/s")
	b.ReportMetric(float64(gaps), "gaps")
}

// watchCoordinator asks for the status every 100 ms, recording how long
// each answer took, and samples the live heap (as the last collection
// marked it), until the returned function
// is called.
func watchCoordinator(url string, lat *[]time.Duration, heapPeak *uint64) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		client := &http.Client{Timeout: 10 * time.Second}
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			t0 := time.Now()
			resp, err := client.Get(url)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if err == nil {
				*lat = append(*lat, time.Since(t0))
			}
			metrics.Read(sample)
			if v := sample[0].Value; v.Kind() == metrics.KindUint64 {
				*heapPeak = max(*heapPeak, v.Uint64())
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

// processCPU is this process's user and system time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS starts VmHWM over at the current RSS (Linux 4.0 and
// later; elsewhere the peak counts from the process's start).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM in bytes (0 where /proc has none).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func randomHex(b *testing.B) string {
	buf := make([]byte, 16)
	if _, err := rand.Read(buf); err != nil {
		b.Fatal(err)
	}
	return hex.EncodeToString(buf)
}

// membersChild is the members' process: its canned target's address and
// what it printed.
type membersChild struct {
	cmd    *exec.Cmd
	stdin  io.Closer
	target string
	mu     sync.Mutex
	out    strings.Builder
	done   chan struct{}
}

// startMembersChild starts this test binary as the members' process and
// waits for its target's address; the members then join on their own.
func startMembersChild(b *testing.B, ctx context.Context, n int, coordinator, token string) *membersChild {
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d %s %s %s", membersChildEnv, n, coordinator, token, b.TempDir()))
	cmd.WaitDelay = 10 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	ch := &membersChild{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	cmd.Stderr = writerFunc(ch.write)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	target := make(chan string, 1)
	go func() {
		defer close(ch.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "target "); ok {
				target <- addr
			}
			ch.write([]byte(sc.Text() + "\n"))
		}
	}()
	select {
	case ch.target = <-target:
	case <-ch.done:
		_ = cmd.Wait()
		b.Fatalf("the members' process ended before it served its target:\n%s", ch.output())
	case <-time.After(time.Minute):
		ch.stop(b)
		b.Fatalf("the members' process did not serve its target within a minute:\n%s", ch.output())
	}
	return ch
}

func (ch *membersChild) write(p []byte) (int, error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.out.Len() < 1<<20 {
		ch.out.Write(p)
	}
	return len(p), nil
}

func (ch *membersChild) output() string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.out.String()
}

// stop closes the child's stdin, which ends it, and waits for it (killed
// after a while by WaitDelay's and the context's bounds).
func (ch *membersChild) stop(b *testing.B) {
	ch.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- ch.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			b.Logf("members' process: %v\n%s", err, ch.output())
		}
	case <-time.After(30 * time.Second):
		_ = ch.cmd.Process.Kill()
		<-done
		b.Logf("members' process killed: it did not end within 30 s of its stdin closing")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// runMembersChild is the members' process: it serves a canned
// Elasticsearch target on loopback (printing "target ADDRESS"), joins
// COUNT members to the coordinator over TCP, each serving races with
// Serve, and runs until its stdin closes (its parent is done or gone) or
// ten minutes passed.
func runMembersChild(spec string) error {
	f := strings.Fields(spec)
	if len(f) != 4 {
		return fmt.Errorf("%s=%q: want COUNT ADDRESS TOKEN DATA-DIR", membersChildEnv, spec)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 0 {
		return fmt.Errorf("%s: count %q: want a positive number", membersChildEnv, f[0])
	}
	coordinator, token, dataDir := f[1], f[2], f[3]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); cancel() }()

	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(cannedTarget), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(tl) }()
	defer srv.Close()
	fmt.Printf("target %s\n", tl.Addr())

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16) // joins in flight
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("m%03d", i)
			m, err := joinMember(ctx, coordinator, name, token, logger)
			<-sem
			if err != nil {
				errs <- err
				cancel()
				return
			}
			Serve(m, MemberConfig{Context: ctx, DataDir: dataDir, Logger: logger})
			if err := m.Run(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, actor.ErrStopped) {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

func joinMember(ctx context.Context, coordinator, name, token string, logger *slog.Logger) (*actor.Member, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", coordinator)
	if err != nil {
		return nil, fmt.Errorf("%s: dial %s: %w", name, coordinator, err)
	}
	m, err := actor.Join(ctx, conn, actor.Hello{Name: name, Token: token, Version: "bench", PID: os.Getpid(),
		Facts: actor.HostFacts{Hostname: name}}, actor.WithLogger(logger))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// cannedTarget answers as an Elasticsearch node that holds nothing: the
// root document, an empty search result and {} for anything else.
func cannedTarget(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	switch {
	case r.URL.Path == "/":
		_, _ = io.WriteString(w, `{"name":"canned","cluster_name":"canned","version":{"number":"8.17.0","build_flavor":"default","lucene_version":"9.12.0"},"tagline":"You Know, for Search"}`)
	case strings.HasSuffix(r.URL.Path, "/_search"):
		_, _ = io.WriteString(w, `{"took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"total":{"value":0,"relation":"eq"},"max_score":null,"hits":[]}}`)
	default:
		_, _ = io.WriteString(w, `{}`)
	}
}
