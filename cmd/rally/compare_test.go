package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"rally/metrics"
	"rally/metricsstore"
	"rally/report"
)

// cliRace is a saved race of geonames, its figures scaled by scale.
func cliRace(id string, created time.Time, intention string, scale float64) *report.Race {
	pcts := func(p50 float64) map[string]float64 {
		return map[string]float64{"50": p50 * scale, "90": 1.5 * p50 * scale, "99": 2 * p50 * scale, "100": 3 * p50 * scale}
	}
	return &report.Race{
		ID: id, Created: created, Track: "geonames", Challenge: "append-no-conflicts",
		TargetHosts: []string{"127.0.0.1:9200"}, Distribution: "opensearch", DistributionVersion: "2.19.1",
		UserTags: map[string]string{"intention": intention}, Pipeline: "benchmark-only", Status: report.StatusCompleted,
		Summary: metrics.Summary{
			Cluster: metrics.ClusterFigures{IndexingTime: time.Duration(scale * float64(12*time.Minute)), MergeCount: 115,
				StoreSizeBytes: 1288490189, SegmentCount: 87, Available: true},
			Tasks: []metrics.TaskSummary{
				{Task: "index-append", Operation: "index-append", OpType: "bulk", ThroughputUnit: "docs/s",
					Throughput: metrics.ThroughputStat{Min: 9000 * scale, Mean: 10000 * scale, Median: 10000 * scale, Max: 11000 * scale},
					Latency:    pcts(240), ServiceTime: pcts(240), ProcessingTime: pcts(245), LatencyMean: 250 * scale,
					Requests: 500, ErrorRate: 0.01 * scale, Duration: 3 * time.Second},
				{Task: "term", Operation: "term", OpType: "search", ThroughputUnit: "ops/s",
					Throughput: metrics.ThroughputStat{Min: 50, Mean: 50 * scale, Median: 50, Max: 50 * scale},
					Latency:    pcts(3.2), ServiceTime: pcts(2.9), ProcessingTime: pcts(3), Requests: 100, Duration: 2 * time.Second},
			},
		},
	}
}

// cliRaces are three races in the local race directory of home: two of
// geonames a day apart and one of another track.
func cliRaces(t *testing.T, home string) []*report.Race {
	t.Helper()
	races := []*report.Race{
		cliRace("20261201T080000Z-a1b2c3", time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), "baseline", 1),
		cliRace("20261202T080000Z-d4e5f6", time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC), "contender", 1.1),
		cliRace("20261203T080000Z-778899", time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC), "other", 0.9),
	}
	races[2].Track = "nyc_taxis"
	store := report.Store{Dir: filepath.Join(home, "races")}
	for _, r := range races {
		if err := store.Save(r); err != nil {
			t.Fatal(err)
		}
	}
	return races
}

// searchStore is an Elasticsearch-like metrics store holding the race
// documents metricsstore writes for races: a search naming a race id
// (term or prefix) answers that race's document, any other answers them
// all, newest first, as many as the search's size. It keeps the searches
// and their Authorization headers.
type searchStore struct {
	mu       sync.Mutex
	searches []string
	auth     []string
}

