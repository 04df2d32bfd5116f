package track

import (
	"strconv"
	"testing"
	"time"
)

func TestTestMode(t *testing.T) {
	tr := mustLoad(t, LoadOptions{Path: sharedTrackPath("nested"), TestMode: true})
	if !tr.TestMode {
		t.Error("TestMode not recorded")
	}
	d := tr.Corpora[0].Documents[0]
	want := Documents{SourceFile: "documents-1k.json.bz2", DocumentFile: "documents-1k.json", DocumentArchive: "documents-1k.json.bz2",
		BaseURL: "https://rally-tracks.elastic.co/nested", SourceFormat: "bulk", DocumentCount: 1000, TargetIndex: "sonested"}
	if d.SourceFile != want.SourceFile || d.DocumentFile != want.DocumentFile || d.DocumentArchive != want.DocumentArchive ||
		d.DocumentCount != 1000 || d.CompressedBytes != 0 || d.UncompressedBytes != 0 || d.BaseURL != want.BaseURL {
		t.Errorf("documents = %+v\nwant %+v", d, want)
	}
	c := mustChallenge(t, tr, "")
	q := findTask(t, c, "randomized-nested-queries") // 2 clients, 500 warmup iterations, 1000 iterations, 20 ops/s
	if q.WarmupIterations != 2 || q.Iterations != 2 || q.TargetThroughput != testModeThroughput || q.TargetThroughputUnit != "ops/s" {
		t.Errorf("query task = %+v", q)
	}
	bulk := findTask(t, c, "index-append") // 120 s warmup, 3600 s
	if bulk.WarmupTimePeriod != 0 || bulk.TimePeriod != 10*time.Second {
		t.Errorf("bulk task warmup %v time %v", bulk.WarmupTimePeriod, bulk.TimePeriod)
	}

	perc := mustLoad(t, LoadOptions{Path: sharedTrackPath("percolator"), TestMode: true})
	iv := findTask(t, mustChallenge(t, perc, ""), "percolator_with_content_ignore_me")
	if iv.TargetInterval != 0 || iv.TargetThroughput != testModeThroughput || iv.WarmupIterations != 1 || iv.Iterations != 1 {
		t.Errorf("interval task = %+v", iv)
	}
}

func TestTestMode_file_names(t *testing.T) {
	cases := []struct {
		source          string
		count           int64
		wantSource      string
		wantFile        string
		wantCount       int64
		wantUncompBytes int64
	}{
		{"docs.json.bz2", 5000, "docs-1k.json.bz2", "docs-1k.json", 1000, 0},
		{"docs.json.zst", 5000, "docs-1k.json.zst", "docs-1k.json", 1000, 0},
		{"logs.ndjson", 5000, "logs-1k.ndjson", "logs-1k.ndjson", 1000, 0},
		{"archive.tar.gz", 5000, "archive-1k.tar.gz", "archive-1k", 1000, 0},
		{"small.json", 1000, "small.json", "small.json", 1000, 77},
	}
	for _, tc := range cases {
		tr := mustLoadString(t, `{"indices": [{"name": "i"}], "corpora": [{"name": "c", "documents": [
      {"source-file": "`+tc.source+`", "document-count": `+strconv.FormatInt(tc.count, 10)+`, "uncompressed-bytes": 77}]}],
      "schedule": [{"operation": "refresh"}]}`)
		applyTestMode(tr)
		d := tr.Corpora[0].Documents[0]
		if d.SourceFile != tc.wantSource || d.DocumentFile != tc.wantFile || d.DocumentCount != tc.wantCount || d.UncompressedBytes != tc.wantUncompBytes {
			t.Errorf("%s: source %s file %s count %d bytes %d", tc.source, d.SourceFile, d.DocumentFile, d.DocumentCount, d.UncompressedBytes)
		}
	}
}
