package driver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"rally/metrics"
)

// The files under testdata/nodestats are what real single-node clusters
// (the integ-test archives, on loopback, Linux) answered to
// GET /_nodes/stats/jvm,process,fs before and after five bulk requests of
// 2000 documents, and to GET /_nodes/_all/_none, untrimmed.
var realNodeStats = []string{
	"elasticsearch-7.17.28", "elasticsearch-8.17.0", "elasticsearch-9.2.0",
	"opensearch-2.19.1", "opensearch-3.0.0",
}

func nodeStatsFile(t testing.TB, engine, kind string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "nodestats", engine+"."+kind+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ptr[T any](v T) *T { return &v }

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

// serveNodes answers every request with body and returns a client of it.
func serveNodes(t *testing.T, status int, body string) (*testES, Client) {
	t.Helper()
	srv := newTestES(t, func(r recReq) (int, string) { return status, body })
	c, err := NewFastClient(srv.target(), DefaultClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return srv, c
}

// TestNodeUsageOfRealNodes reads the answers of real nodes at both ends
// and checks every figure of the node's usage against the files.
func TestNodeUsageOfRealNodes(t *testing.T) {
	young := func(count, took int64) metrics.GCFigures {
		return metrics.GCFigures{YoungGCCount: count, YoungGCTime: ms(took), GCAvailable: true}
	}
	tests := []struct {
		engine string
		// The usage: elapsed and cpu in ms, disk in kilobytes as the nodes
		// report it, heap used at the end.
		elapsed, cpu    int64
		readKB, writeKB int64
		heapUsed        int64
		gc              metrics.GCFigures
		// The start snapshot's CPU time (ms) and heap used.
		startCPU, startHeap int64
	}{
		{"elasticsearch-7.17.28", 1508, 2800, 0, 2000, 147117200, young(1, 32), 7130, 148234160},
		{"elasticsearch-8.17.0", 2999, 3260, 24, 16360, 240889640, young(0, 0), 9890, 73117480},
		// G1's concurrent cycles (JDK 20 and later) have no class.
		{"elasticsearch-9.2.0", 2005, 3270, 68, 2284, 461373440, young(0, 0), 10430, 255852544},
		{"opensearch-2.19.1", 1347, 2550, 0, 1892, 150153216, young(1, 11), 6400, 69412864},
		{"opensearch-3.0.0", 1817, 2960, 676, 1952, 286411792, young(0, 0), 11030, 97668112},
	}
	for _, tt := range tests {
		t.Run(tt.engine, func(t *testing.T) {
			_, startClient := serveNodes(t, 200, nodeStatsFile(t, tt.engine, "stats-start"))
			srv, endClient := serveNodes(t, 200, nodeStatsFile(t, tt.engine, "stats-end"))
			start, err := ReadNodeStats(context.Background(), startClient)
			if err != nil {
				t.Fatal(err)
			}
			end, err := ReadNodeStats(context.Background(), endClient)
			if err != nil {
				t.Fatal(err)
			}
			if sent := srv.requests(); len(sent) != 1 || sent[0].Method+" "+sent[0].URI != "GET /_nodes/stats/jvm,process,fs" {
				t.Errorf("sent %v, want one GET /_nodes/stats/jvm,process,fs", sent)
			}
			n, ok := start["probe-node-0"]
			if !ok || len(start) != 1 {
				t.Fatalf("start snapshot %+v, want node probe-node-0 alone", start)
			}
			if n.Host != "127.0.0.1" || n.CPUTime == nil || *n.CPUTime != ms(tt.startCPU) ||
				n.HeapUsedBytes == nil || *n.HeapUsedBytes != tt.startHeap || n.HeapMaxBytes == nil || *n.HeapMaxBytes != 1<<30 ||
				n.DiskReadBytes == nil || n.DiskWriteBytes == nil || n.At.IsZero() {
				t.Errorf("start snapshot of the node: %+v", n)
			}
			usage := NodeUsageSince(start, end)
			pct := float64(tt.cpu) / float64(tt.elapsed) * 100
			want := []NodeUsage{{
				Name: "probe-node-0", Host: "127.0.0.1", Elapsed: ms(tt.elapsed), GC: tt.gc,
				CPUTime: ptr(ms(tt.cpu)), CPUPercent: &pct,
				DiskReadBytes: ptr(tt.readKB * 1024), DiskWriteBytes: ptr(tt.writeKB * 1024),
				HeapUsedBytes: ptr(tt.heapUsed), HeapMaxBytes: ptr(int64(1 << 30)),
			}}
			if !reflect.DeepEqual(usage, want) {
				t.Errorf("usage\n%s\nwant\n%s", usageString(usage), usageString(want))
			}
			// The node rows add up to the cluster rows.
			if got := GCSince(start.GC(), end.GC()); got != usage[0].GC {
				t.Errorf("cluster GC %+v, node GC %+v", got, usage[0].GC)
			}
		})
	}
}

// TestNodeStatsAbsentFigures: a figure the node does not report is nil,
// never zero.
func TestNodeStatsAbsentFigures(t *testing.T) {
	tests := []struct {
		name string
		body string
		want NodeStats
	}{
		// An answer to GET /_nodes/stats/jvm alone: no process or fs, and
		// this build reports no heap maximum.
		{"jvm_only_has_gc_and_heap_used", gcOS2191G1, NodeStats{Name: "probe-os2-g1", Host: "127.0.0.1",
			At: time.UnixMilli(1796484654604), GC: NodeGC{GCYoung: gcCounts(8, 285), GCOld: gcCounts(0, 0)},
			HeapUsedBytes: ptr(int64(28408320))}},
		// A JVM that cannot read the process's CPU time reports -1; a node
		// off Linux (or whose data path has no block device) has fs
		// without io_stats.
		{"unknown_cpu_and_no_io_stats",
			`{"nodes":{"x1":{"name":"mac","timestamp":1000,"process":{"cpu":{"percent":-1,"total_in_millis":-1}},` +
				`"jvm":{"mem":{"heap_used_in_bytes":5,"heap_max_in_bytes":10}},"fs":{"total":{"total_in_bytes":1},"io_stats":{}}}}}`,
			NodeStats{Name: "mac", At: time.UnixMilli(1000), GC: NodeGC{}, HeapUsedBytes: ptr(int64(5)), HeapMaxBytes: ptr(int64(10))}},
		{"zero_is_a_figure", `{"nodes":{"x1":{"name":"z","process":{"cpu":{"total_in_millis":0}},` +
			`"fs":{"io_stats":{"total":{"read_kilobytes":0,"write_kilobytes":0}}}}}}`,
			NodeStats{Name: "z", GC: NodeGC{}, CPUTime: ptr(time.Duration(0)), DiskReadBytes: ptr(int64(0)), DiskWriteBytes: ptr(int64(0))}},
		{"no_nodes", `{"_nodes":{"total":0,"successful":0,"failed":0},"cluster_name":"c","nodes":{}}`, NodeStats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := serveNodes(t, 200, tt.body)
			snap, err := ReadNodeStats(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			want := NodeStatsSnapshot{}
			if tt.want.Name != "" {
				want[tt.want.Name] = tt.want
			}
			if !reflect.DeepEqual(snap, want) {
				t.Errorf("snapshot %+v, want %+v", snap, want)
			}
		})
	}
}

func TestNodeUsageSince(t *testing.T) {
	at := func(sec int64) time.Time { return time.Unix(1796480000+sec, 0) }
	node := func(name string, sec, cpuMS, writeKB int64, gc NodeGC) NodeStats {
		return NodeStats{Name: name, At: at(sec), CPUTime: ptr(ms(cpuMS)), DiskWriteBytes: ptr(writeKB * 1024), GC: gc,
			HeapUsedBytes: ptr(cpuMS), HeapMaxBytes: ptr(int64(100))}
	}
	g1 := func(count, took int64) NodeGC { return NodeGC{GCYoung: gcCounts(count, took), GCOld: gcCounts(0, 0)} }
	t.Run("each_node_in_both_snapshots_sorted_by_name", func(t *testing.T) {
		start := NodeStatsSnapshot{"b": node("b", 0, 1000, 10, g1(1, 10)), "a": node("a", 0, 500, 0, g1(0, 0)),
			"left": node("left", 0, 1, 1, g1(1, 1))}
		end := NodeStatsSnapshot{"b": node("b", 10, 6000, 30, g1(4, 70)), "a": node("a", 20, 500, 0, g1(0, 0)),
			"joined": node("joined", 10, 99, 99, g1(9, 9))}
		got := NodeUsageSince(start, end)
		if len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
			t.Fatalf("usage %s, want a and b", usageString(got))
		}
		b := got[1]
		if b.Elapsed != 10*time.Second || *b.CPUTime != 5*time.Second || *b.CPUPercent != 50 || *b.DiskWriteBytes != 20*1024 ||
			b.DiskReadBytes != nil || *b.HeapUsedBytes != 6000 || b.GC.YoungGCCount != 3 || b.GC.YoungGCTime != ms(60) {
			t.Errorf("node b: %s", usageString(got[1:]))
		}
		if a := got[0]; *a.CPUTime != 0 || *a.CPUPercent != 0 || *a.DiskWriteBytes != 0 || !a.GC.GCAvailable {
			t.Errorf("an idle node has zeros, not nils: %s", usageString(got[:1]))
		}
		sum := metrics.GCFigures{}
		for _, u := range got {
			sum.YoungGCCount += u.GC.YoungGCCount
			sum.YoungGCTime += u.GC.YoungGCTime
			sum.GCAvailable = sum.GCAvailable || u.GC.GCAvailable
		}
		if cluster := GCSince(start.GC(), end.GC()); cluster != sum {
			t.Errorf("cluster GC %+v, sum of the nodes %+v", cluster, sum)
		}
	})
	t.Run("a_restarted_node_has_no_cpu_or_disk_figures", func(t *testing.T) {
		got := NodeUsageSince(NodeStatsSnapshot{"n": node("n", 0, 90000, 500, g1(50, 500))},
			NodeStatsSnapshot{"n": node("n", 60, 3000, 20, g1(2, 20))})
		if u := got[0]; u.CPUTime != nil || u.CPUPercent != nil || u.DiskWriteBytes != nil || *u.HeapUsedBytes != 3000 ||
			u.GC.YoungGCCount != 0 || !u.GC.GCAvailable {
			t.Errorf("usage %s", usageString(got))
		}
	})
	t.Run("undated_figures_have_no_cpu_percent", func(t *testing.T) {
		s, e := node("n", 0, 1000, 0, nil), node("n", 5, 2000, 0, nil)
		e.At = time.Time{}
		got := NodeUsageSince(NodeStatsSnapshot{"n": s}, NodeStatsSnapshot{"n": e})
		if u := got[0]; u.Elapsed != 0 || u.CPUPercent != nil || *u.CPUTime != time.Second || u.GC.GCAvailable {
			t.Errorf("usage %s", usageString(got))
		}
	})
	t.Run("a_figure_missing_at_one_end_is_nil", func(t *testing.T) {
		s, e := node("n", 0, 1000, 0, nil), node("n", 5, 2000, 0, nil)
		s.CPUTime, e.DiskWriteBytes, e.HeapMaxBytes = nil, nil, nil
		got := NodeUsageSince(NodeStatsSnapshot{"n": s}, NodeStatsSnapshot{"n": e})
		if u := got[0]; u.CPUTime != nil || u.CPUPercent != nil || u.DiskWriteBytes != nil || u.HeapMaxBytes != nil {
			t.Errorf("usage %s", usageString(got))
		}
	})
}

func TestReadNodeInfo(t *testing.T) {
	for _, engine := range realNodeStats {
		t.Run(engine, func(t *testing.T) {
			srv, c := serveNodes(t, 200, nodeStatsFile(t, engine, "info"))
			got, err := ReadNodeInfo(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			version := engine[strings.IndexByte(engine, '-')+1:]
			want := map[string]NodeInfo{"probe-node-0": {Name: "probe-node-0", Host: "127.0.0.1", IP: "127.0.0.1", Version: version}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("info %+v, want %+v", got, want)
			}
			if sent := srv.requests(); len(sent) != 1 || sent[0].Method+" "+sent[0].URI != "GET /_nodes/_all/_none" {
				t.Errorf("sent %v, want one GET /_nodes/_all/_none", sent)
			}
		})
	}
	t.Run("errors_name_the_call", func(t *testing.T) {
		_, c := serveNodes(t, 401, `{"error":"unauthorized"}`)
		_, err := ReadNodeInfo(context.Background(), c)
		if err == nil || !strings.Contains(err.Error(), "node info: GET /_nodes/_all/_none: HTTP 401") {
			t.Errorf("error %v", err)
		}
	})
}

// FuzzParseNodeStats: no answer makes the parser panic, and a figure is
// never negative.
func FuzzParseNodeStats(f *testing.F) {
	for _, engine := range realNodeStats {
		f.Add(nodeStatsFile(f, engine, "stats-end"))
	}
	f.Add(gcOS2191ZGC)
	f.Add(`{"nodes":{"a":{"process":{"cpu":{"total_in_millis":-1}},"fs":{"io_stats":{"total":{"read_kilobytes":-5}}}}}}`)
	f.Add(`{"nodes":{"a":{"process":{"cpu":{"total_in_millis":9223372036854775807}},` +
		`"fs":{"io_stats":{"total":{"write_kilobytes":9223372036854775807}}}}}}`)
	f.Fuzz(func(t *testing.T, body string) {
		snap, err := parseNodeStats([]byte(body))
		if err != nil {
			return
		}
		for name, n := range snap {
			for _, v := range []*int64{n.DiskReadBytes, n.DiskWriteBytes, n.HeapUsedBytes, n.HeapMaxBytes} {
				if v != nil && *v < 0 {
					t.Errorf("node %q: negative figure %d", name, *v)
				}
			}
			if n.CPUTime != nil && *n.CPUTime < 0 {
				t.Errorf("node %q: negative CPU time %v", name, *n.CPUTime)
			}
		}
	})
}

// usageString shows what the pointers of usages point to.
func usageString(us []NodeUsage) string {
	show := func(p any) string {
		v := reflect.ValueOf(p)
		if v.IsNil() {
			return "nil"
		}
		return fmt.Sprint(v.Elem().Interface())
	}
	var b strings.Builder
	for _, u := range us {
		fmt.Fprintf(&b, "%s host=%s elapsed=%v gc=%+v cpu=%s cpu%%=%s read=%s write=%s heap=%s of %s\n",
			u.Name, u.Host, u.Elapsed, u.GC, show(u.CPUTime), show(u.CPUPercent),
			show(u.DiskReadBytes), show(u.DiskWriteBytes), show(u.HeapUsedBytes), show(u.HeapMaxBytes))
	}
	return b.String()
}
