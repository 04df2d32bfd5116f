package report

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"rally/metrics"
	"rally/telemetry"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The golden files print error times in UTC, whatever the machine's zone.
func init() { errorClock = time.UTC }

// golden compares got with testdata/<name>.golden, or rewrites the file
// with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("output differs from %s (run with -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func pct(p50, p90, p99, p999, p9999, p100 float64) map[string]float64 {
	return map[string]float64{"50": p50, "90": p90, "99": p99, "99.9": p999, "99.99": p9999, "100": p100}
}

func ptr[T any](v T) *T { return &v }

// fixedRace is the race every golden file is rendered from. Its nodes are
// two: one on Linux with every figure, one whose platform reports no disk
// traffic.
func fixedRace() *Race {
	return &Race{
		ID:                  "20261125T101500Z-3f2a9c",
		Created:             time.Date(2026, 11, 25, 10, 15, 0, 0, time.UTC),
		Track:               "geonames",
		Challenge:           "append-no-conflicts",
		TrackParams:         map[string]any{"bulk_size": float64(5000), "ingest_percentage": float64(20)},
		TargetHosts:         []string{"10.0.0.1:9200", "10.0.0.2:9200"},
		Distribution:        "elasticsearch",
		DistributionVersion: "8.15.0",
		RallyVersion:        "0.1.0",
		UserTags:            map[string]string{"intention": "baseline", "env": "lab"},
		Hosts:               []string{"driver-1", "driver-2"},
		OnError:             "continue",
		Status:              StatusCompleted,
		Summary: metrics.Summary{
			Cluster: metrics.ClusterFigures{
				IndexingTime:     12*time.Minute + 18*time.Second,
				IndexingThrottle: 0,
				MergeTime:        3*time.Minute + 30*time.Second + 500*time.Millisecond,
				MergeCount:       115,
				RefreshTime:      47 * time.Second,
				RefreshCount:     312,
				FlushTime:        1500 * time.Millisecond,
				FlushCount:       4,
				StoreSizeBytes:   1288490189, // 1.2 GB
				DocCount:         11396503,
				SegmentCount:     87,
				Available:        true,
				GCFigures: metrics.GCFigures{
					YoungGCTime: 3157 * time.Millisecond, YoungGCCount: 341,
					OldGCTime: 0, OldGCCount: 0,
					GCAvailable: true,
				},
			},
			Tasks: []metrics.TaskSummary{
				{
					Task: "index-append", Operation: "index-append", OpType: "bulk", ThroughputUnit: "docs/s",
					Throughput:     metrics.ThroughputStat{Min: 1234.5, Mean: 101950.123, Median: 102003.456, Max: 1.5e6},
					Latency:        pct(243.812, 301.544, 410.2, 588.1, 712.003, 802.119),
					ServiceTime:    pct(243.812, 301.544, 410.2, 588.1, 712.003, 802.119),
					ProcessingTime: pct(245.001, 303.2, 412.75, 590.3, 714.0, 805.5),
					LatencyMean:    250.5, ServiceTimeMean: 250.5, ProcessingTimeMean: 252.1,
					Requests: 12000, WarmupRequests: 1200,
					Duration: 5*time.Minute + 12*time.Second,
				},
				{
					Task: "term", Operation: "term", OpType: "search", ThroughputUnit: "ops/s",
					Throughput:     metrics.ThroughputStat{Min: 49.87, Mean: 50.004, Median: 50.001, Max: 50.12},
					Latency:        pct(3.21, 4.4, 9.876, 12.5, 13.0, 14.25),
					ServiceTime:    pct(2.9, 3.9, 8.1, 11.2, 12.0, 13.75),
					ProcessingTime: pct(3.0, 4.0, 8.3, 11.4, 12.2, 14.0),
					LatencyMean:    3.5, ServiceTimeMean: 3.1, ProcessingTimeMean: 3.2,
					Requests: 500, WarmupRequests: 100,
					Errors: 7, ErrorRate: 0.014, ErrorsByType: map[string]int64{"http-429": 5, "timeout": 2},
					ErrorTimes: map[string]metrics.ErrorSpan{
						"http-429": {First: time.Date(2026, 11, 25, 10, 20, 14, 0, time.UTC), Last: time.Date(2026, 11, 25, 10, 20, 19, 500e6, time.UTC)},
						"timeout":  {First: time.Date(2026, 11, 25, 10, 20, 16, 0, time.UTC), Last: time.Date(2026, 11, 25, 10, 20, 16, 0, time.UTC)},
					},
					ErrorServiceTime: map[string]float64{"50": 1.25, "100": 10000}, ErrorServiceTimeMean: 2858.9,
					ScheduleLag: pct(0.061, 0.152, 0.874, 1.402, 1.402, 1.402), ScheduleLagMean: 0.093,
					Duration: 10 * time.Second,
					Start:    time.Date(2026, 11, 25, 10, 20, 12, 0, time.UTC),
					End:      time.Date(2026, 11, 25, 10, 20, 22, 0, time.UTC),
				},
				{
					Task: "refresh-after-index", Operation: "refresh", OpType: "refresh", ThroughputUnit: "ops/s",
					WarmupRequests: 1,
				},
			},
		},
		Nodes: []NodeTelemetry{
			{
				Name: "rally-node-0", Host: "10.0.0.1", IP: "10.0.0.1", Version: "8.15.0", Duration: 5*time.Minute + 30*time.Second,
				GCFigures:      metrics.GCFigures{YoungGCTime: 1803 * time.Millisecond, YoungGCCount: 190, GCAvailable: true},
				CPUTime:        ptr(9*time.Minute + 54*time.Second + 120*time.Millisecond),
				CPUPercent:     ptr(180.036364),
				DiskWriteBytes: ptr(int64(13421772800)), // 12800 MB
				DiskReadBytes:  ptr(int64(5505024)),     // 5.25 MB
				HeapUsedBytes:  ptr(int64(2952790016)),  // 2816 MB
				HeapMaxBytes:   ptr(int64(4294967296)),  // 4096 MB
			},
			{
				Name: "rally-node-1", Host: "10.0.0.2", IP: "10.0.0.2", Version: "8.15.0", Duration: 5*time.Minute + 30*time.Second,
				GCFigures:     metrics.GCFigures{YoungGCTime: 1354 * time.Millisecond, YoungGCCount: 151, GCAvailable: true},
				CPUTime:       ptr(7*time.Minute + 1*time.Second + 500*time.Millisecond),
				CPUPercent:    ptr(127.727273),
				HeapUsedBytes: ptr(int64(1879048192)), // 1792 MB
				HeapMaxBytes:  ptr(int64(4294967296)),
			},
		},
		HostTelemetry: map[string]telemetry.Summary{
			"es-1": {
				Samples: 330, Interval: time.Second,
				Host: telemetry.HostSummary{Samples: 330, Cores: 8, CPUBusyMean: 61.25, CPUBusyMax: 97.5,
					MemoryTotal: 32 << 30, MemoryAvailableMin: 20 << 30, DiskRead: 5 << 20, DiskWrite: 12800 << 20,
					NetworkRx: 2048 << 20, NetworkTx: 64 << 20},
				Targets: map[string]telemetry.TargetSummary{
					"rally-node-0": {PGID: 811, Samples: 330, CPUTime: 9*time.Minute + 50*time.Second, CPUMean: 178.79,
						RSSMax: 5 << 30, RSSLast: 5 << 30, ThreadsMax: 121, WriteBytes: ptr(uint64(12700 << 20)), ReadBytes: ptr(uint64(4 << 20))},
				},
			},
		},
	}
}

