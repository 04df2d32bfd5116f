package driver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"rally/metrics"
	"rally/track"
)

// noopServerEnv makes the test binary a no-op search server instead of
// running tests (see TestMain): it prints its address and serves until its
// standard input closes. The pacing benchmarks start it as a child process
// when the load driver's own CPU time and memory are to be measured apart
// from the server's, and to stay under the open-files limit with 10,000
// clients (each needs a descriptor on both ends of its connection).
const noopServerEnv = "RALLY_BENCH_NOOP_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(noopServerEnv) != "" {
		serveNoopUntilStdinCloses()
		return
	}
	os.Exit(m.Run())
}

// searchBody is a canned _search answer with no hits.
var searchBody = []byte(`{"took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"total":{"value":0,"relation":"eq"},"max_score":null,"hits":[]}}`)

func noopHandler(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	ctx.SetBody(searchBody)
}

func serveNoopUntilStdinCloses() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "noop server:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	srv := &fasthttp.Server{Handler: noopHandler}
	go srv.Serve(ln)
	io.Copy(io.Discard, os.Stdin)
	srv.Shutdown()
}

// childNoopServer starts the test binary as a no-op server in its own
// process and returns its address; the process ends with the benchmark.
func childNoopServer(b *testing.B) Target {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), noopServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("no-op server did not say its address: %v", err)
	}
	return Target{Scheme: "http", Host: strings.TrimSpace(line)}
}

// inProcessNoopServer is a fasthttp server on loopback in this process
// answering every request with the canned search body.
func inProcessNoopServer(b *testing.B) Target {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: noopHandler}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Shutdown() })
	return Target{Scheme: "http", Host: ln.Addr().String()}
}

// throttledSearch is a match-all search task of rate ops/s over clients
// clients, measured for period after a warmup of warmup.
func throttledSearch(b *testing.B, clients int, rate float64, warmup, period time.Duration) *track.Task {
	task := opTask(b, "search", "search", `{"index":"idx","body":{"query":{"match_all":{}}}}`)
	task.Clients = clients
	task.TargetThroughput = rate
	task.WarmupTimePeriod = warmup
	task.TimePeriod = period
	return task
}

// benchRun is one run of a task and what it measured.
type benchRun struct {
	summary  metrics.TaskSummary
	requests int64
	cpu      time.Duration
	wall     time.Duration
}

// runBenchTask runs task against target, all its clients in this process,
// and returns the summary of its samples and the process's CPU time
// spent meanwhile.
func runBenchTask(b *testing.B, task *track.Task, target Target) benchRun {
	b.Helper()
	epoch := time.Now()
	agg := metrics.NewAggregator(epoch)
	tp := TaskPlan{Track: &track.Track{}, Task: task, Targets: []Target{target}, ClientOptions: DefaultClientOptions(), Epoch: epoch, DataDir: b.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cpu0, wall0 := cpuTime(), time.Now()
	res, err := RunTask(ctx, tp, func(d *metrics.Delta) {
		if err := agg.Add(d); err != nil {
			b.Errorf("add delta: %v", err)
		}
	})
	run := benchRun{cpu: cpuTime() - cpu0, wall: time.Since(wall0), requests: res.Requests}
	if err != nil {
		b.Fatal(err)
	}
	if res.Errors != 0 {
		b.Fatalf("%d of %d requests failed", res.Errors, res.Requests)
	}
	run.summary = agg.Summary([]metrics.TaskInfo{res.Info}).Tasks[0]
	return run
}

// BenchmarkThrottledClients runs a search task throttled to 5,000 ops/s
// over 500 clients for 3 s (after 0.5 s of warmup) against a no-op server
// and reports CPU time per request (of this whole process), service time,
// latency and schedule lag percentiles. The server runs in this process
// (its CPU time counted too, and with -cpu 1 it shares the one processor
// with the clients) or in a child process (the figures are then the load
// driver's alone, comparable with another load generator's). The target
// answers in about 50 µs, so a service time far above that is time the
// driver took to notice the response. Run with -benchtime 1x (each
// iteration is a whole run) and -cpu 1 for one core.
func BenchmarkThrottledClients(b *testing.B) {
	for _, server := range []struct {
		name  string
		start func(*testing.B) Target
	}{{"in-process", inProcessNoopServer}, {"child-process", childNoopServer}} {
		b.Run("server="+server.name, func(b *testing.B) {
			target := server.start(b)
			var cpu time.Duration
			var requests int64
			var last benchRun
			for range b.N {
				last = runBenchTask(b, throttledSearch(b, 500, 5000, 500*time.Millisecond, 3*time.Second), target)
				cpu += last.cpu
				requests += last.requests
			}
			s := last.summary
			b.ReportMetric(float64(cpu.Microseconds())/float64(requests), "cpu-µs/req")
			b.ReportMetric(float64(last.requests)/last.wall.Seconds(), "req/s")
			b.ReportMetric(s.ServiceTime["50"], "service-p50-ms")
			b.ReportMetric(s.ServiceTime["99"], "service-p99-ms")
			b.ReportMetric(s.Latency["50"], "latency-p50-ms")
			b.ReportMetric(s.Latency["99"], "latency-p99-ms")
			b.ReportMetric(s.ScheduleLag["50"], "lag-p50-ms")
			b.ReportMetric(s.ScheduleLag["90"], "lag-p90-ms")
			b.ReportMetric(s.ScheduleLag["99"], "lag-p99-ms")
		})
	}
}

// BenchmarkThrottledClientsMemory runs 100, 1,000 and 10,000 clients that
// each send a search every 2 s (ramped up over the first second) for 4 s
// against a no-op server in a child process, and reports the peak resident
// set and live heap of this process: what the clients cost the load
// driver, with the server's memory apart.
func BenchmarkThrottledClientsMemory(b *testing.B) {
	for _, clients := range []int{100, 1000, 10000} {
		b.Run("clients="+strconv.Itoa(clients), func(b *testing.B) {
			target := childNoopServer(b)
			var peak memPeak
			for range b.N {
				runtime.GC()
				peak.start()
				task := throttledSearch(b, clients, float64(clients)/2, 0, 4*time.Second)
				task.RampUpTimePeriod = time.Second
				run := runBenchTask(b, task, target)
				peak.stop()
				if want := int64(clients) * 2; run.requests < want*9/10 {
					b.Fatalf("%d requests, want about %d", run.requests, want)
				}
			}
			b.ReportMetric(float64(peak.rss)/(1<<20), "peak-rss-MB")
			b.ReportMetric(float64(peak.heap)/(1<<20), "peak-heap-MB")
		})
	}
}

// memPeak samples the process's resident set and live heap until stopped
// and keeps their maxima.
type memPeak struct {
	rss, heap uint64
	done      chan struct{}
	wg        sync.WaitGroup
}

func (m *memPeak) start() {
	m.done = make(chan struct{})
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			m.sample()
			select {
			case <-t.C:
			case <-m.done:
				return
			}
		}
	}()
}

func (m *memPeak) stop() {
	close(m.done)
	m.wg.Wait()
	m.sample()
}

func (m *memPeak) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.heap = max(m.heap, ms.HeapInuse)
	m.rss = max(m.rss, residentBytes())
}

// residentBytes is this process's resident set size (VmRSS), 0 where
// /proc is missing.
func residentBytes() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
