package metricsstore

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDocumentsGolden pins the bulk body of a race: the shapes dashboards
// read (esrally's race, results and metrics documents).
func TestDocumentsGolden(t *testing.T) {
	bodies, counts, err := bulkBodies(Documents(fixedRace(), "nightly"), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 {
		t.Fatalf("%d bodies, want 1", len(bodies))
	}
	golden(t, "bulk.ndjson.golden", bodies[0])
	if lines := strings.Count(string(bodies[0]), "\n"); lines != 2*counts[0] {
		t.Errorf("%d lines for %d documents", lines, counts[0])
	}
}

// TestDocuments checks the documents one family at a time.
func TestDocuments(t *testing.T) {
	r := fixedRace()
	docs := Documents(r, "local")
	by := map[string][]Document{}
	for _, d := range docs {
		by[d.Index] = append(by[d.Index], d)
		// Every document goes through JSON: no NaN, no odd type.
		if _, err := json.Marshal(d.Body); err != nil {
			t.Fatalf("%s/%s: %v", d.Index, d.ID, err)
		}
	}
	t.Run("one_race_document_named_by_the_race_id", func(t *testing.T) {
		races := by["rally-races-2026-11"]
		if len(races) != 1 || races[0].ID != r.ID {
			t.Fatalf("race documents %+v", races)
		}
		b := races[0].Body
		if b["race-id"] != r.ID || b["race-timestamp"] != "20261125T101500Z" || b["track"] != "geonames" || b["status"] != "completed" {
			t.Errorf("race document %v", b)
		}
		ops := b["results"].(map[string]any)["op_metrics"].([]map[string]any)
		if len(ops) != 3 || ops[0]["task"] != "index-append" {
			t.Fatalf("op_metrics %v", ops)
		}
		lat := ops[0]["latency"].(map[string]any)
		if lat["99_0"] != 410.2 || lat["100_0"] != 802.1 || lat["mean"] != 250.5 || lat["unit"] != "ms" {
			t.Errorf("latency of index-append %v", lat)
		}
	})
	t.Run("results_per_task_and_metric_and_cluster_figure", func(t *testing.T) {
		names := map[string]int{}
		for _, d := range by["rally-results-2026-11"] {
			key, _ := d.Body["task"].(string)
			names[key+"/"+d.Body["name"].(string)]++
			if d.Body["active"] != true || d.Body["distribution-major-version"] != 2 || d.Body["environment"] != "local" {
				t.Errorf("result %v", d.Body)
			}
		}
		for _, want := range []string{"index-append/throughput", "index-append/latency", "index-append/service_time",
			"index-append/processing_time", "index-append/error_rate", "term/error_rate", "refresh/error_rate",
			"/total_time", "/young_gc_count", "/store_size"} {
			if names[want] != 1 {
				t.Errorf("%s: %d results, want 1 (have %v)", want, names[want], names)
			}
		}
		if names["refresh/throughput"] != 0 {
			t.Errorf("a task that measured nothing has a throughput result")
		}
	})
	t.Run("metrics_per_second_and_per_percentile", func(t *testing.T) {
		var normal, warmup, percentiles int
		for _, d := range by["rally-metrics-2026-11"] {
			b := d.Body
			switch {
			case b["name"] == "throughput" && b["sample-type"] == "normal":
				normal++
			case b["name"] == "throughput" && b["sample-type"] == "warmup":
				warmup++
			case b["percentile"] != nil:
				percentiles++
			}
			if b["task"] == "index-append" && b["name"] == "throughput" && b["relative-time"] == 2000.0 {
				if b["value"] != 10000.0 || b["unit"] != "docs/s" || b["@timestamp"] != r.Created.UnixMilli()+2000 {
					t.Errorf("throughput of second 2: %v", b)
				}
			}
			if b["task"] == "term" && b["name"] == "service_time" && b["percentile"] == 99.0 {
				if b["value"] != 8.1 || b["sample-type"] != "normal" || b["operation-type"] != "search" || b["@timestamp"] != r.Created.UnixMilli()+6000 {
					t.Errorf("service time p99 of term: %v", b)
				}
			}
		}
		if normal != 5 || warmup != 2 || percentiles != 2*3*4 {
			t.Errorf("%d normal and %d warmup throughput samples, %d percentiles; want 5, 2, 24", normal, warmup, percentiles)
		}
	})
	t.Run("ids_are_stable", func(t *testing.T) {
		again := Documents(fixedRace(), "local")
		for i := range docs {
			if docs[i].ID != again[i].ID || docs[i].Index != again[i].Index {
				t.Fatalf("document %d: %s/%s then %s/%s", i, docs[i].Index, docs[i].ID, again[i].Index, again[i].ID)
			}
		}
	})
}

func TestPercentileKey(t *testing.T) {
	for in, want := range map[string]string{"50": "50_0", "99.9": "99_9", "99.99": "99_99", "100": "100_0"} {
		if got := percentileKey(in); got != want {
			t.Errorf("percentileKey(%q) = %q, want %q", in, got, want)
		}
	}
}
