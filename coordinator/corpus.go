package coordinator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"rally/driver/corpus"
	"rally/payload"
	"rally/race"
	"rally/report"
)

// dataRel is where a host keeps corpora, relative to its workdir: the
// worker's data directory.
const dataRel = "benchmarks/data"

// Defaults of the corpus push's bounds.
const (
	defaultPushHosts  = 8
	defaultPushWrites = 4
)

// corpusDelivery is a race's push of its corpora to the load drivers
// (members, by host), which the conductor runs once the race is
// registered: with --corpus-source push, or by default for each documents
// file the coordinator has, every host gets the runs of lines its clients
// read and their offset tables, as pieces under
// <workdir>/benchmarks/data/<corpus>/<file>.pieces/; with download or
// local, nothing is pushed and Start says so.
func (c *Coordinator) corpusDelivery(plan *race.Plan, hosts map[string]*hostRun, members []string) race.CorpusDelivery {
	opts := plan.Request.Corpus
	return func(ctx context.Context, progress func(string, report.CorpusPush)) (map[string]race.MemberCorpus, error) {
		out := map[string]race.MemberCorpus{}
		for _, m := range members {
			out[m] = race.MemberCorpus{Source: opts.Source}
		}
		if opts.Source == race.CorpusDownload || opts.Source == race.CorpusLocal {
			return out, nil
		}
		files, err := c.localCorpora(ctx, plan, opts.Source)
		if err != nil || len(files) == 0 {
			return out, err
		}
		needs, err := plan.CorpusNeeds(members)
		if err != nil {
			return nil, err
		}
		pieces, err := c.describePieces(ctx, files, needs)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			mc := out[m]
			for _, f := range files {
				pf := race.PushedFile{Corpus: f.spec.Corpus, File: f.spec.DocumentName()}
				for _, need := range needs[m] {
					if need.Spec.Corpus == pf.Corpus && need.Spec.DocumentName() == pf.File {
						for _, r := range need.Lines {
							pf.Pieces = append(pf.Pieces, pieces[pieceKey{f.path, r}].piece)
						}
					}
				}
				mc.Pushed = append(mc.Pushed, pf)
			}
			out[m] = mc
		}
		return out, c.pushPieces(ctx, opts, hosts, members, files, out, pieces, progress)
	}
}

// localCorpus is a documents file the coordinator has, ready to push.
type localCorpus struct {
	spec corpus.Spec
	path string // the uncompressed file here
}

// localCorpora makes ready here (decompressed, with offset tables, never
// downloaded) the documents files of the race that the coordinator has;
// with source push, one it lacks is an error naming it.
func (c *Coordinator) localCorpora(ctx context.Context, plan *race.Plan, source race.CorpusSource) ([]localCorpus, error) {
	specs, err := plan.CorpusFiles()
	if err != nil {
		return nil, err
	}
	o := corpus.Options{TrackDir: plan.Track.Dir, DataDir: c.cfg.Home.Data()}
	var out []localCorpus
	var missing []string
	for _, spec := range specs {
		for _, n := range []struct{ what, name string }{{"corpus", spec.Corpus}, {"documents file", spec.DocumentName()}} {
			if err := corpus.CheckName(n.what, n.name); err != nil {
				return nil, err
			}
		}
		ok, err := corpus.Present(spec, o)
		if err != nil {
			return nil, err
		}
		if !ok {
			missing = append(missing, fmt.Sprintf("corpus %q: %s in %s or %s", spec.Corpus, spec.SourceFile, plan.Track.Dir, filepath.Join(o.DataDir, spec.Corpus)))
			continue
		}
		local := spec
		local.BaseURL = "" // what is here only: the hosts download what is not
		p, err := corpus.Prepare(ctx, local, o)
		if err != nil {
			return nil, err
		}
		out = append(out, localCorpus{spec: spec, path: p})
	}
	if len(missing) > 0 && source == race.CorpusPush {
		return nil, fmt.Errorf("--corpus-source push: this machine lacks %s (--corpus-source download has each host download what it lacks)", strings.Join(missing, "; "))
	}
	return out, nil
}

