package metricsstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"rally/provision/enginetest"
	"rally/report"
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
// replaces them; two more races read back (Reader) list newest first and
// compare as their race.json files do; and once the node is stopped, a
// race is a warning, not a failure, and a read is an error naming the
// store.
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
	t.Run("read_back", func(t *testing.T) { testReadBack(t, engine+"-"+version, base, w, r) })
	t.Run("stopped_store_is_a_warning", func(t *testing.T) {
		stop()
		other := fixedRace()
		other.ID = "20261125T120000Z-000002"
		w.Publish(context.Background(), other)
		err := w.Wait(context.Background())
		if err == nil || !strings.Contains(err.Error(), "race "+other.ID+" not written") {
			t.Fatalf("Wait = %v, want a warning naming the race", err)
		}
		rd := newReader(t, base, Config{Timeout: 10 * time.Second}, nil)
		_, err = rd.List(context.Background(), RaceFilter{}, 10)
		if err == nil || !strings.Contains(err.Error(), "metrics store "+base+": list races: ") || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("List on a stopped store = %v, want an error naming the store and the reason", err)
		}
	})
}

// testReadBack writes readBackRaces to the engine at base (which holds
// earlier, also fixedRace) and reads them back as `rally list races` and
// `rally compare` do with a store. With -record, the engine's answers go
// to testdata/recorded/<name>-*.json for the tests that serve them.
func testReadBack(t *testing.T, name, base string, w *Writer, earlier *report.Race) {
	a, b := readBackRaces()
	for _, r := range []*report.Race{a, b} {
		if err := w.Write(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	call(t, "POST", base+"/rally-*/_refresh", "")
	rec := &recorder{}
	rd := newReader(t, base, Config{}, rec)
	ctx := context.Background()

	races, err := rd.List(ctx, RaceFilter{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	rec.save(t, name+"-list.json")
	var ids []string
	for _, r := range races {
		ids = append(ids, r.ID)
	}
	if want := []string{b.ID, a.ID, earlier.ID}; !slices.Equal(ids, want) {
		t.Fatalf("list races: %v, want newest first %v", ids, want)
	}
	if got := races[0]; got.Track != b.Track || got.Challenge != b.Challenge || got.Car != b.Car ||
		!maps.Equal(got.UserTags, b.UserTags) || !slices.Equal(got.TargetHosts, b.TargetHosts) ||
		got.Distribution != b.Distribution || got.DistributionVersion != b.DistributionVersion ||
		!got.Created.Equal(b.Created) || got.Status != b.Status || got.Pipeline != b.Pipeline {
		t.Errorf("listed %+v, want the fields of %+v", got, b)
	}
	if len(races[0].Summary.Tasks) != 0 {
		t.Errorf("a listing read the results too")
	}

	filtered, err := rd.List(ctx, RaceFilter{From: b.Created, UserTags: map[string]string{"benchmark-name": "nightly"}}, 10)
	if err != nil || len(filtered) != 1 || filtered[0].ID != b.ID {
		t.Errorf("races from %s tagged benchmark-name nightly: %v, %v; want %s only", b.Created.Format("20060102"), filtered, err, b.ID)
	}
	if short, err := rd.List(ctx, RaceFilter{}, 1); err != nil || len(short) != 1 || short[0].ID != b.ID {
		t.Errorf("list races --limit 1: %v, %v; want %s", short, err, b.ID)
	}

	local := report.Store{Dir: t.TempDir()}
	for _, r := range []*report.Race{a, b} {
		if err := local.Save(r); err != nil {
			t.Fatal(err)
		}
	}
	la, err := local.Load(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := local.Load(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	sa, err := rd.Load(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	rec.save(t, name+"-race-"+a.ID+".json")
	sb, err := rd.Load(ctx, b.ID[:20]) // an id prefix, as for local races
	if err != nil {
		t.Fatal(err)
	}
	rec.save(t, name+"-race-"+b.ID+".json")
	sameComparison(t, report.Compare(la, lb), report.Compare(sa, sb))

	if _, err := rd.Load(ctx, "20251231T000000Z-000000"); !errors.Is(err, ErrUnknownRace) {
		t.Errorf("Load of a race not there = %v, want ErrUnknownRace", err)
	}
	if _, err := rd.Load(ctx, "202612"); !errors.Is(err, ErrUnknownRace) || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("Load of a prefix of two races = %v, want ambiguous", err)
	}
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
