package corpus

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// A load driver that was pushed its part of a corpus holds, instead of
// the whole documents file <corpus>/<file>, the runs of lines its clients
// read, each a file of its own with its own offset table, and a manifest
// naming them:
//
//	<data dir>/<corpus>/<file>.pieces/<first>-<end>         lines [first, end) of <file>, byte for byte
//	<data dir>/<corpus>/<file>.pieces/<first>-<end>.offset  the piece's offset table (Rally's format, counted from the piece's start)
//	<data dir>/<corpus>/<file>.pieces.json                  the manifest: the pieces this host's clients read in the current race
//
// Prepare prefers the whole file; without it, a manifest makes the file
// ready, and OpenSlice reads a client's slice from the one piece that holds
// it, with the same reader as a whole file's: a slice never spans pieces,
// because a piece is a run of whole client slices.

// LineRange is the lines [First, End) of a documents file, counted from 0.
type LineRange struct {
	First int64 `json:"first"`
	End   int64 `json:"end"`
}

// Lines is the number of lines in the range.
func (r LineRange) Lines() int64 { return r.End - r.First }

func (r LineRange) String() string { return fmt.Sprintf("%d-%d", r.First, r.End) }

// ClientRanges returns the lines that the given clients (indexes among a
// task's clients) read of a file of count documents, merged into runs:
// each client's slice as Bounds cuts it, times the file's lines per
// document. Indexes out of range are ignored.
func ClientRanges(count int64, spec Spec, clients int, indexes []int) []LineRange {
	lpd := spec.LinesPerDocument()
	var out []LineRange
	for _, k := range indexes {
		first, n := Bounds(count, k, clients)
		if n > 0 {
			out = append(out, LineRange{First: first * lpd, End: (first + n) * lpd})
		}
	}
	return MergeRanges(out)
}

