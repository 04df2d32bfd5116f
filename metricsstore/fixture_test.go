package metricsstore

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"rally/metrics"
	"rally/report"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./metricsstore -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (rerun with -update if intended):\n%s", path, got)
	}
}

func pct(p50, p90, p99, p100 float64) map[string]float64 {
	return map[string]float64{"50": p50, "90": p90, "99": p99, "100": p100}
}

// fixedRace is a small saved race: a bulk task with warmup, a search task
// with errors, a task that measured nothing, and cluster figures.
func fixedRace() *report.Race {
	return &report.Race{
		ID:                  "20261125T101500Z-3f2a9c",
		Created:             time.Date(2026, 11, 25, 10, 15, 0, 0, time.UTC),
		Track:               "geonames",
		Challenge:           "append-no-conflicts",
		TrackParams:         map[string]any{"bulk_size": float64(5000)},
		TargetHosts:         []string{"10.0.0.1:9200"},
		Distribution:        "opensearch",
		DistributionVersion: "2.19.1",
		RallyVersion:        "0.1.0",
		UserTags:            map[string]string{"intention": "baseline"},
		Hosts:               []string{"driver-1"},
		Pipeline:            "benchmark-only",
		OnError:             "continue",
		Status:              report.StatusCompleted,
		Summary: metrics.Summary{
			Cluster: metrics.ClusterFigures{
				IndexingTime: 12*time.Minute + 18*time.Second, MergeCount: 115, RefreshCount: 312,
				StoreSizeBytes: 1288490189, SegmentCount: 87, Available: true,
				GCFigures: metrics.GCFigures{YoungGCTime: 3157 * time.Millisecond, YoungGCCount: 341, GCAvailable: true},
			},
			Tasks: []metrics.TaskSummary{
				{
					Task: "index-append", Operation: "index-append", OpType: "bulk", ThroughputUnit: "docs/s",
					Throughput:  metrics.ThroughputStat{Min: 9000, Mean: 10000, Median: 10000, Max: 11000},
					Latency:     pct(243.8, 301.5, 410.2, 802.1),
					ServiceTime: pct(243.8, 301.5, 410.2, 802.1), ProcessingTime: pct(245, 303.2, 412.75, 805.5),
					LatencyMean: 250.5, ServiceTimeMean: 250.5, ProcessingTimeMean: 252.1,
					Requests: 30, WarmupRequests: 10, Duration: 3 * time.Second,
				},
				{
					Task: "term", Operation: "term", OpType: "search", ThroughputUnit: "ops/s",
					Throughput:  metrics.ThroughputStat{Min: 50, Mean: 50, Median: 50, Max: 50},
					Latency:     pct(3.21, 4.4, 9.876, 14.25),
					ServiceTime: pct(2.9, 3.9, 8.1, 13.75), ProcessingTime: pct(3, 4, 8.3, 14),
					LatencyMean: 3.5, ServiceTimeMean: 3.1, ProcessingTimeMean: 3.2,
					Requests: 100, Errors: 7, ErrorRate: 0.07, Duration: 2 * time.Second,
				},
				{Task: "refresh", Operation: "refresh", OpType: "refresh", ThroughputUnit: "ops/s", WarmupRequests: 1},
			},
		},
		PerSecond: map[string]report.TaskSeconds{
			"index-append": {
				Warmup:   []metrics.Bucket{{Second: 0, Weight: 5000}},
				Measured: []metrics.Bucket{{Second: 1, Weight: 9000}, {Second: 2, Weight: 10000}, {Second: 3, Weight: 11000}},
			},
			"term":    {Measured: []metrics.Bucket{{Second: 4, Weight: 50}, {Second: 5, Weight: 50}}},
			"refresh": {Warmup: []metrics.Bucket{{Second: 6, Weight: 1}}},
		},
	}
}

// readBackRaces are two races of the same track to write, read back and
// compare: a baseline and a contender with other figures, both with
// nodes, in December 2026 (after fixedRace).
func readBackRaces() (baseline, contender *report.Race) {
	cpu := func(d time.Duration) *time.Duration { return &d }
	percent := func(f float64) *float64 { return &f }
	bytes := func(n int64) *int64 { return &n }
	node := func(name string, young time.Duration, cpuTime time.Duration, load float64, writes int64) report.NodeTelemetry {
		return report.NodeTelemetry{
			Name: name, Host: "10.0.0.1", IP: "10.0.0.1", Version: "2.19.1", Duration: 95 * time.Second,
			GCFigures: metrics.GCFigures{YoungGCTime: young, YoungGCCount: 41, GCAvailable: true},
			CPUTime:   cpu(cpuTime), CPUPercent: percent(load), DiskWriteBytes: bytes(writes),
			HeapUsedBytes: bytes(512 << 20), HeapMaxBytes: bytes(1 << 30),
		}
	}

	baseline = fixedRace()
	baseline.ID = "20261201T080000Z-a1b2c3"
	baseline.Created = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	baseline.UserTags = map[string]string{"intention": "baseline", "benchmark-name": "nightly"}
	baseline.Nodes = []report.NodeTelemetry{
		node("rally-0", 1234*time.Millisecond, 81*time.Second, 85.26, 734003200),
		node("rally-1", 987*time.Millisecond, 77*time.Second, 81.05, 701234567),
	}

	contender = fixedRace()
	contender.ID = "20261202T080000Z-d4e5f6"
	contender.Created = time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	contender.UserTags = map[string]string{"intention": "contender", "benchmark-name": "nightly"}
	contender.Car = "defaults,4gheap"
	contender.Pipeline = "from-distribution"
	c := &contender.Summary
	c.Cluster.IndexingTime = 11*time.Minute + 2*time.Second + 345*time.Millisecond
	c.Cluster.MergeCount = 98
	c.Cluster.StoreSizeBytes = 1201234567
	c.Cluster.YoungGCTime = 2904 * time.Millisecond
	c.Tasks[0].Throughput = metrics.ThroughputStat{Min: 9500, Mean: 10400.25, Median: 10350, Max: 11200.5}
	c.Tasks[0].Latency = pct(230.1, 290.25, 399.8, 780.125)
	c.Tasks[0].ServiceTime = pct(230.1, 290.25, 399.8, 780.125)
	c.Tasks[1].Requests, c.Tasks[1].Errors, c.Tasks[1].ErrorRate = 2000, 40, 0.02
	c.Tasks[1].Latency = map[string]float64{"50": 3.01, "90": 4.1, "99": 9.5, "99.9": 12.2, "100": 13.9}
	contender.Nodes = []report.NodeTelemetry{
		node("rally-0", 1100*time.Millisecond, 79*time.Second, 83.5, 712345678),
		node("rally-2", 1000*time.Millisecond, 70*time.Second, 80, 700000000),
	}
	return baseline, contender
}
