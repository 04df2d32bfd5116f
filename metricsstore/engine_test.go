package metricsstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"rally/provision"
)

// The real engines of TestRealEngine, from the Maven cache that
// scripts/engines.sh fills, the JDK they run on, and the unprivileged user
// they run as when the tests run as root (scripts/deps.sh creates it).
var engines = []struct{ name, archive string }{
	{"opensearch-2.19.1", "org/opensearch/distribution/integ-test-zip/opensearch/2.19.1/opensearch-2.19.1.zip"},
	{"elasticsearch-7.17.28", "org/elasticsearch/distribution/integ-test-zip/elasticsearch/7.17.28/elasticsearch-7.17.28.zip"},
	{"elasticsearch-8.17.0", "org/elasticsearch/distribution/integ-test-zip/elasticsearch/8.17.0/elasticsearch-8.17.0.zip"},
}

const (
	java17   = "/usr/lib/jvm/java-17-openjdk-amd64"
	nodeUser = "rally-node"
)

// TestRealEngine writes a saved race into a real node of each engine
// (OpenSearch 2, Elasticsearch 7.17 and 8) and reads it back with the
// engine's own _search: the templates took, the race document, the results
// per task and metric, and the metrics documents are there; writing again
// replaces them; and once the node is stopped, a race is a warning, not a
// failure.
func TestRealEngine(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { testRealEngine(t, e.name, e.archive) })
	}
}