// nodeKilledRace is a race whose only node was killed 4 s into a search
// task run with --on-error continue: the task's later requests were all
// refused, and the next task's all of them.
func nodeKilledRace() *Race {
	start := time.Date(2026, 11, 25, 13, 48, 46, 0, time.UTC)
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	return &Race{
		ID: "20261125T134840Z-0b1c2d", Created: start.Add(-6 * time.Second), Track: "tiny", Challenge: "search",
		TargetHosts: []string{"127.0.0.1:9200"}, Distribution: "opensearch", DistributionVersion: "2.19.1",
		OnError: "continue", Status: StatusCompleted,
		Summary: metrics.Summary{Tasks: []metrics.TaskSummary{
			{
				Task: "search-match-all", Operation: "search-match-all", OpType: "search", ThroughputUnit: "ops/s",
				Throughput:     metrics.ThroughputStat{Min: 0, Mean: 1180.4, Median: 980.5, Max: 2410.25},
				Latency:        pct(1.9, 3.1, 6.4, 9.8, 11.2, 11.5),
				ServiceTime:    pct(1.8, 3.0, 6.2, 9.5, 11.0, 11.4),
				ProcessingTime: pct(2.0, 3.3, 6.6, 10.1, 11.6, 12.0),
				LatencyMean:    2.2, ServiceTimeMean: 2.1, ProcessingTimeMean: 2.4,
				ErrorServiceTime:     pct(0.14, 0.21, 0.48, 1.2, 1002.5, 1003),
				ErrorServiceTimeMean: 0.2,
				Requests:             11804, Errors: 2234, ErrorRate: 2234.0 / 11804,
				ErrorsByType: map[string]int64{"connection": 2233, "timeout": 1},
				ErrorTimes: map[string]metrics.ErrorSpan{
					"connection": {First: at(4.06), Last: at(10)},
					"timeout":    {First: at(5.01), Last: at(5.01)},
				},
				Duration: 10 * time.Second, Start: start, End: at(10),
			},
			{
				Task: "search-term", Operation: "search-term", OpType: "search", ThroughputUnit: "ops/s",
				Throughput:           metrics.ThroughputStat{Min: 5120, Mean: 5311.2, Median: 5302, Max: 5520},
				ErrorServiceTime:     pct(0.13, 0.19, 0.4, 0.9, 1.1, 1.3),
				ErrorServiceTimeMean: 0.15,
				Requests:             26560, Errors: 26560, ErrorRate: 1,
				ErrorsByType: map[string]int64{"connection": 26560},
				ErrorTimes:   map[string]metrics.ErrorSpan{"connection": {First: at(10.2), Last: at(15.2)}},
				Duration:     5 * time.Second, Start: at(10.2), End: at(15.2),
			},
		}},
	}
}

