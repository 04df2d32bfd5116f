package metricsstore

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"rally/provision/enginetest"
)

// The real engines of TestRealEngine, from the Maven cache that
// scripts/engines.sh fills.
var engines = []struct{ engine, version string }{
	{"opensearch", "2.19.1"},
	{"elasticsearch", "7.17.28"},
	{"elasticsearch", "8.17.0"},
}

// TestRealEngine writes a saved race into a real node of each engine
// (OpenSearch 2, Elasticsearch 7.17 and 8) and reads it back with the
// engine's own _search: the templates took, the race document, the results
// per task and metric, and the metrics documents are there; writing again
// replaces them; and once the node is stopped, a race is a warning, not a
// failure.
func TestRealEngine(t *testing.T) {
	for _, e := range engines {
		t.Run(e.engine+"-"+e.version, func(t *testing.T) { testRealEngine(t, e.engine, e.version) })
	}
}

func testRealEngine(t *testing.T, engine, version string) {
	cl, stop := enginetest.Start(t, enginetest.Archive(t, engine, version), enginetest.Options{Name: "rally-metricsstore"})
	base := "http://" + cl.TargetHosts()
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