// MergeRanges sorts ranges and merges those that overlap or touch; empty
// ones are dropped.
func MergeRanges(rs []LineRange) []LineRange {
	var in []LineRange
	for _, r := range rs {
		if r.End > r.First {
			in = append(in, r)
		}
	}
	slices.SortFunc(in, func(a, b LineRange) int {
		if a.First != b.First {
			return cmpInt(a.First, b.First)
		}
		return cmpInt(a.End, b.End)
	})
	var out []LineRange
	for _, r := range in {
		if n := len(out); n > 0 && r.First <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Piece is one run of lines of a documents file, as a load driver holds
// it: where its bytes are in the whole file, their SHA-256, and its offset
// table's size and SHA-256.
type Piece struct {
	Corpus string    `json:"corpus"`
	File   string    `json:"file"` // the uncompressed documents file's name
	Lines  LineRange `json:"lines"`
	// Offset and Size place the piece's bytes in the whole file.
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// TableSize and TableSHA256 describe the piece's offset table.
	TableSize   int64  `json:"table_size"`
	TableSHA256 string `json:"table_sha256"`
}

// Name is the piece's file name in its file's pieces directory.
func (p Piece) Name() string { return p.Lines.String() }

// RelPath is the piece's path below the data directory, slash-separated
// (<corpus>/<file>.pieces/<first>-<end>); its offset table is RelPath
// plus ".offset".
func (p Piece) RelPath() string { return path.Join(p.Corpus, p.File+piecesSuffix, p.Name()) }

// PiecesRelDir is the directory of a documents file's pieces below the
// data directory, slash-separated.
func PiecesRelDir(corpus, file string) string { return path.Join(corpus, file+piecesSuffix) }

const (
	piecesSuffix   = ".pieces"
	manifestSuffix = ".pieces.json"
)

// CheckName refuses a corpus or file name that is not one plain path
// element: pieces land at paths made of them on other hosts.
func CheckName(what, name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, 0) {
		return fmt.Errorf("%s %q: not a plain file name", what, name)
	}
	return nil
}

// DocumentName is the name of the uncompressed documents file of spec.
func (s Spec) DocumentName() string {
	if s.DocumentFile != "" {
		return filepath.Base(s.DocumentFile)
	}
	return DocumentFileName(filepath.Base(s.SourceFile))
}

// DescribePiece reads lines r of dataFile and returns them as a piece of
// spec's file, with the piece's offset table (Rally's format, counted from
// the piece's first line). entries is dataFile's offset table (nil scans
// from the start).
func DescribePiece(ctx context.Context, spec Spec, dataFile string, entries []OffsetEntry, r LineRange) (Piece, []byte, error) {
	p := Piece{Corpus: spec.Corpus, File: spec.DocumentName(), Lines: r}
	if r.First < 0 || r.End <= r.First {
		return p, nil, fmt.Errorf("%s: lines %s: empty or negative range", dataFile, r)
	}
	f, err := os.Open(dataFile)
	if err != nil {
		return p, nil, err
	}
	defer f.Close()
	start := closestOffset(entries, r.First)
	if _, err := f.Seek(start.Offset, io.SeekStart); err != nil {
		return p, nil, err
	}
	br := bufio.NewReaderSize(&ctxReader{ctx: ctx, r: f}, 1<<20)
	line, off := start.Line, start.Offset
	for line < r.First {
		n, last, _, err := readLine(br, io.Discard)
		off += n
		if err != nil || last {
			return p, nil, fmt.Errorf("%s: ends at line %d, before the piece %s starts: %w", dataFile, line, r, orEOF(err))
		}
		line++
	}
	p.Offset = off
	sum := sha256.New()
	var table bytes.Buffer
	var size int64
	for line < r.End {
		n, last, newline, err := readLine(br, sum)
		size += n
		if err != nil {
			return p, nil, fmt.Errorf("%s: line %d: %w", dataFile, line, err)
		}
		line++
		// The entries BuildOffsetTable would write for the piece alone.
		if rel := line - r.First; rel%OffsetInterval == 0 && newline {
			fmt.Fprintf(&table, "%d;%d\n", rel, size)
		}
		if last && line < r.End {
			return p, nil, fmt.Errorf("%s: ends at line %d, before the end of the piece %s", dataFile, line, r)
		}
	}
	p.Size, p.SHA256 = size, hex.EncodeToString(sum.Sum(nil))
	ts := sha256.Sum256(table.Bytes())
	p.TableSize, p.TableSHA256 = int64(table.Len()), hex.EncodeToString(ts[:])
	return p, table.Bytes(), nil
}

func orEOF(err error) error {
	if err == nil {
		return io.EOF
	}
	return err
}

// readLine copies one line, newline included, to w and returns its
// length; last is set when the line ends the file, newline when it ends in
// one (the file's last line may not). A file already at its end is
// io.EOF.
func readLine(br *bufio.Reader, w io.Writer) (n int64, last, newline bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			w.Write(chunk)
			n += int64(len(chunk))
		}
		switch {
		case err == nil:
			_, perr := br.Peek(1)
			return n, errors.Is(perr, io.EOF), true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if n == 0 {
				return 0, true, false, io.EOF
			}
			return n, true, false, nil
		default:
			return n, false, false, err
		}
	}
}

// manifest lists the pieces of one documents file this host reads in
// the current race.
type manifest struct {
	Pieces []Piece `json:"pieces"`
}

func manifestPath(dataFile string) string { return dataFile + manifestSuffix }
func piecePath(dataFile string, p Piece) string {
	return filepath.Join(dataFile+piecesSuffix, p.Name())
}

