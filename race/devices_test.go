package race

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"rally/driver"
)

func TestParseTelemetry(t *testing.T) {
	tele, err := ParseTelemetry("node-stats, jfr,gc,node-stats", map[string]any{"node-stats-sample-interval": 5.0, "recording-template": "profile"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tele.Devices, ","); got != "node-stats,jfr,gc" {
		t.Errorf("devices %s", got)
	}
	if got := strings.Join(tele.NodeStart(), ","); got != "gc,jfr" {
		t.Errorf("node-start devices %s", got)
	}
	if got := strings.Join(tele.Race(), ","); got != "node-stats" {
		t.Errorf("race devices %s", got)
	}
	for _, tc := range []struct {
		list   string
		params map[string]any
		want   string
	}{
		{"node-stat", nil, `unknown telemetry device "node-stat" (did you mean "node-stats"?)`},
		{"perf", nil, `unknown telemetry device "perf" (rally list telemetry`},
		{"node-stats", map[string]any{"node-stats-sample-intervall": 1.0}, `did you mean "node-stats-sample-interval"?`},
		{"node-stats", map[string]any{"node-stats-sample-interval": 0.0}, "above zero"},
		{"node-stats", map[string]any{"node-stats-sample-interval": "x"}, "above zero"},
		{"node-stats", map[string]any{"node-stats-include-indices": "yes"}, "true or false"},
	} {
		if _, err := ParseTelemetry(tc.list, tc.params); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseTelemetry(%q, %v) = %v, want %q", tc.list, tc.params, err, tc.want)
		}
	}
	if tele, err := ParseTelemetry("", nil); err != nil || len(tele.Devices) != 0 {
		t.Errorf("no devices: %+v, %v", tele, err)
	}
}

func TestFlattenNodeStats(t *testing.T) {
	body := []byte(`{"nodes":{"b":{"name":"n2","host":"10.0.0.2","jvm":{"mem":{"heap_used_in_bytes":100,"pools":{"young":{"used_in_bytes":5}}},"gc":{"collectors":{"young":{"collection_count":3}}}},
		"thread_pool":{"search":{"queue":2,"rejected":0}},"breakers":{"parent":{"tripped":0}},"os":{"cpu":{"load_average":{"1m":0.5}}},"process":{"cpu":{"percent":7}},
		"transport":{"rx_count":10},"fs":{"data":[{"path":"/x"}]}},
		"a":{"name":"n1","indices":{"docs":{"count":1000}},"jvm":{"threads":{"count":80}}}}}`)
	at := time.Date(2026, 12, 5, 17, 0, 0, 0, time.UTC)
	docs, err := flattenNodeStats(body, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0]["node_name"] != "n1" || docs[1]["node_name"] != "n2" {
		t.Fatalf("docs %v", docs)
	}
	n2 := docs[1]
	for k, want := range map[string]any{
		"jvm_mem_heap_used_in_bytes": 100.0, "jvm_mem_pools_young_used_in_bytes": 5.0, "jvm_gc_collectors_young_collection_count": 3.0,
		"thread_pool_search_queue": 2.0, "breakers_parent_tripped": 0.0, "os_cpu_load_average_1m": 0.5, "process_cpu_percent": 7.0,
		"transport_rx_count": 10.0, "host": "10.0.0.2", "name": "node-stats", "@timestamp": "2026-12-05T17:00:00Z",
	} {
		if n2[k] != want {
			t.Errorf("%s = %v, want %v", k, n2[k], want)
		}
	}
	if _, ok := n2["fs_data"]; ok {
		t.Error("a list was flattened")
	}
	if docs[0]["indices_docs_count"] != 1000.0 {
		t.Errorf("indices: %v", docs[0])
	}
	if _, err := flattenNodeStats([]byte("{"), at); err == nil {
		t.Error("broken JSON accepted")
	}
}

func TestNodeStatsRecorder(t *testing.T) {
	dir := t.TempDir()
	c := &fakeStatsClient{body: []byte(`{"nodes":{"x":{"name":"n1","jvm":{"mem":{"heap_used_in_bytes":1}}}}}`)}
	tele, _ := ParseTelemetry("node-stats", map[string]any{"node-stats-sample-interval": 0.01, "node-stats-include-indices": true})
	r, err := startNodeStats(c, tele, dir)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	n, err := r.finish()
	if err != nil || n < 2 {
		t.Fatalf("%d samples, %v", n, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "node-stats.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); lines != n {
		t.Errorf("%d lines for %d samples", lines, n)
	}
	if c.path() != "/_nodes/stats/"+nodeStatsSections+",indices" {
		t.Errorf("asked %s", c.path())
	}
}

// fakeStatsClient answers every request with body.
type fakeStatsClient struct {
	body []byte
	mu   sync.Mutex
	last string
}

func (c *fakeStatsClient) Do(ctx context.Context, req *driver.Request, resp *driver.Response) error {
	c.mu.Lock()
	c.last = req.Path
	c.mu.Unlock()
	resp.Status, resp.Body = 200, c.body
	return nil
}

func (c *fakeStatsClient) path() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}
