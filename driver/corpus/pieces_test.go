package corpus

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// roundRobin is the clients host h of n runs when m clients are dealt out
// one per host in turn, as a race spreads a task's clients.
func roundRobin(h, n, m int) []int {
	var out []int
	for k := h; k < m; k += n {
		out = append(out, k)
	}
	return out
}

// TestClientRangesSplitTheFileBetweenHosts: for N hosts and M clients, the
// lines each host is sent are exactly its clients' slices, the hosts' lines
// never overlap and together they are the whole file, and a host gets one
// run per group of its clients that are next to each other.
func TestClientRangesSplitTheFileBetweenHosts(t *testing.T) {
	for _, withMeta := range []bool{false, true} {
		spec := Spec{IncludesActionAndMetaData: withMeta}
		lpd := spec.LinesPerDocument()
		for _, count := range []int64{1, 5, 1000, 11396503} {
			for hosts := 1; hosts <= 5; hosts++ {
				for clients := 1; clients <= 9; clients++ {
					name := fmt.Sprintf("meta=%v/count=%d/hosts=%d/clients=%d", withMeta, count, hosts, clients)
					var all []LineRange
					for h := 0; h < hosts; h++ {
						mine := roundRobin(h, hosts, clients)
						rs := ClientRanges(count, spec, clients, mine)
						var got, want int64
						for _, r := range rs {
							got += r.Lines()
						}
						for _, k := range mine {
							_, n := Bounds(count, k, clients)
							want += n * lpd
						}
						if got != want {
							t.Fatalf("%s: host %d is sent %d lines, its clients read %d", name, h, got, want)
						}
						if hosts == 1 && len(rs) != 1 {
							t.Fatalf("%s: one host gets %v, want one run", name, rs)
						}
						all = append(all, rs...)
					}
					slices.SortFunc(all, func(a, b LineRange) int { return cmpInt(a.First, b.First) })
					var next int64
					for _, r := range all {
						if r.First != next {
							t.Fatalf("%s: runs %v: gap or overlap at line %d", name, all, next)
						}
						next = r.End
					}
					if next != count*lpd {
						t.Fatalf("%s: runs end at line %d, want %d", name, next, count*lpd)
					}
				}
			}
		}
	}
	// 3 hosts, 6 clients of 600 documents: h0 runs clients 0 and 3.
	got := ClientRanges(600, Spec{}, 6, []int{0, 3})
	want := []LineRange{{0, 100}, {300, 400}}
	if !slices.Equal(got, want) {
		t.Errorf("host 0 of 3, 6 clients: %v, want %v", got, want)
	}
}

func TestMergeRanges(t *testing.T) {
	got := MergeRanges([]LineRange{{10, 20}, {0, 5}, {5, 7}, {15, 30}, {40, 40}, {50, 60}})
	want := []LineRange{{0, 7}, {10, 30}, {50, 60}}
	if !slices.Equal(got, want) {
		t.Errorf("MergeRanges: %v, want %v", got, want)
	}
}

// pushLocally does what the coordinator's push does, without SSH: each
// piece's bytes and offset table land in dataDir where the host keeps
// them.
func pushLocally(t *testing.T, dataDir, whole string, pieces []Piece, tables [][]byte) {
	t.Helper()
	data, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pieces {
		dst := filepath.Join(dataDir, filepath.FromSlash(p.RelPath()))
		writeFile(t, dst, data[p.Offset:p.Offset+p.Size])
		writeFile(t, OffsetTablePath(dst), tables[i])
	}
}

