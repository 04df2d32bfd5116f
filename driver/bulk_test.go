package driver

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"rally/metrics"
	"rally/track"
)

// docLines generates n documents with formatting a re-encoder would change
// (spaces, key order, escapes, non-ASCII, number forms), one per line.
func docLines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{ "z":%d,  "a" : "caf\u00e9 \"q\" é %d", "f":1.50E+2, "nested":{"b":[1, 2 ,3]}}`, i, i)
	}
	return out
}

// bulkTrack writes a documents file into a track directory and returns a
// track whose corpus points at it.
func bulkTrack(t testing.TB, lines []string, mod func(*track.Documents)) *track.Track {
	t.Helper()
	dir := t.TempDir()
	data := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "docs.json"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	docs := track.Documents{SourceFile: "docs.json", DocumentCount: int64(len(lines)), UncompressedBytes: int64(len(data)), TargetIndex: "idx"}
	if mod != nil {
		mod(&docs)
	}
	return &track.Track{Name: "bulk", Dir: dir, Indices: []track.Index{{Name: "idx"}},
		Corpora: []track.Corpus{{Name: "c", Documents: []track.Documents{docs}}}}
}

// bulkOK answers every bulk with errors:false.
func bulkOK(recReq) (int, string) { return 200, `{"took":1,"errors":false,"items":[]}` }

// bodies returns the raw request bodies of the server's bulk requests.
func bodies(srv *testES) []string {
	var out []string
	for _, r := range srv.requests() {
		if r.Method == "POST" && strings.HasPrefix(r.URI, "/_bulk") {
			out = append(out, r.Body)
		}
	}
	return out
}

func TestBulkBodyIsActionLinePlusRawDocument(t *testing.T) {
	lines := docLines(7)
	srv := newTestES(t, bulkOK)
	r := runTask(t, bulkTrack(t, lines, nil), opTask(t, "index", "bulk", `{"bulk-size":3}`), srv)
	if r.err != nil {
		t.Fatal(r.err)
	}
	action := `{"index":{"_index":"idx"}}` + "\n"
	want := []string{
		action + lines[0] + "\n" + action + lines[1] + "\n" + action + lines[2] + "\n",
		action + lines[3] + "\n" + action + lines[4] + "\n" + action + lines[5] + "\n",
		action + lines[6] + "\n",
	}
	got := bodies(srv)
	if !slices.Equal(got, want) {
		t.Fatalf("bodies differ byte for byte:\n got %q\nwant %q", got, want)
	}
	for _, req := range srv.requests() {
		if req.URI != "/_bulk" || req.Header.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("request %s %s with Content-Type %q", req.Method, req.URI, req.Header.Get("Content-Type"))
		}
	}
	if r.res.Requests != 3 || r.res.Info.ThroughputUnit != "docs/s" || r.summary.Requests != 3 {
		t.Fatalf("result %+v summary requests %d", r.res, r.summary.Requests)
	}
}

func TestBulkIntoDataStreamUsesCreate(t *testing.T) {
	lines := docLines(2)
	srv := newTestES(t, bulkOK)
	tr := bulkTrack(t, lines, func(d *track.Documents) { d.TargetIndex, d.TargetDataStream = "", "logs-ds" })
	if r := runTask(t, tr, opTask(t, "index", "bulk", `{"bulk-size":10}`), srv); r.err != nil {
		t.Fatal(r.err)
	}
	action := `{"create":{"_index":"logs-ds"}}` + "\n"
	if got := bodies(srv); len(got) != 1 || got[0] != action+lines[0]+"\n"+action+lines[1]+"\n" {
		t.Fatalf("body %q", got)
	}
}

func TestBulkWithActionAndMetaDataInTheFile(t *testing.T) {
	var lines []string
	for i, d := range docLines(5) {
		lines = append(lines, fmt.Sprintf(`{"index":{"_index":"own","_id":"%d"}}`, i), d)
	}
	srv := newTestES(t, bulkOK)
	tr := bulkTrack(t, lines, func(d *track.Documents) { d.DocumentCount, d.IncludesActionAndMetaData, d.TargetIndex = 5, true, "" })
	if r := runTask(t, tr, opTask(t, "index", "bulk", `{"bulk-size":2}`), srv); r.err != nil {
		t.Fatal(r.err)
	}
	got := strings.Join(bodies(srv), "")
	if want := strings.Join(lines, "\n") + "\n"; got != want {
		t.Fatalf("bodies %q, want the file verbatim %q", got, want)
	}
	if n := len(bodies(srv)); n != 3 {
		t.Fatalf("%d bulks, want 3 of 2, 2 and 1 documents", n)
	}
}

func TestBulkPipelineAndRequestParams(t *testing.T) {
	srv := newTestES(t, bulkOK)
	if r := runTask(t, bulkTrack(t, docLines(1), nil), opTask(t, "index", "bulk", `{"bulk-size":5,"pipeline":"p 1","request-params":{"refresh":"wait_for"}}`), srv); r.err != nil {
		t.Fatal(r.err)
	}
	if uri := srv.requests()[0].URI; uri != "/_bulk?refresh=wait_for&pipeline=p+1" {
		t.Fatalf("uri %s", uri)
	}
}

// allDocs collects every document line the server received, and fails on
// duplicates.
func allDocs(t *testing.T, srv *testES, seen map[string]int) {
	t.Helper()
	for _, b := range bodies(srv) {
		for i, l := range strings.Split(strings.TrimSuffix(b, "\n"), "\n") {
			if i%2 == 1 {
				seen[l]++
				if seen[l] > 1 {
					t.Fatalf("document sent twice: %s", l)
				}
			}
		}
	}
}

func TestBulkClientsIndexDisjointCompleteSlices(t *testing.T) {
	lines := docLines(101)
	tr := bulkTrack(t, lines, nil)
	for _, split := range [][][]int{
		{nil},              // one host runs all 4 clients
		{{0, 1}, {2}, {3}}, // three hosts
		{{3}, {1, 2}, {0}}, // any order
	} {
		t.Run(fmt.Sprint(split), func(t *testing.T) {
			seen := map[string]int{}
			for _, idx := range split {
				srv := newTestES(t, bulkOK)
				task := opTask(t, "index", "bulk", `{"bulk-size":10}`)
				task.Clients = 4
				if r := runTask(t, tr, task, srv, func(tp *TaskPlan) { tp.ClientIndexes, tp.TotalClients = idx, 4 }); r.err != nil {
					t.Fatal(r.err)
				}
				allDocs(t, srv, seen)
			}
			if len(seen) != len(lines) {
				t.Fatalf("%d distinct documents sent, want %d", len(seen), len(lines))
			}
		})
	}
}

func TestBulkClientSliceIsTheSameOnAnyHost(t *testing.T) {
	lines := docLines(40)
	tr := bulkTrack(t, lines, nil)
	srv := newTestES(t, bulkOK)
	task := opTask(t, "index", "bulk", `{"bulk-size":100}`)
	task.Clients = 4
	runTask(t, tr, task, srv, func(tp *TaskPlan) { tp.ClientIndexes = []int{2} })
	action := `{"index":{"_index":"idx"}}` + "\n"
	var want strings.Builder
	for _, l := range lines[20:30] {
		want.WriteString(action + l + "\n")
	}
	if got := bodies(srv); len(got) != 1 || got[0] != want.String() {
		t.Fatalf("client 2 of 4 sent %q, want documents 20..29", got)
	}
}

func TestBulkIngestPercentage(t *testing.T) {
	srv := newTestES(t, bulkOK)
	// 95 docs, bulk-size 10: 10 bulks; 25% of them, rounded up, is 3.
	if r := runTask(t, bulkTrack(t, docLines(95), nil), opTask(t, "index", "bulk", `{"bulk-size":10,"ingest-percentage":25}`), srv); r.err != nil {
		t.Fatal(r.err)
	}
	if n := len(bodies(srv)); n != 3 {
		t.Fatalf("%d bulks, want 3", n)
	}
}

func TestBulkIDConflicts(t *testing.T) {
	lines := docLines(4)
	t.Run("sequential ids without conflicts", func(t *testing.T) {
		srv := newTestES(t, bulkOK)
		runTask(t, bulkTrack(t, lines, nil), opTask(t, "index", "bulk", `{"bulk-size":10,"conflicts":"sequential","conflict-probability":0}`), srv)
		var want strings.Builder
		for i, l := range lines {
			fmt.Fprintf(&want, `{"index":{"_index":"idx","_id":"%010d"}}`+"\n%s\n", i, l)
		}
		if got := bodies(srv); len(got) != 1 || got[0] != want.String() {
			t.Fatalf("got %q\nwant %q", got, want.String())
		}
	})
	t.Run("every later document conflicts as an update", func(t *testing.T) {
		srv := newTestES(t, bulkOK)
		runTask(t, bulkTrack(t, lines, nil), opTask(t, "index", "bulk", `{"bulk-size":10,"conflicts":"sequential","conflict-probability":100,"on-conflict":"update"}`), srv)
		got := bodies(srv)
		if len(got) != 1 {
			t.Fatalf("%d bulks", len(got))
		}
		want := `{"index":{"_index":"idx","_id":"0000000000"}}` + "\n" + lines[0] + "\n"
		for _, l := range lines[1:] {
			want += `{"update":{"_index":"idx","_id":"0000000000"}}` + "\n" + `{"doc":` + l + "}\n"
		}
		if got[0] != want {
			t.Fatalf("got %q\nwant %q", got[0], want)
		}
	})
}

func TestBulkItemErrorsAreCountedWithTheirDocuments(t *testing.T) {
	srv := newTestES(t, func(recReq) (int, string) {
		return 200, `{"took":1,"errors":true,"items":[{"index":{"status":201}},{"index":{"status":429,"error":{"reason":"queue full"}}}]}`
	})
	r := runTask(t, bulkTrack(t, docLines(4), nil), opTask(t, "index", "bulk", `{"bulk-size":2}`), srv)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.summary.Errors != 2 || r.summary.ErrorsByType[string(metrics.ErrBulkItem)] != 2 {
		t.Fatalf("summary errors %v", r.summary.ErrorsByType)
	}
}

func TestBulkFromCompressedCorpusInTrackDir(t *testing.T) {
	lines := docLines(30)
	dir := t.TempDir()
	data := strings.Join(lines, "\n") + "\n"
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(data))
	w.Close()
	os.WriteFile(filepath.Join(dir, "docs.json.gz"), gz.Bytes(), 0o644)
	tr := &track.Track{Name: "t", Dir: dir, Corpora: []track.Corpus{{Name: "c", Documents: []track.Documents{{SourceFile: "docs.json.gz", DocumentCount: 30, CompressedBytes: int64(gz.Len()), UncompressedBytes: int64(len(data)), TargetIndex: "idx"}}}}}
	srv := newTestES(t, bulkOK)
	dataDir := t.TempDir()
	var mu sync.Mutex
	var kinds []ProgressKind
	r := runTask(t, tr, opTask(t, "index", "bulk", `{"bulk-size":100}`), srv, func(tp *TaskPlan) {
		tp.DataDir = dataDir
		tp.Progress = func(e ProgressEvent) {
			mu.Lock()
			defer mu.Unlock()
			if e.Final || e.Kind == ProgressTaskStart || e.Kind == ProgressTaskEnd {
				kinds = append(kinds, e.Kind)
			}
		}
	})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "c", "docs.json")); err != nil {
		t.Fatal("not decompressed into the data directory")
	}
	seen := map[string]int{}
	allDocs(t, srv, seen)
	if len(seen) != 30 {
		t.Fatalf("%d documents", len(seen))
	}
	want := []ProgressKind{ProgressDecompress, ProgressOffsetTable, ProgressTaskStart, ProgressTaskEnd}
	if !slices.Equal(kinds, want) {
		t.Fatalf("progress %v, want %v", kinds, want)
	}
}

func TestBulkTimePeriodStopsBeforeTheCorpusEnds(t *testing.T) {
	srv := newTestES(t, bulkOK)
	task := opTask(t, "index", "bulk", `{"bulk-size":1}`)
	task.TimePeriod = 300 * time.Millisecond
	task.TargetThroughput = 20
	start := time.Now()
	r := runTask(t, bulkTrack(t, docLines(1000), nil), task, srv)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if n := len(bodies(srv)); n < 3 || n > 9 || time.Since(start) > 3*time.Second {
		t.Fatalf("%d bulks in %v, want about 6 in 300 ms", n, time.Since(start))
	}
}

func TestBulkRandomConflictIDsArePermutedAndReproducible(t *testing.T) {
	lines := docLines(50)
	tr := bulkTrack(t, lines, nil)
	ids := func() []string {
		srv := newTestES(t, bulkOK)
		runTask(t, tr, opTask(t, "index", "bulk", `{"bulk-size":100,"conflicts":"random","conflict-probability":0}`), srv, func(tp *TaskPlan) { tp.Seed = 9 })
		var out []string
		for i, l := range strings.Split(strings.TrimSuffix(bodies(srv)[0], "\n"), "\n") {
			if i%2 == 0 {
				out = append(out, l)
			}
		}
		return out
	}
	a, b := ids(), ids()
	if !slices.Equal(a, b) {
		t.Fatal("same seed gave different ids")
	}
	sorted := slices.Clone(a)
	slices.Sort(sorted)
	for i, l := range sorted {
		if want := fmt.Sprintf(`{"index":{"_index":"idx","_id":"%010d"}}`, i); l != want {
			t.Fatalf("ids are not a permutation of 0..49: %s", l)
		}
	}
	if slices.Equal(a, sorted) {
		t.Fatal("random conflicts kept the ids in order")
	}
}
