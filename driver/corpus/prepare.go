package corpus

import (
	"bufio"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Spec describes one documents file of a corpus (a track's "documents"
// entry, with the corpus defaults applied).
type Spec struct {
	// Corpus is the corpus name: the directory under the data directory.
	Corpus string
	// SourceFile is the file name as the track gives it, possibly an
	// archive ("documents.json.bz2").
	SourceFile string
	// DocumentFile is the uncompressed file name; empty means SourceFile
	// without its archive suffix.
	DocumentFile string
	// BaseURL is where SourceFile is downloaded from when missing.
	BaseURL string
	// DocumentCount is the number of documents in the file.
	DocumentCount int64
	// CompressedBytes and UncompressedBytes are checked when non-zero.
	CompressedBytes, UncompressedBytes int64
	// IncludesActionAndMetaData means every document takes two lines.
	IncludesActionAndMetaData bool
}

// LinesPerDocument is 2 when the file carries its own action-and-metadata
// lines, else 1.
func (s Spec) LinesPerDocument() int64 {
	if s.IncludesActionAndMetaData {
		return 2
	}
	return 1
}

// Kind says what a progress Event is about.
type Kind string

// The kinds of progress events.
const (
	KindDownload    Kind = "download"
	KindDecompress  Kind = "decompress"
	KindOffsetTable Kind = "offset-table"
)

// Event reports progress preparing a file. Done and Total are bytes (Total
// zero when unknown); the last event of a step has Done == Total or Final
// set.
type Event struct {
	Kind  Kind
	File  string
	Done  int64
	Total int64
	Final bool
}

// Options tune Prepare.
type Options struct {
	// TrackDir is searched first for the documents file and its archive.
	TrackDir string
	// DataDir is Rally's ~/.rally/benchmarks/data; files go to
	// DataDir/<corpus>/.
	DataDir string
	// Progress receives events; nil means none.
	Progress func(Event)
	// HTTPClient downloads; nil means a client with no overall timeout
	// (corpora are large) that follows redirects.
	HTTPClient *http.Client
}

// fileLocks serialises preparation of the same file within the process.
var fileLocks sync.Map // string -> *sync.Mutex

func lockFile(key string) (unlock func()) {
	m, _ := fileLocks.LoadOrStore(key, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// createTemp creates a uniquely named temporary file beside final.
func createTemp(final string) (*os.File, error) {
	return os.CreateTemp(filepath.Dir(final), "."+filepath.Base(final)+".*.part")
}

// DocumentFileName is the uncompressed name of a source file
// ("documents.json.bz2" → "documents.json").
func DocumentFileName(sourceFile string) string {
	for _, d := range decompressors {
		if strings.HasSuffix(sourceFile, d.suffix) {
			return strings.TrimSuffix(sourceFile, d.suffix)
		}
	}
	return sourceFile
}

// Prepare makes sure the uncompressed documents file of spec exists (found,
// downloaded and/or decompressed) and has a valid offset table, and returns
// its path. It does the slow work at most once: later calls find the file
// and the table and return quickly.
func Prepare(ctx context.Context, spec Spec, o Options) (string, error) {
	if spec.SourceFile == "" {
		return "", fmt.Errorf("corpus %q: documents entry has no source-file", spec.Corpus)
	}
	// One preparation per file at a time in this process; other processes
	// are safe too, because every file is written under a unique temporary
	// name and renamed into place complete.
	unlock := lockFile(filepath.Join(o.DataDir, spec.Corpus, spec.SourceFile))
	defer unlock()
	path, pieced, err := prepareFile(ctx, spec, o)
	if err != nil {
		return "", fmt.Errorf("corpus %q: %s: %w", spec.Corpus, spec.SourceFile, err)
	}
	if pieced {
		return path, nil // each piece came with its offset table
	}
	if err := EnsureOffsetTable(path, spec.DocumentCount*spec.LinesPerDocument(), o.Progress); err != nil {
		return "", fmt.Errorf("corpus %q: %w", spec.Corpus, err)
	}
	return path, nil
}

// prepareFile returns the path of spec's uncompressed documents file;
// pieced says that path is no file but stands for the pieces its manifest
// names.
func prepareFile(ctx context.Context, spec Spec, o Options) (path string, pieced bool, err error) {
	docName := spec.DocumentName()
	corpusDir := ""
	if o.DataDir != "" {
		corpusDir = filepath.Join(o.DataDir, spec.Corpus)
	}
	// 1. The uncompressed file, in the track directory or the data directory.
	for _, dir := range []string{o.TrackDir, corpusDir} {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, docName)
		if ok, err := sizeMatches(p, spec.UncompressedBytes); err != nil {
			return "", false, err
		} else if ok {
			return p, false, nil
		}
	}
	if corpusDir == "" {
		return "", false, fmt.Errorf("not in the track directory and no data directory to put it in")
	}
	// 1b. Without the whole file, the pieces pushed for this race.
	whole := filepath.Join(corpusDir, docName)
	if ok, err := piecesReady(whole); err != nil {
		return "", false, err
	} else if ok {
		return whole, true, nil
	}
	if err := os.MkdirAll(corpusDir, 0o755); err != nil {
		return "", false, err
	}
	archiveName := filepath.Base(spec.SourceFile)
	compressed := archiveName != docName
	wantArchiveSize := spec.CompressedBytes
	if !compressed {
		wantArchiveSize = spec.UncompressedBytes
	}
	// 2. The archive (or plain file), found or downloaded.
	archive := ""
	for _, dir := range []string{o.TrackDir, corpusDir} {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, archiveName)
		if ok, err := sizeMatches(p, wantArchiveSize); err != nil {
			return "", false, err
		} else if ok {
			archive = p
			break
		}
	}
	if archive == "" {
		if spec.BaseURL == "" {
			return "", false, fmt.Errorf("not found in %s and the corpus has no base-url to download it from", strings.Join(nonEmpty(o.TrackDir, corpusDir), " or "))
		}
		archive = filepath.Join(corpusDir, archiveName)
		if err := download(ctx, o, strings.TrimRight(spec.BaseURL, "/")+"/"+archiveName, archive, wantArchiveSize); err != nil {
			return "", false, err
		}
	}
	if !compressed {
		if ok, err := sizeMatches(archive, spec.UncompressedBytes); err != nil || !ok {
			return "", false, fmt.Errorf("%s: size does not match uncompressed-bytes %d", archive, spec.UncompressedBytes)
		}
		return archive, false, nil
	}
	// 3. Decompress once into the data directory, keeping the result.
	if err := decompress(ctx, archive, whole, spec.UncompressedBytes, o.Progress); err != nil {
		return "", false, err
	}
	return whole, false, nil
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// sizeMatches reports whether p is a regular file of size want (any size
// when want is 0).
func sizeMatches(p string, want int64) (bool, error) {
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !fi.Mode().IsRegular() {
		return false, nil
	}
	return want == 0 || fi.Size() == want, nil
}

// download fetches url into dst (via dst.part), checking the size.
func download(ctx context.Context, o Options, url, dst string, wantSize int64) error {
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: HTTP %d", url, resp.StatusCode)
	}
	total := resp.ContentLength
	if total < 0 {
		total = wantSize
	}
	f, err := createTemp(dst)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	pw := &progressWriter{kind: KindDownload, file: filepath.Base(dst), total: total, report: o.Progress}
	if err := fillTemp(f, resp.Body, pw, wantSize, "the track"); err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	return os.Rename(f.Name(), dst)
}

// decompress writes the decompressed archive to out (via out.part),
// checking the size when want > 0.
func decompress(ctx context.Context, archive, out string, want int64, progress func(Event)) error {
	in, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer in.Close()
	open := decompressorFor(archive)
	if open == nil {
		return fmt.Errorf("decompress %s: this archive type is not supported (use .bz2, .gz or .zst)", archive)
	}
	r, err := open(bufio.NewReaderSize(&ctxReader{ctx: ctx, r: in}, 1<<20))
	if err != nil {
		return fmt.Errorf("decompress %s: %w", archive, err)
	}
	defer r.Close()
	f, err := createTemp(out)
	if err != nil {
		return err
	}
	pw := &progressWriter{kind: KindDecompress, file: filepath.Base(out), total: want, report: progress}
	if err := fillTemp(f, r, pw, want, "uncompressed-bytes in the track"); err != nil {
		return fmt.Errorf("decompress %s: %w", archive, err)
	}
	return os.Rename(f.Name(), out)
}

// decompressors open the archive types of Rally's corpora, by file suffix:
// the archives Prepare can decompress.
var decompressors = []struct {
	suffix string
	open   func(io.Reader) (io.ReadCloser, error)
}{
	{".bz2", func(r io.Reader) (io.ReadCloser, error) { return io.NopCloser(bzip2.NewReader(r)), nil }},
	{".gz", func(r io.Reader) (io.ReadCloser, error) { return gzip.NewReader(r) }},
	{".zst", func(r io.Reader) (io.ReadCloser, error) {
		d, err := zstd.NewReader(r)
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}},
}

// decompressorFor returns the opener of an archive's type, nil when the
// type is not supported.
func decompressorFor(archive string) func(io.Reader) (io.ReadCloser, error) {
	for _, d := range decompressors {
		if strings.HasSuffix(archive, d.suffix) {
			return d.open
		}
	}
	return nil
}

// fillTemp copies r into the new temporary file f, reporting progress to
// pw, and closes f. The copy must come to want bytes when want > 0 (the
// error then says what source gave want). On any failure f is removed; on
// success the caller renames it into place.
func fillTemp(f *os.File, r io.Reader, pw *progressWriter, want int64, source string) error {
	bw := bufio.NewWriterSize(f, 1<<20)
	n, err := io.Copy(io.MultiWriter(bw, pw), r)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && want > 0 && n != want {
		err = fmt.Errorf("got %d bytes, %s says %d", n, source, want)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	pw.finish()
	return nil
}

// ctxReader stops a long copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read fails once the context has ended.
func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// progressWriter counts bytes and reports at most every 500 ms.
type progressWriter struct {
	kind   Kind
	file   string
	done   int64
	total  int64
	last   time.Time
	report func(Event)
}

// Write counts b and reports progress.
func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.report != nil {
		if now := time.Now(); now.Sub(p.last) >= 500*time.Millisecond {
			p.last = now
			p.report(Event{Kind: p.kind, File: p.file, Done: p.done, Total: p.total})
		}
	}
	return len(b), nil
}

func (p *progressWriter) finish() {
	if p.report != nil {
		p.report(Event{Kind: p.kind, File: p.file, Done: p.done, Total: p.total, Final: true})
	}
}