// contenderRace is fixedRace run again, faster at indexing, slower at
// searching, with one task renamed.
func contenderRace() *Race {
	r := fixedRace()
	r.ID = "20261126T080000Z-a1b2c3"
	r.Created = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	r.DistributionVersion = "8.16.0"
	r.UserTags = map[string]string{"intention": "contender"}
	r.Summary.Cluster.IndexingTime = 11 * time.Minute
	r.Summary.Cluster.SegmentCount = 90
	r.Summary.Cluster.YoungGCTime, r.Summary.Cluster.YoungGCCount = 2904*time.Millisecond, 320
	r.Summary.Cluster.OldGCTime, r.Summary.Cluster.OldGCCount = 1200*time.Millisecond, 2
	idx := &r.Summary.Tasks[0]
	idx.Throughput = metrics.ThroughputStat{Min: 1300, Mean: 105221.9, Median: 106000, Max: 1.5e6}
	idx.Latency = pct(230, 290, 400, 580, 700, 790)
	term := &r.Summary.Tasks[1]
	term.Latency = pct(3.5, 4.8, 10.2, 12.5, 14, 15)
	term.Errors, term.ErrorRate = 0, 0
	r.Summary.Tasks[2].Task = "force-merge"
	n0 := &r.Nodes[0]
	n0.Version = "8.16.0"
	n0.YoungGCTime, n0.YoungGCCount = 1650*time.Millisecond, 172
	n0.OldGCTime, n0.OldGCCount, n0.CPUTime, n0.CPUPercent = 1200*time.Millisecond, 2, ptr(9*time.Minute+2*time.Second), ptr(164.242424)
	n0.DiskWriteBytes = ptr(int64(12884901888)) // 12288 MB
	// The second node's heap maximum was not read this time.
	r.Nodes[1].HeapMaxBytes = nil
	return r
}