// pieceKey names a run of lines of a local documents file.
type pieceKey struct {
	path  string
	lines corpus.LineRange
}

// describedPiece is a piece with its offset table's bytes.
type describedPiece struct {
	piece corpus.Piece
	table []byte
}

// pieceCache keeps the pieces described for earlier races, by file
// (its size and modification time) and lines: checksumming a corpus
// again for every race would read all of it each time.
type pieceCache struct {
	mu sync.Mutex
	m  map[string]describedPiece
}

// maxCachedPieces bounds the cache; it is cleared when full.
const maxCachedPieces = 4096

func (pc *pieceCache) key(fi os.FileInfo, k pieceKey) string {
	return fmt.Sprintf("%s\x00%d\x00%d\x00%s", k.path, fi.Size(), fi.ModTime().UnixNano(), k.lines)
}

func (pc *pieceCache) get(key string) (describedPiece, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	d, ok := pc.m[key]
	return d, ok
}

func (pc *pieceCache) put(key string, d describedPiece) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.m == nil || len(pc.m) >= maxCachedPieces {
		pc.m = map[string]describedPiece{}
	}
	pc.m[key] = d
}

// describePieces checksums every run of lines some member needs of the
// local files, each once, several at a time.
func (c *Coordinator) describePieces(ctx context.Context, files []localCorpus, needs map[string][]race.CorpusNeed) (map[pieceKey]describedPiece, error) {
	out := map[pieceKey]describedPiece{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, f := range files {
		fi, err := os.Stat(f.path)
		if err != nil {
			return nil, err
		}
		entries, err := corpus.ReadOffsetTable(f.path)
		if err != nil {
			return nil, fmt.Errorf("corpus %q: %w", f.spec.Corpus, err)
		}
		seen := map[corpus.LineRange]bool{}
		for _, ns := range needs {
			for _, need := range ns {
				if need.Spec.Corpus != f.spec.Corpus || need.Spec.DocumentName() != f.spec.DocumentName() {
					continue
				}
				for _, r := range need.Lines {
					if seen[r] {
						continue
					}
					seen[r] = true
					k := pieceKey{f.path, r}
					ck := c.racing.pieces.key(fi, k)
					if d, ok := c.racing.pieces.get(ck); ok {
						out[k] = d
						continue
					}
					g.Go(func() error {
						p, table, err := corpus.DescribePiece(gctx, f.spec, f.path, entries, r)
						if err != nil {
							return fmt.Errorf("corpus %q: %w", f.spec.Corpus, err)
						}
						d := describedPiece{piece: p, table: table}
						c.racing.pieces.put(ck, d)
						mu.Lock()
						out[k] = d
						mu.Unlock()
						return nil
					})
				}
			}
		}
	}
	return out, g.Wait()
}

// pushPieces pushes each member's pieces to its host, several hosts at
// once, reporting each host's progress. A host that fails does not stop
// the others: what they received stays for the next race.
func (c *Coordinator) pushPieces(ctx context.Context, opts race.CorpusOptions, hosts map[string]*hostRun, members []string,
	files []localCorpus, plan map[string]race.MemberCorpus, pieces map[pieceKey]describedPiece, progress func(string, report.CorpusPush)) error {
	srcs := map[string]*os.File{}
	defer func() {
		for _, f := range srcs {
			f.Close()
		}
	}()
	local := map[[2]string]string{}
	for _, f := range files {
		fh, err := os.Open(f.path)
		if err != nil {
			return err
		}
		srcs[f.path] = fh
		local[[2]string{f.spec.Corpus, f.spec.DocumentName()}] = f.path
	}
	var g errgroup.Group
	g.SetLimit(positiveOr(opts.PushHosts, defaultPushHosts))
	var mu sync.Mutex
	var errs []error
	for _, m := range members {
		var ranges []payload.Range
		var exclusive []string
		for _, pf := range plan[m].Pushed {
			exclusive = append(exclusive, path.Join(dataRel, corpus.PiecesRelDir(pf.Corpus, pf.File)))
			lp := local[[2]string{pf.Corpus, pf.File}]
			for _, p := range pf.Pieces {
				d := pieces[pieceKey{lp, p.Lines}]
				rel := path.Join(dataRel, p.RelPath())
				ranges = append(ranges,
					payload.Range{Src: srcs[lp], Offset: p.Offset, Size: p.Size, SHA256: p.SHA256, Remote: rel},
					payload.Range{Src: bytes.NewReader(d.table), Size: p.TableSize, SHA256: p.TableSHA256, Remote: corpus.OffsetTablePath(rel)})
			}
		}
		rec := report.CorpusPush{Phase: report.PushPrepare, Files: len(plan[m].Pushed), Pieces: len(ranges)}
		for _, r := range ranges {
			rec.Bytes += r.Size
		}
		progress(m, rec)
		g.Go(func() error {
			err := c.pushHost(ctx, hosts[m], ranges, exclusive, opts, rec, func(p report.CorpusPush) { progress(m, p) })
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
	return errors.Join(errs...)
}

// pushHost pushes one host's pieces.
func (c *Coordinator) pushHost(ctx context.Context, h *hostRun, ranges []payload.Range, exclusive []string, opts race.CorpusOptions,
	rec report.CorpusPush, progress func(report.CorpusPush)) error {
	if h == nil {
		return errors.New("push corpus: a load driver that is not in the inventory")
	}
	h.mu.Lock()
	client, workdir := h.client, h.workdir
	h.mu.Unlock()
	if client == nil {
		rec.Phase = report.PushFailed
		progress(rec)
		return fmt.Errorf("%s: push corpus: not connected", h.inv.Name)
	}
	var mu sync.Mutex
	res, err := payload.PushRanges(ctx, client, workdir, ranges, payload.RangesOptions{
		Writes:    positiveOr(opts.PushWrites, defaultPushWrites),
		Exclusive: exclusive,
		Progress: func(p payload.RangesProgress) {
			mu.Lock()
			defer mu.Unlock()
			rec.Phase, rec.Sent, rec.ToSend = pushPhases[p.Phase], p.Sent, p.ToSend
			progress(rec)
		},
	})
	mu.Lock()
	defer mu.Unlock()
	rec.Sent, rec.Skipped, rec.Resumed, rec.Replaced = res.Sent, res.Skipped, res.Resumed, res.Replaced
	if err != nil {
		rec.Phase = report.PushFailed
		progress(rec)
		return err
	}
	rec.Phase = report.PushDone
	progress(rec)
	c.log.Info("corpus pushed", "host", h.inv.Name, "pieces", rec.Pieces, "bytes", rec.Bytes, "sent", rec.Sent,
		"skipped", rec.Skipped, "resumed", rec.Resumed, "replaced", rec.Replaced)
	return nil
}

// pushPhases are payload's phases as the race's record names them.
var pushPhases = map[payload.RangesPhase]report.PushPhase{
	payload.RangesCheck: report.PushCheck, payload.RangesSend: report.PushSend, payload.RangesDone: report.PushDone,
}

func positiveOr(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// trackCorpusFiles names the files of a track directory that its corpora
// bring (documents files, their archives and offset tables, at the
// directory's top): the track push leaves them out, since the corpus
// source says how they reach the hosts.
func trackCorpusFiles(plan *race.Plan) func(rel string) bool {
	names := map[string]bool{}
	for _, c := range plan.Track.Corpora {
		for _, d := range c.Documents {
			for _, n := range []string{d.SourceFile, d.DocumentFile, d.DocumentArchive, corpus.DocumentFileName(d.SourceFile)} {
				if n == "" {
					continue
				}
				names[filepath.Base(n)] = true
				names[corpus.OffsetTablePath(filepath.Base(n))] = true
			}
		}
	}
	return func(rel string) bool { return names[rel] }
}