// UsePieces makes spec's documents file ready from pieces in the data
// directory: it checks that each piece and its offset table are there with
// their sizes (the pusher verified their checksums on this host) and
// records them as the file's manifest, which Prepare and OpenSlice then
// follow when the whole file is not here. No pieces is valid: this host's
// clients read none of the file.
func UsePieces(dataDir string, spec Spec, pieces []Piece) error {
	docName := spec.DocumentName()
	for _, n := range []struct{ what, name string }{{"corpus", spec.Corpus}, {"documents file", docName}} {
		if err := CheckName(n.what, n.name); err != nil {
			return err
		}
	}
	dataFile := filepath.Join(dataDir, spec.Corpus, docName)
	for _, p := range pieces {
		if p.Corpus != spec.Corpus || p.File != docName {
			return fmt.Errorf("piece %s of %s/%s listed for %s/%s", p.Name(), p.Corpus, p.File, spec.Corpus, docName)
		}
		pp := piecePath(dataFile, p)
		for _, f := range []struct {
			path string
			size int64
		}{{pp, p.Size}, {OffsetTablePath(pp), p.TableSize}} {
			fi, err := os.Stat(f.path)
			if err != nil {
				return fmt.Errorf("pushed piece: %w", err)
			}
			if !fi.Mode().IsRegular() || fi.Size() != f.size {
				return fmt.Errorf("pushed piece %s: %d bytes, want %d", f.path, fi.Size(), f.size)
			}
		}
	}
	data, err := json.MarshalIndent(manifest{Pieces: pieces}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dataFile), 0o755); err != nil {
		return err
	}
	out, err := createTemp(manifestPath(dataFile))
	if err != nil {
		return err
	}
	_, err = out.Write(append(data, '\n'))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(out.Name(), manifestPath(dataFile))
	}
	if err != nil {
		os.Remove(out.Name())
		return fmt.Errorf("write manifest of %s: %w", dataFile, err)
	}
	return nil
}

// DropPieces makes Prepare ignore pushed pieces of spec's file (a race
// that downloads, or finds the whole file): it removes the manifest and
// keeps the pieces for a later push.
func DropPieces(dataDir string, spec Spec) error {
	docName := spec.DocumentName()
	if CheckName("corpus", spec.Corpus) != nil || CheckName("documents file", docName) != nil {
		return nil // no pieces can be there
	}
	err := os.Remove(manifestPath(filepath.Join(dataDir, spec.Corpus, docName)))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// readManifest reads dataFile's manifest; ok is false when there is none.
func readManifest(dataFile string) (m manifest, ok bool, err error) {
	data, err := os.ReadFile(manifestPath(dataFile))
	if errors.Is(err, os.ErrNotExist) {
		return m, false, nil
	}
	if err != nil {
		return m, false, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, false, fmt.Errorf("%s: %w", manifestPath(dataFile), err)
	}
	return m, true, nil
}

// piecesReady reports whether dataFile has a manifest whose pieces are
// all there with their sizes.
func piecesReady(dataFile string) (bool, error) {
	m, ok, err := readManifest(dataFile)
	if err != nil || !ok {
		return false, err
	}
	for _, p := range m.Pieces {
		pp := piecePath(dataFile, p)
		fi, err := os.Stat(pp)
		if err != nil || fi.Size() != p.Size {
			return false, fmt.Errorf("%s: piece %s is missing or has the wrong size: push the corpus again", manifestPath(dataFile), pp)
		}
	}
	return true, nil
}

// openPieceSlice opens a slice of dataFile from the piece that holds it.
func openPieceSlice(dataFile string, firstLine, lines int64) (*SliceReader, error) {
	m, ok, err := readManifest(dataFile)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("open %s: %w", dataFile, os.ErrNotExist)
	}
	want := LineRange{First: firstLine, End: firstLine + lines}
	var held []string
	for _, p := range m.Pieces {
		if p.Lines.First <= want.First && want.End <= p.Lines.End {
			r, err := OpenSlice(piecePath(dataFile, p), firstLine-p.Lines.First, lines)
			if err != nil {
				return nil, fmt.Errorf("%s, lines %s: %w", dataFile, want, err)
			}
			return r, nil
		}
		held = append(held, p.Lines.String())
	}
	if len(held) == 0 {
		held = []string{"none"}
	}
	return nil, fmt.Errorf("%s: lines %s are not on this host, which holds the pieces pushed for this race's clients (lines %s); a client moved here after a load driver was lost reads a part that was pushed elsewhere", dataFile, want, strings.Join(held, ", "))
}