func testRealEngine(t *testing.T, name, archivePath string) {
	base, stop := startEngine(t, name, archivePath)
	w := newWriter(t, base, Config{Retries: 1})
	r := fixedRace()
	w.Publish(context.Background(), r)
	if err := w.Wait(context.Background()); err != nil {
		t.Fatalf("write the race: %v", err)
	}
	call(t, "POST", base+"/rally-*/_refresh", "")

	t.Run("templates_mapped_the_indices", func(t *testing.T) {
		m := call(t, "GET", base+"/rally-metrics-2026-11/_mapping", "")
		props := m["rally-metrics-2026-11"].(map[string]any)["mappings"].(map[string]any)["properties"].(map[string]any)
		for field, typ := range map[string]string{"value": "float", "race-id": "keyword", "@timestamp": "date", "sample-type": "keyword", "percentile": "float"} {
			if got := props[field].(map[string]any)["type"]; got != typ {
				t.Errorf("rally-metrics field %s is %v, want %s", field, got, typ)
			}
		}
	})
	t.Run("race_document", func(t *testing.T) {
		hits := search(t, base, "rally-races-*", map[string]any{"term": map[string]any{"race-id": r.ID}})
		if len(hits) != 1 || hits[0]["track"] != "geonames" || hits[0]["status"] != "completed" {
			t.Fatalf("race documents %v", hits)
		}
	})
	t.Run("results_per_task_and_metric", func(t *testing.T) {
		all := search(t, base, "rally-results-*", map[string]any{"term": map[string]any{"race-id": r.ID}})
		if want := len(resultDocs(r, "local")); len(all) != want {
			t.Errorf("%d results, want %d", len(all), want)
		}
		hits := search(t, base, "rally-results-*", map[string]any{"bool": map[string]any{"filter": []any{
			map[string]any{"term": map[string]any{"task": "term"}},
			map[string]any{"term": map[string]any{"name": "service_time"}},
		}}})
		if len(hits) != 1 || hits[0]["value"].(map[string]any)["99_0"] != 8.1 {
			t.Errorf("service_time of term: %v", hits)
		}
	})
	t.Run("metrics_documents", func(t *testing.T) {
		hits := search(t, base, "rally-metrics-*", map[string]any{"bool": map[string]any{"filter": []any{
			map[string]any{"term": map[string]any{"task": "index-append"}},
			map[string]any{"term": map[string]any{"name": "throughput"}},
			map[string]any{"term": map[string]any{"sample-type": "normal"}},
		}}})
		var sum float64
		for _, h := range hits {
			sum += h["value"].(float64)
		}
		if len(hits) != 3 || sum != 30000 {
			t.Errorf("throughput samples of index-append: %d summing to %v, want 3 summing to 30000", len(hits), sum)
		}
		if n := len(search(t, base, "rally-metrics-*", map[string]any{"term": map[string]any{"race-id": r.ID}})); n != len(metricDocs(r, "local")) {
			t.Errorf("%d metrics documents, want %d", n, len(metricDocs(r, "local")))
		}
	})
	t.Run("written_again_replaces", func(t *testing.T) {
		if err := newWriter(t, base, Config{}).Write(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		call(t, "POST", base+"/rally-*/_refresh", "")
		if n, want := len(search(t, base, "rally-*", map[string]any{"term": map[string]any{"race-id": r.ID}})), len(Documents(r, "local")); n != want {
			t.Errorf("%d documents after a second write, want %d", n, want)
		}
	})
	t.Run("stopped_store_is_a_warning", func(t *testing.T) {
		stop()
		other := fixedRace()
		other.ID = "20261125T120000Z-000002"
		w.Publish(context.Background(), other)
		err := w.Wait(context.Background())
		if err == nil || !strings.Contains(err.Error(), "race "+other.ID+" not written") {
			t.Fatalf("Wait = %v, want a warning naming the race", err)
		}
	})
}

// startEngine starts a one-node cluster of an engine's archive and
// returns its URL and a function that stops it (also run at the test's
// end).
func startEngine(t *testing.T, name, archivePath string) (string, func()) {
	t.Helper()
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(home, ".m2", "repository", archivePath)
	var missing []string
	if _, err := os.Stat(archive); err != nil {
		missing = append(missing, "archive "+archive)
	}
	if _, err := os.Stat(filepath.Join(java17, "bin", "java")); err != nil {
		missing = append(missing, "JDK "+java17)
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("%s: missing %s; get them with: bash scripts/engines.sh", name, strings.Join(missing, " and "))
		if os.Getenv("RALLY_ENGINES") == "skip" {
			t.Skip(msg + " (skipped: RALLY_ENGINES=skip)")
		}
		t.Fatal(msg + " (or set RALLY_ENGINES=skip to skip real-engine tests)")
	}
	runAs := ""
	if os.Geteuid() == 0 {
		if _, err := user.Lookup(nodeUser); err != nil {
			t.Fatalf("user %s: %v; create it with: bash scripts/deps.sh", nodeUser, err)
		}
		runAs = nodeUser
	}
	// The node user must reach the cluster's directory (t.TempDir's
	// parents are 0700).
	dir, err := os.MkdirTemp("", "rally-metricsstore-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl, err := provision.StartCluster(ctx, provision.ClusterOptions{
		Archive: archive, JDKRoots: []string{java17}, RunAs: runAs,
		Dir: filepath.Join(dir, "cluster"), Name: "rally-metricsstore", Timeout: 3 * time.Minute,
		Progress: func(line string) { t.Log(line) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := cl.Stop(sctx, 30*time.Second, "", false); err != nil {
				t.Errorf("stop the node: %v", err)
			}
		})
	}
	t.Cleanup(stop) // registered after the directory's removal, so it runs first
	return "http://" + cl.TargetHosts(), stop
}

// call sends a request to the engine and decodes its 2xx answer.
func call(t *testing.T, method, url, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: HTTP %d: %s", method, url, resp.StatusCode, data)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return out
}

// search returns the sources of the documents of index that match query.
func search(t *testing.T, base, index string, query map[string]any) []map[string]any {
	t.Helper()
	var body bytes.Buffer
	json.NewEncoder(&body).Encode(map[string]any{"size": 1000, "query": query})
	ans := call(t, "POST", base+"/"+index+"/_search", body.String())
	var out []map[string]any
	for _, h := range ans["hits"].(map[string]any)["hits"].([]any) {
		out = append(out, h.(map[string]any)["_source"].(map[string]any))
	}
	return out
}
