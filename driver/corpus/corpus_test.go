package corpus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// genDocs is the generator testdata/docs.json.bz2 was made with.
func genDocs(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "{\"n\":%d,\"text\":\"%s\"}\n", i, strings.Repeat("x", i%37))
	}
	return b.Bytes()
}

func lines(b []byte) []string {
	l := strings.SplitAfter(string(b), "\n")
	if l[len(l)-1] == "" {
		l = l[:len(l)-1]
	}
	return l
}

func TestBounds(t *testing.T) {
	for _, count := range []int64{0, 1, 7, 10, 999, 1000, 11396503} {
		for clients := 1; clients <= 13; clients++ {
			var next int64
			for c := 0; c < clients; c++ {
				first, n := Bounds(count, c, clients)
				if first != next {
					t.Fatalf("count %d, %d clients: client %d starts at %d, want %d (gap or overlap)", count, clients, c, first, next)
				}
				if n < count/int64(clients) || n > count/int64(clients)+1 {
					t.Fatalf("count %d, %d clients: client %d gets %d docs, uneven", count, clients, c, n)
				}
				next = first + n
			}
			if next != count {
				t.Fatalf("count %d, %d clients: slices end at %d", count, clients, next)
			}
		}
	}
	if first, n := Bounds(10, 3, 3); first != 0 || n != 0 {
		t.Fatalf("out-of-range client got %d,%d", first, n)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// readSlice reads a whole slice through AppendLine.
func readSlice(t *testing.T, path string, first, n int64) []string {
	t.Helper()
	r, err := OpenSlice(path, first, n)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []string
	for {
		b, err := r.AppendLine(nil)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	if r.Remaining() != 0 {
		t.Fatalf("remaining %d after EOF", r.Remaining())
	}
	return out
}

func TestSlicesAreDisjointAndComplete(t *testing.T) {
	data := genDocs(1000)
	want := lines(data)
	for _, withTable := range []bool{false, true} {
		t.Run(fmt.Sprintf("offset_table=%v", withTable), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "docs.json")
			writeFile(t, path, data)
			if withTable {
				// A dense hand-made table (every 7 lines) exercises seeking;
				// the reader accepts any interval.
				var tb bytes.Buffer
				var off int64
				for i, l := range want {
					off += int64(len(l))
					if (i+1)%7 == 0 {
						fmt.Fprintf(&tb, "%d;%d\n", i+1, off)
					}
				}
				writeFile(t, OffsetTablePath(path), tb.Bytes())
			}
			for _, clients := range []int{1, 3, 8} {
				var got []string
				for c := 0; c < clients; c++ {
					first, n := Bounds(int64(len(want)), c, clients)
					got = append(got, readSlice(t, path, first, n)...)
				}
				if len(got) != len(want) {
					t.Fatalf("%d clients read %d lines, want %d", clients, len(got), len(want))
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%d clients: line %d = %q, want %q", clients, i, got[i], want[i])
					}
				}
			}
		})
	}
}

func TestBuildOffsetTableMatchesRallyFormat(t *testing.T) {
	const n = 2*OffsetInterval + 123
	var b bytes.Buffer
	var offsets []int64
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "{\"i\":%d}\n", i)
		if (i+1)%OffsetInterval == 0 {
			offsets = append(offsets, int64(b.Len()))
		}
	}
	path := filepath.Join(t.TempDir(), "big.json")
	writeFile(t, path, b.Bytes())
	got, err := BuildOffsetTable(path, nil)
	if err != nil || got != n {
		t.Fatalf("lines = %d, %v; want %d", got, err, n)
	}
	table, _ := os.ReadFile(OffsetTablePath(path))
	want := fmt.Sprintf("%d;%d\n%d;%d\n", OffsetInterval, offsets[0], 2*OffsetInterval, offsets[1])
	if string(table) != want {
		t.Fatalf("table = %q, want %q", table, want)
	}
	// Seeking past the first entry reads the right line.
	l := readSlice(t, path, OffsetInterval+5, 2)
	if l[0] != fmt.Sprintf("{\"i\":%d}\n", OffsetInterval+5) {
		t.Fatalf("line after seek = %q", l[0])
	}
}

func TestEnsureOffsetTableRejectsShortFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "docs.json")
	writeFile(t, path, genDocs(10))
	if err := EnsureOffsetTable(path, 11, nil); err == nil || !strings.Contains(err.Error(), "has 10 lines") {
		t.Fatalf("err = %v, want a line-count error", err)
	}
}

func TestSliceBeyondEndOfFileIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "docs.json")
	writeFile(t, path, genDocs(10))
	r, err := OpenSlice(path, 8, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var lastErr error
	for i := 0; i < 5 && lastErr == nil; i++ {
		_, lastErr = r.AppendLine(nil)
	}
	if lastErr == nil || errors.Is(lastErr, io.EOF) {
		t.Fatalf("err = %v, want an error naming the short file", lastErr)
	}
	if _, err := OpenSlice(path, 20, 1); err == nil {
		t.Fatal("opening a slice past the end succeeded")
	}
}

func TestLastLineWithoutNewline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "docs.json")
	writeFile(t, path, []byte("{\"a\":1}\n{\"a\":2}"))
	got := readSlice(t, path, 0, 2)
	if got[1] != "{\"a\":2}\n" {
		t.Fatalf("last line = %q", got[1])
	}
	if n, err := BuildOffsetTable(path, nil); err != nil || n != 2 {
		t.Fatalf("lines = %d, %v", n, err)
	}
}

