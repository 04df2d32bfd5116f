package driver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"rally/metrics"
	"rally/track"
)

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHotPath runs one client's request loop (schedule, request
// building, HTTP round trip, response check, sample recording) against a
// no-op server on loopback. ops/s-per-core divides by the CPU time of the
// whole process, which includes the in-process server's share.
func BenchmarkHotPath(b *testing.B) {
	for _, tr := range transports {
		b.Run(strings.ReplaceAll(string(tr), "/", "-"), func(b *testing.B) {
			target := inProcessNoopServer(b)
			c, err := NewClient(tr, target, DefaultClientOptions())
			if err != nil {
				b.Fatal(err)
			}
			defer closeClient(c)
			task := &track.Task{Name: "q", Operation: track.Operation{Name: "q", Type: "search", Params: map[string]any{"index": "idx", "body": map[string]any{"query": map[string]any{"match_all": map[string]any{}}}}}, Clients: 1}
			spec, err := compileTask(&track.Track{}, task)
			if err != nil {
				b.Fatal(err)
			}
			r, _ := spec.newRunner(clientSlot{index: 0, total: 1})
			rec := metrics.NewRecorder("q", time.Now())
			w := &clientWorker{task: task, finite: false, sess: &session{client: c}, runner: r,
				rec: rec.Stripe(0), sched: Unthrottled{}, waiter: NewWaiter()}
			// Warm the connection and buffers.
			task.Iterations = 100
			if err := w.run(context.Background(), nil); err != nil {
				b.Fatal(err)
			}
			rec.Flush()
			task.Iterations = b.N
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, wall0 := cpuTime(), time.Now()
			if err := w.run(context.Background(), nil); err != nil {
				b.Fatal(err)
			}
			cpu, wall := cpuTime()-cpu0, time.Since(wall0)
			b.StopTimer()
			if w.requests != int64(b.N)+100 || w.errors != 0 {
				b.Fatalf("%d requests, %d errors", w.requests, w.errors)
			}
			b.ReportMetric(float64(b.N)/wall.Seconds(), "ops/s")
			b.ReportMetric(float64(b.N)/cpu.Seconds(), "ops/s-per-core")
		})
	}
}

// BenchmarkBulkBody measures building bulk bodies (action line plus raw
// document line, bulk-size 5000) from a generated corpus on disk.
func BenchmarkBulkBody(b *testing.B) {
	dir := b.TempDir()
	const docs = 100_000
	var sb strings.Builder
	for i := 0; i < docs; i++ {
		fmt.Fprintf(&sb, `{"@timestamp":"2024-01-01T00:00:%02dZ","clientip":"10.0.%d.%d","request":"GET /images/%d.gif HTTP/1.0","status":200,"size":%d,"message":"%s"}`+"\n", i%60, i%256, (i/256)%256, i, 1000+i%5000, strings.Repeat("x", 120+i%80))
	}
	data := sb.String()
	if err := os.WriteFile(filepath.Join(dir, "docs.json"), []byte(data), 0o644); err != nil {
		b.Fatal(err)
	}
	tr := &track.Track{Dir: dir, Corpora: []track.Corpus{{Name: "c", Documents: []track.Documents{{SourceFile: "docs.json", DocumentCount: docs, UncompressedBytes: int64(len(data)), TargetIndex: "logs"}}}}}
	task := &track.Task{Name: "bulk", Operation: track.Operation{Name: "bulk", Type: "bulk", Params: map[string]any{"bulk-size": 5000}}, Clients: 1}
	spec, err := compileTask(tr, task)
	if err != nil {
		b.Fatal(err)
	}
	if err := spec.(preparer).prepare(context.Background(), prepareEnv{trackDir: dir, dataDir: b.TempDir()}); err != nil {
		b.Fatal(err)
	}
	newRunner := func() *bulkRunner {
		r, err := spec.newRunner(clientSlot{index: 0, total: 1})
		if err != nil {
			b.Fatal(err)
		}
		return r.(*bulkRunner)
	}
	r := newRunner()
	var bytes int64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n, err := r.nextBody()
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.StopTimer()
			r.close()
			r = newRunner()
			b.StartTimer()
			if n, err = r.nextBody(); err != nil || n == 0 {
				b.Fatal(err)
			}
		}
		bytes += int64(len(r.buf))
	}
	b.StopTimer()
	r.close()
	b.ReportMetric(float64(bytes)/b.Elapsed().Seconds()/1e6, "MB/s")
}