// TestPiecesReadAsTheWholeFile: with more lines than an offset table's
// interval, 3 hosts and 7 clients, each host is pushed only its clients'
// pieces; every client then reads on its host exactly the lines it would
// read from the whole file, the pieces' own offset tables are what
// BuildOffsetTable writes for them, and a slice pushed elsewhere is an
// error naming the lines.
func TestPiecesReadAsTheWholeFile(t *testing.T) {
	ctx := context.Background()
	const docs = 2*OffsetInterval + 1234
	data := genDocs(docs)
	all := lines(data)
	src := t.TempDir()
	whole := filepath.Join(src, "docs.json")
	writeFile(t, whole, data)
	if _, err := BuildOffsetTable(whole, nil); err != nil {
		t.Fatal(err)
	}
	entries, err := ReadOffsetTable(whole)
	if err != nil || len(entries) != 2 {
		t.Fatalf("offset table: %v %v", entries, err)
	}
	spec := Spec{Corpus: "c", SourceFile: "docs.json", DocumentCount: docs}
	const hosts, clients = 3, 7
	var pushed int64
	for h := 0; h < hosts; h++ {
		mine := roundRobin(h, hosts, clients)
		var pieces []Piece
		var tables [][]byte
		for _, r := range ClientRanges(docs, spec, clients, mine) {
			p, table, err := DescribePiece(ctx, spec, whole, entries, r)
			if err != nil {
				t.Fatal(err)
			}
			want := []byte(strings.Join(all[r.First:r.End], ""))
			if sum := sha256.Sum256(want); p.SHA256 != hex.EncodeToString(sum[:]) || p.Size != int64(len(want)) || !bytes.Equal(data[p.Offset:p.Offset+p.Size], want) {
				t.Fatalf("piece %s: offset %d size %d sha %s: not the bytes of its lines", r, p.Offset, p.Size, p.SHA256)
			}
			pieces, tables = append(pieces, p), append(tables, table)
			pushed += p.Size
		}
		dataDir := t.TempDir()
		pushLocally(t, dataDir, whole, pieces, tables)
		for i, p := range pieces {
			pp := filepath.Join(dataDir, filepath.FromSlash(p.RelPath()))
			copyPath := filepath.Join(t.TempDir(), "piece")
			b, _ := os.ReadFile(pp)
			writeFile(t, copyPath, b)
			if _, err := BuildOffsetTable(copyPath, nil); err != nil {
				t.Fatal(err)
			}
			built, _ := os.ReadFile(OffsetTablePath(copyPath))
			if !bytes.Equal(built, tables[i]) {
				t.Errorf("piece %s: offset table %q, BuildOffsetTable writes %q", p.Name(), tables[i], built)
			}
		}
		if err := UsePieces(dataDir, spec, pieces); err != nil {
			t.Fatal(err)
		}
		path, err := Prepare(ctx, spec, Options{DataDir: dataDir})
		if err != nil {
			t.Fatalf("host %d: prepare from pieces: %v", h, err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("host %d: the whole file is there: %v", h, err)
		}
		for k := 0; k < clients; k++ {
			first, n := Bounds(docs, k, clients)
			if slices.Contains(mine, k) {
				got := readSlice(t, path, first, n)
				if !slices.Equal(got, all[first:first+n]) {
					t.Errorf("host %d, client %d: read %d lines, not those of the whole file", h, k, len(got))
				}
				continue
			}
			if _, err := OpenSlice(path, first, n); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("lines %d-%d are not on this host", first, first+n)) {
				t.Errorf("host %d, client %d (another host's): %v", h, k, err)
			}
		}
	}
	if pushed != int64(len(data)) {
		t.Errorf("the hosts were pushed %d bytes in all, the file has %d", pushed, len(data))
	}
}

// TestUsePiecesChecksWhatIsThere: a piece missing or of the wrong size is
// refused; no pieces at all is a ready file this host reads nothing of;
// DropPieces sets the pieces aside so that Prepare looks for the whole
// file again.
func TestUsePiecesChecksWhatIsThere(t *testing.T) {
	ctx := context.Background()
	data := genDocs(100)
	src := t.TempDir()
	whole := filepath.Join(src, "docs.json")
	writeFile(t, whole, data)
	spec := Spec{Corpus: "c", SourceFile: "docs.json", DocumentCount: 100}
	p, table, err := DescribePiece(ctx, spec, whole, nil, LineRange{10, 40})
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	if err := UsePieces(dataDir, spec, []Piece{p}); err == nil {
		t.Error("a missing piece was accepted")
	}
	pushLocally(t, dataDir, whole, []Piece{p}, [][]byte{table})
	pp := filepath.Join(dataDir, filepath.FromSlash(p.RelPath()))
	os.WriteFile(pp, data[:p.Size-1], 0o644)
	if err := UsePieces(dataDir, spec, []Piece{p}); err == nil || !strings.Contains(err.Error(), "want") {
		t.Errorf("a short piece: %v", err)
	}
	pushLocally(t, dataDir, whole, []Piece{p}, [][]byte{table})
	if err := UsePieces(dataDir, spec, []Piece{p}); err != nil {
		t.Fatal(err)
	}
	if got := readSlice(t, filepath.Join(dataDir, "c", "docs.json"), 20, 10); !slices.Equal(got, lines(data)[20:30]) {
		t.Errorf("slice from a piece: %q", got)
	}
	if err := DropPieces(dataDir, spec); err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(ctx, spec, Options{DataDir: dataDir}); err == nil || !strings.Contains(err.Error(), "no base-url") {
		t.Errorf("prepare after DropPieces: %v, want the whole file looked for", err)
	}
	if err := UsePieces(dataDir, spec, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(ctx, spec, Options{DataDir: dataDir}); err != nil {
		t.Errorf("prepare with no pieces for this host: %v", err)
	}
	if err := UsePieces(dataDir, Spec{Corpus: "../x", SourceFile: "docs.json"}, nil); err == nil {
		t.Error("a corpus name that leaves the data directory was accepted")
	}
}

// TestDescribePieceBeyondTheFile: a run of lines past the file's end is
// an error, and a last line without a newline is part of its piece.
func TestDescribePieceBeyondTheFile(t *testing.T) {
	ctx := context.Background()
	whole := filepath.Join(t.TempDir(), "docs.json")
	writeFile(t, whole, []byte("a\nb\nc"))
	spec := Spec{Corpus: "c", SourceFile: "docs.json"}
	if _, _, err := DescribePiece(ctx, spec, whole, nil, LineRange{2, 4}); err == nil {
		t.Error("a piece past the end was described")
	}
	if _, _, err := DescribePiece(ctx, spec, whole, nil, LineRange{5, 6}); err == nil {
		t.Error("a piece that starts past the end was described")
	}
	p, _, err := DescribePiece(ctx, spec, whole, nil, LineRange{1, 3})
	if err != nil || p.Offset != 2 || p.Size != 3 {
		t.Errorf("last two lines: %+v, %v", p, err)
	}
}