func newSearchStore(t *testing.T, races []*report.Race) (*searchStore, string) {
	t.Helper()
	type hit struct {
		Index  string         `json:"_index"`
		ID     string         `json:"_id"`
		Source map[string]any `json:"_source"`
	}
	var hits []hit // newest first
	for _, r := range races {
		d := metricsstore.Documents(r, "local")[0]
		hits = append(hits, hit{d.Index, d.ID, d.Body})
	}
	slices.Reverse(hits)
	s := &searchStore{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/rally-races-*/_search" {
			http.Error(w, `{"error":"no such call"}`, http.StatusNotFound)
			return
		}
		data, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.searches = append(s.searches, string(data))
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.mu.Unlock()
		var q struct {
			Size  int `json:"size"`
			Query struct {
				Bool struct {
					Filter []map[string]map[string]any `json:"filter"`
				} `json:"bool"`
			} `json:"query"`
		}
		if err := json.Unmarshal(data, &q); err != nil {
			http.Error(w, `{"error":"not json"}`, http.StatusBadRequest)
			return
		}
		match := func(h hit) bool { return true }
		for _, f := range q.Query.Bool.Filter {
			if id, ok := f["term"]["race-id"].(string); ok {
				match = func(h hit) bool { return h.ID == id }
			}
			if prefix, ok := f["prefix"]["race-id"].(string); ok {
				match = func(h hit) bool { return strings.HasPrefix(h.ID, prefix) }
			}
		}
		found := []hit{}
		for _, h := range hits {
			if match(h) && len(found) < q.Size {
				found = append(found, h)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"_shards": map[string]any{"failed": 0}, "hits": map[string]any{"hits": found}})
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// goneStore is the URL of a port nothing listens on.
func goneStore(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}

// TestCompareFromStore: with a metrics store, compare reads the races from
// it and prints what it prints for their race.json files, the source
// named first; a race the store lacks is bad usage, a store that cannot
// answer a failure naming it.
func TestCompareFromStore(t *testing.T) {
	home := t.TempDir()
	races := cliRaces(t, home)
	_, url := newSearchStore(t, races)
	args := []string{"compare", "--baseline", races[0].ID, "--contender", races[1].ID[:20]}

	t.Run("json_as_from_race_json", func(t *testing.T) {
		local := runIn(t, home, append(args, "--json")...)
		stored := runIn(t, t.TempDir(), append(args, "--json", "--metrics-store", url)...)
		if local.code != 0 || stored.code != 0 {
			t.Fatalf("local: %s\nstore: %s", local, stored)
		}
		if stored.stdout != local.stdout {
			t.Errorf("compare from the store differs from compare of the race.json files:\n--- store:\n%s--- local:\n%s", stored.stdout, local.stdout)
		}
		var c report.Comparison
		if err := json.Unmarshal([]byte(stored.stdout), &c); err != nil || len(c.Rows) < 20 || c.Contender.ID != races[1].ID {
			t.Errorf("comparison %+v, %v", c, err)
		}
	})
	t.Run("text_names_the_source", func(t *testing.T) {
		local := runIn(t, home, args...)
		t.Setenv("RALLY_METRICS_STORE", url) // the store given by the environment
		stored := runIn(t, t.TempDir(), args...)
		if local.code != 0 || stored.code != 0 {
			t.Fatalf("local: %s\nstore: %s", local, stored)
		}
		wantLocal := "Races from " + filepath.Join(home, "races") + "\n\nComparing baseline\n"
		wantStore := "Races from the metrics store at " + url + " (environment local)\n\nComparing baseline\n"
		if !strings.HasPrefix(local.stdout, wantLocal) || !strings.HasPrefix(stored.stdout, wantStore) {
			t.Fatalf("want the source first:\n%s\n%s", local.stdout, stored.stdout)
		}
		if strings.TrimPrefix(local.stdout, wantLocal) != strings.TrimPrefix(stored.stdout, wantStore) {
			t.Errorf("tables differ:\n--- store:\n%s--- local:\n%s", stored.stdout, local.stdout)
		}
	})
	t.Run("unknown_race_is_bad_usage", func(t *testing.T) {
		r := runIn(t, t.TempDir(), "compare", "--baseline", "20251231", "--contender", races[1].ID, "--metrics-store", url)
		want := "rally compare: --baseline: metrics store " + url + ": race 20251231: unknown race: no race with that id or id prefix\n"
		if r.code != 2 || r.stderr != want || r.stdout != "" {
			t.Errorf("want exit 2 and %q, got %s", want, r)
		}
	})
	t.Run("unreachable_store_fails_naming_it", func(t *testing.T) {
		gone := goneStore(t)
		r := runIn(t, home, "compare", "--baseline", races[0].ID, "--contender", races[1].ID, "--metrics-store", gone)
		want := fmt.Sprintf("rally compare: --baseline: metrics store %s: race %s: POST /rally-races-*/_search: dial tcp ", gone, races[0].ID)
		if r.code != 1 || !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "connection refused") || r.stdout != "" {
			t.Errorf("want exit 1 and %q... connection refused, got %s", want, r)
		}
	})
}