func compressGz(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func compressZst(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	w, err := zstd.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func TestPrepareDecompressesArchives(t *testing.T) {
	plain := genDocs(1000)
	bz2, err := os.ReadFile("testdata/docs.json.bz2")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file string
		data       []byte
	}{
		{"bz2", "docs.json.bz2", bz2},
		{"gz", "docs.json.gz", compressGz(t, plain)},
		{"zst", "docs.json.zst", compressZst(t, plain)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trackDir, dataDir := t.TempDir(), t.TempDir()
			writeFile(t, filepath.Join(trackDir, tc.file), tc.data)
			spec := Spec{Corpus: "c", SourceFile: tc.file, DocumentCount: 1000, CompressedBytes: int64(len(tc.data)), UncompressedBytes: int64(len(plain))}
			var events []Event
			path, err := Prepare(context.Background(), spec, Options{TrackDir: trackDir, DataDir: dataDir, Progress: func(e Event) { events = append(events, e) }})
			if err != nil {
				t.Fatal(err)
			}
			if path != filepath.Join(dataDir, "c", "docs.json") {
				t.Fatalf("path = %s", path)
			}
			got, _ := os.ReadFile(path)
			if !bytes.Equal(got, plain) {
				t.Fatal("decompressed content differs")
			}
			if _, err := os.Stat(OffsetTablePath(path)); err != nil {
				t.Fatalf("no offset table: %v", err)
			}
			if len(events) == 0 || events[0].Kind != KindDecompress {
				t.Fatalf("events = %+v, want decompress progress", events)
			}
			// A second Prepare finds the file: no more work.
			events = nil
			if p2, err := Prepare(context.Background(), spec, Options{TrackDir: trackDir, DataDir: dataDir, Progress: func(e Event) { events = append(events, e) }}); err != nil || p2 != path || len(events) != 0 {
				t.Fatalf("second prepare: %s, %v, events %v", p2, err, events)
			}
		})
	}
}

func TestPrepareChecksUncompressedBytes(t *testing.T) {
	plain := genDocs(100)
	trackDir := t.TempDir()
	writeFile(t, filepath.Join(trackDir, "docs.json.gz"), compressGz(t, plain))
	spec := Spec{Corpus: "c", SourceFile: "docs.json.gz", DocumentCount: 100, UncompressedBytes: int64(len(plain)) + 1}
	_, err := Prepare(context.Background(), spec, Options{TrackDir: trackDir, DataDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "uncompressed-bytes") {
		t.Fatalf("err = %v, want a size mismatch", err)
	}
}

func TestPrepareDownloadsFromBaseURL(t *testing.T) {
	plain := genDocs(200)
	gz := compressGz(t, plain)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/corpora/c/docs.json.gz" {
			http.NotFound(w, r)
			return
		}
		w.Write(gz)
	}))
	defer srv.Close()
	dataDir := t.TempDir()
	spec := Spec{Corpus: "c", SourceFile: "docs.json.gz", BaseURL: srv.URL + "/corpora/c/", DocumentCount: 200, CompressedBytes: int64(len(gz)), UncompressedBytes: int64(len(plain))}
	var kinds []Kind
	path, err := Prepare(context.Background(), spec, Options{TrackDir: t.TempDir(), DataDir: dataDir, Progress: func(e Event) {
		if e.Final {
			kinds = append(kinds, e.Kind)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, plain) {
		t.Fatal("content differs")
	}
	if _, err := os.Stat(filepath.Join(dataDir, "c", "docs.json.gz")); err != nil {
		t.Fatal("archive not kept in the data directory")
	}
	want := []Kind{KindDownload, KindDecompress, KindOffsetTable}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("final events %v, want %v", kinds, want)
	}
	if _, err := Prepare(context.Background(), spec, Options{DataDir: dataDir}); err != nil || hits.Load() != 1 {
		t.Fatalf("second prepare downloaded again (%d hits): %v", hits.Load(), err)
	}
}

func TestPrepareMissingFileWithoutBaseURL(t *testing.T) {
	_, err := Prepare(context.Background(), Spec{Corpus: "c", SourceFile: "nope.json.bz2", DocumentCount: 1}, Options{TrackDir: t.TempDir(), DataDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "base-url") {
		t.Fatalf("err = %v", err)
	}
}

func TestPrepareRejectsWrongDownloadSize(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("short")) }))
	defer srv.Close()
	spec := Spec{Corpus: "c", SourceFile: "docs.json.gz", BaseURL: srv.URL, DocumentCount: 1, CompressedBytes: 999}
	_, err := Prepare(context.Background(), spec, Options{DataDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "999") {
		t.Fatalf("err = %v", err)
	}
}

func TestConcurrentPrepareOfOneFile(t *testing.T) {
	plain := genDocs(5000)
	trackDir, dataDir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(trackDir, "docs.json.zst"), compressZst(t, plain))
	spec := Spec{Corpus: "c", SourceFile: "docs.json.zst", DocumentCount: 5000, UncompressedBytes: int64(len(plain))}
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			_, err := Prepare(context.Background(), spec, Options{TrackDir: trackDir, DataDir: dataDir})
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dataDir, "c", "docs.json"))
	if !bytes.Equal(got, plain) {
		t.Fatal("content corrupted by concurrent preparation")
	}
	left, _ := filepath.Glob(filepath.Join(dataDir, "c", "*.part"))
	if len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}
