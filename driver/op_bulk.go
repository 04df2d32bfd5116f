package driver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"rally/driver/corpus"
	"rally/metrics"
	"rally/track"
)

// bulkFile is one documents file a bulk task reads.
type bulkFile struct {
	spec corpus.Spec
	// corpusIndex orders files by corpus for Rally's staggering.
	corpusIndex int
	// action is the constant action-and-metadata line: nil when the file
	// carries its own or when ids are generated per document (conflicts).
	action   []byte
	target   string
	typ      string
	create   bool
	withMeta bool
	// path is the uncompressed file, set by prepare.
	path string
}

// conflictPolicy is Rally's id-conflict simulation.
type conflictPolicy struct {
	mode        string  // "", "sequential" or "random"
	probability float64 // 0..1
	onConflict  string  // "index" or "update"
	recency     float64 // 0..1
}

// bulkSpec is a compiled bulk operation.
type bulkSpec struct {
	files      []*bulkFile
	corpora    int
	bulkSize   int64
	percentage float64
	conflicts  conflictPolicy
	path       string
	ro         requestOptions

	mu       sync.Mutex
	prepared bool
}

const ndjson = "application/x-ndjson"

func compileBulk(t *track.Track, task *track.Task, p params) (opSpec, error) {
	b := &bulkSpec{}
	var err error
	if !p.has("bulk-size") {
		return nil, fmt.Errorf(`parameter "bulk-size" is mandatory`)
	}
	if b.bulkSize, err = p.int("bulk-size", 0); err != nil {
		return nil, err
	}
	if b.bulkSize <= 0 {
		return nil, fmt.Errorf(`parameter "bulk-size" must be positive`)
	}
	if bs, err := p.int("batch-size", b.bulkSize); err != nil {
		return nil, err
	} else if bs < b.bulkSize || bs%b.bulkSize != 0 {
		return nil, fmt.Errorf(`parameter "batch-size" must be a multiple of "bulk-size"`)
	}
	if b.percentage, err = p.float("ingest-percentage", 100); err != nil {
		return nil, err
	}
	if b.percentage <= 0 || b.percentage > 100 {
		return nil, fmt.Errorf(`parameter "ingest-percentage" must be in (0, 100]`)
	}
	if b.conflicts.mode, err = p.str("conflicts", ""); err != nil {
		return nil, err
	}
	switch b.conflicts.mode {
	case "", "sequential", "random":
	default:
		return nil, fmt.Errorf(`parameter "conflicts": %q is not sequential or random`, b.conflicts.mode)
	}
	if b.conflicts.mode != "" {
		prob, err := p.float("conflict-probability", 25)
		if err != nil {
			return nil, err
		}
		if prob < 0 || prob > 100 {
			return nil, fmt.Errorf(`parameter "conflict-probability" must be in [0, 100]`)
		}
		b.conflicts.probability = prob / 100
		if b.conflicts.onConflict, err = p.str("on-conflict", "index"); err != nil {
			return nil, err
		}
		if b.conflicts.onConflict != "index" && b.conflicts.onConflict != "update" {
			return nil, fmt.Errorf(`parameter "on-conflict": %q is not index or update`, b.conflicts.onConflict)
		}
		if b.conflicts.recency, err = p.float("recency", 0); err != nil {
			return nil, err
		}
		if b.conflicts.recency < 0 || b.conflicts.recency > 1 {
			return nil, fmt.Errorf(`parameter "recency" must be in [0, 1]`)
		}
	}
	if _, err := p.bool("detailed-results", false); err != nil {
		return nil, err
	}
	if b.ro, err = p.requestOptions(); err != nil {
		return nil, err
	}
	b.path = "/_bulk" + b.ro.query
	if pipeline, err := p.str("pipeline", ""); err != nil {
		return nil, err
	} else if pipeline != "" {
		qs, _ := queryString(map[string]any{"pipeline": pipeline})
		b.path = withQuery(b.path, qs)
	}
	if err := b.selectFiles(t, p); err != nil {
		return nil, err
	}
	return b, nil
}

// selectFiles applies the corpora, indices and data-streams filters.
func (b *bulkSpec) selectFiles(t *track.Track, p params) error {
	if len(t.Corpora) == 0 {
		return fmt.Errorf("the track has no corpora to index")
	}
	names, err := p.strList("corpora")
	if err != nil {
		return err
	}
	indices, err := p.strList("indices")
	if err != nil {
		return err
	}
	streams, err := p.strList("data-streams")
	if err != nil {
		return err
	}
	if len(streams) > 0 && b.conflicts.mode != "" {
		return fmt.Errorf(`"conflicts" cannot be used with "data-streams"`)
	}
	var all []string
	for _, c := range t.Corpora {
		all = append(all, c.Name)
		if len(names) > 0 && !slices.Contains(names, c.Name) {
			continue
		}
		added := false
		for _, d := range c.Documents {
			if d.SourceFormat != "" && d.SourceFormat != "bulk" {
				continue
			}
			if len(indices) > 0 && !slices.Contains(indices, d.TargetIndex) {
				continue
			}
			if len(streams) > 0 && !slices.Contains(streams, d.TargetDataStream) {
				continue
			}
			if d.DocumentCount <= 0 {
				continue
			}
			f, err := b.newFile(c, d)
			if err != nil {
				return fmt.Errorf("corpus %q, %s: %w", c.Name, d.SourceFile, err)
			}
			f.corpusIndex = b.corpora
			b.files = append(b.files, f)
			added = true
		}
		if added {
			b.corpora++
		}
	}
	if len(b.files) == 0 {
		return fmt.Errorf("no documents match: corpora %v of %v, indices %v, data-streams %v", names, all, indices, streams)
	}
	return nil
}

func (b *bulkSpec) newFile(c track.Corpus, d track.Documents) (*bulkFile, error) {
	baseURL := d.BaseURL
	if baseURL == "" {
		baseURL = c.BaseURL
	}
	f := &bulkFile{
		spec: corpus.Spec{
			Corpus: c.Name, SourceFile: d.SourceFile, DocumentFile: d.DocumentFile, BaseURL: baseURL,
			DocumentCount: d.DocumentCount, CompressedBytes: d.CompressedBytes, UncompressedBytes: d.UncompressedBytes,
			IncludesActionAndMetaData: d.IncludesActionAndMetaData,
		},
		withMeta: d.IncludesActionAndMetaData,
		typ:      d.TargetType,
	}
	if f.withMeta {
		if b.conflicts.mode != "" {
			return nil, fmt.Errorf("cannot generate id conflicts: the file already has action-and-meta-data lines")
		}
		return f, nil
	}
	switch {
	case d.TargetIndex != "":
		f.target = d.TargetIndex
	case d.TargetDataStream != "":
		f.target, f.create = d.TargetDataStream, true
		if b.conflicts.mode != "" {
			return nil, fmt.Errorf("conflicts cannot be generated for an append-only data stream")
		}
	default:
		return nil, fmt.Errorf("documents have no target-index or target-data-stream")
	}
	if b.conflicts.mode == "" {
		verb := "index"
		if f.create {
			verb = "create" // data streams are append-only
		}
		f.action = actionLine(verb, f.target, f.typ, "")
	}
	return f, nil
}

// actionLine renders an action-and-metadata line, e.g.
// {"index":{"_index":"logs"}} plus "\n".
func actionLine(action, index, typ, id string) []byte {
	q := func(s string) string { j, _ := json.Marshal(s); return string(j) }
	line := `{"` + action + `":{"_index":` + q(index)
	if typ != "" {
		line += `,"_type":` + q(typ)
	}
	if id != "" {
		line += `,"_id":` + q(id)
	}
	return []byte(line + "}}\n")
}

func (b *bulkSpec) unit() string { return "docs/s" }

// requestWeight is the documents per bulk request, for throughput targets
// in docs/s.
func (b *bulkSpec) requestWeight() float64 { return float64(b.bulkSize) }
func (b *bulkSpec) finite() bool           { return true }

// prepare makes every documents file ready (download, decompress, offset
// table); once done it is a no-op.
func (b *bulkSpec) prepare(ctx context.Context, env prepareEnv) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.prepared {
		return nil
	}
	for _, f := range b.files {
		path, err := corpus.Prepare(ctx, f.spec, corpus.Options{TrackDir: env.trackDir, DataDir: env.dataDir, Progress: env.progress})
		if err != nil {
			return err
		}
		f.path = path
	}
	b.prepared = true
	return nil
}

// bulkSlice is one client's share of one file.
type bulkSlice struct {
	file      *bulkFile
	firstLine int64
	lines     int64
	docs      int64
	firstDoc  int64
}

// newRunner returns the bulk runner of one client: its slices of every file,
// ordered as Rally orders them (each client starts with a different corpus,
// then takes the files round-robin across corpora).
func (b *bulkSpec) newRunner(c clientSlot) (runner, error) {
	b.mu.Lock()
	prepared := b.prepared
	b.mu.Unlock()
	if !prepared {
		return nil, errors.New("bulk: corpora not prepared")
	}
	perCorpus := make([][]bulkSlice, b.corpora)
	var allBulks int64
	for _, f := range b.files {
		first, n := corpus.Bounds(f.spec.DocumentCount, c.index, c.total)
		if n == 0 {
			continue
		}
		lpd := f.spec.LinesPerDocument()
		perCorpus[f.corpusIndex] = append(perCorpus[f.corpusIndex], bulkSlice{file: f, firstLine: first * lpd, lines: n * lpd, docs: n, firstDoc: first})
		allBulks += (n + b.bulkSize - 1) / b.bulkSize
	}
	var order []bulkSlice
	start := 0
	if b.corpora > 0 {
		start = c.index % b.corpora
	}
	for remaining := true; remaining; {
		remaining = false
		for k := 0; k < b.corpora; k++ {
			q := &perCorpus[(start+k)%b.corpora]
			if len(*q) > 0 {
				order = append(order, (*q)[0])
				*q = (*q)[1:]
				remaining = true
			}
		}
	}
	r := &bulkRunner{
		spec:  b,
		order: order,
		limit: int64(math.Ceil(float64(allBulks) * b.percentage / 100)),
		rng:   rand.New(rand.NewPCG(c.seed, c.seed^0x5851f42d4c957f2d)),
	}
	return r, nil
}

// bulkRunner builds and sends one client's bulk requests. Bodies are the
// raw lines of the documents file with action lines between them, built in
// one reused buffer: the document bytes are never decoded or re-encoded.
type bulkRunner struct {
	spec  *bulkSpec
	order []bulkSlice
	cur   int
	rd    *corpus.SliceReader
	ids   *idGenerator
	buf   []byte
	sent  int64
	limit int64
	rng   *rand.Rand
}

// open positions the reader at the current slice.
func (r *bulkRunner) open() error {
	s := r.order[r.cur]
	rd, err := corpus.OpenSlice(s.file.path, s.firstLine, s.lines)
	if err != nil {
		return err
	}
	r.rd = rd
	r.ids = nil
	if r.spec.conflicts.mode != "" {
		r.ids = newIDGenerator(s, r.spec.conflicts, r.rng)
	}
	return nil
}

// nextBody fills r.buf with the next bulk body and returns its document
// count (0 at the end). A bulk never spans two files, as in Rally.
func (r *bulkRunner) nextBody() (int64, error) {
	r.buf = r.buf[:0]
	for r.cur < len(r.order) {
		if r.rd == nil {
			if err := r.open(); err != nil {
				return 0, err
			}
		}
		f := r.order[r.cur].file
		var docs int64
		var err error
		for docs < r.spec.bulkSize {
			if f.withMeta {
				r.buf, err = r.rd.AppendLine(r.buf)
				if err == nil {
					r.buf, err = r.rd.AppendLine(r.buf)
				}
			} else if r.ids != nil {
				r.buf, err = r.ids.appendDoc(r.buf, r.rd, f)
			} else {
				mark := len(r.buf)
				r.buf = append(r.buf, f.action...)
				r.buf, err = r.rd.AppendLine(r.buf)
				if err != nil {
					r.buf = r.buf[:mark]
				}
			}
			if err != nil {
				break
			}
			docs++
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if errors.Is(err, io.EOF) {
			r.rd.Close()
			r.rd = nil
			r.cur++
		}
		if docs > 0 {
			return docs, nil
		}
	}
	return 0, nil
}

func (r *bulkRunner) run(ctx context.Context, s *session) outcome {
	if r.sent >= r.limit {
		return outcome{exhausted: true}
	}
	docs, err := r.nextBody()
	if err != nil {
		return outcome{err: fmt.Errorf("read corpus: %w", err), fatal: true}
	}
	if docs == 0 {
		return outcome{exhausted: true}
	}
	r.sent++
	s.req.Reset()
	s.req.Method = "POST"
	s.req.Path = r.spec.path
	s.req.Body = r.buf
	s.req.ContentType = ndjson
	s.req.Headers = r.spec.ro.headers
	s.req.Timeout = r.spec.ro.timeout
	if err := s.do(ctx); err != nil {
		return transportFailure("POST", r.spec.path, err)
	}
	if s.resp.Status >= 400 {
		return httpFailure("POST", r.spec.path, s.resp.Status, s.resp.Body)
	}
	res, err := scanBulkResponse(s.resp.Body)
	if err != nil {
		return conditionFailure("POST", r.spec.path, "unreadable bulk response: "+snippet(s.resp.Body))
	}
	if res.Errors {
		return outcome{weight: docs, errType: metrics.ErrBulkItem, err: &RequestError{
			Method: "POST", Path: r.spec.path, Status: s.resp.Status, Type: metrics.ErrBulkItem,
			Reason: fmt.Sprintf("%d of %d items failed; first: status %d: %s", res.Failed, res.Items, res.FirstStatus, res.FirstReason),
		}}
	}
	return outcome{weight: docs}
}

func (r *bulkRunner) close() error {
	if r.rd != nil {
		err := r.rd.Close()
		r.rd = nil
		return err
	}
	return nil
}

// idGenerator produces Rally's action lines with explicit ids for conflict
// simulation: ids are the client's document numbers ("%010d" of the slice
// offset + i), sequential or shuffled; with the conflict probability an
// already used id is reused with the on-conflict action.
type idGenerator struct {
	ids    []string
	upTo   int
	policy conflictPolicy
	rng    *rand.Rand
}

func newIDGenerator(s bulkSlice, p conflictPolicy, rng *rand.Rand) *idGenerator {
	ids := make([]string, s.docs)
	for i := range ids {
		ids[i] = fmt.Sprintf("%010d", s.firstLine+int64(i))
	}
	if p.mode == "random" {
		rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	}
	return &idGenerator{ids: ids, policy: p, rng: rng}
}

// appendDoc appends the action line and document for the next document.
func (g *idGenerator) appendDoc(dst []byte, rd *corpus.SliceReader, f *bulkFile) ([]byte, error) {
	action, id := "index", ""
	if g.policy.probability > 0 && g.upTo > 0 && g.rng.Float64() <= g.policy.probability {
		idx := 0
		if g.policy.recency == 0 {
			idx = g.rng.IntN(g.upTo)
		} else {
			// Bias towards recently used ids, as Rally does.
			r := math.Min(g.rng.ExpFloat64()/(30*g.policy.recency), 1)
			idx = int(math.Round(float64(g.upTo-1) * (1 - r)))
		}
		action, id = g.policy.onConflict, g.ids[idx]
	} else {
		if g.upTo >= len(g.ids) {
			return dst, io.EOF
		}
		id = g.ids[g.upTo]
		g.upTo++
	}
	mark := len(dst)
	dst = append(dst, actionLine(action, f.target, f.typ, id)...)
	if action == "update" {
		dst = append(dst, `{"doc":`...)
		var err error
		if dst, err = rd.AppendLine(dst); err != nil {
			return dst[:mark], err
		}
		// The document must stay on one line inside {"doc":...}.
		for len(dst) > 0 && (dst[len(dst)-1] == '\n' || dst[len(dst)-1] == '\r' || dst[len(dst)-1] == ' ' || dst[len(dst)-1] == '\t') {
			dst = dst[:len(dst)-1]
		}
		return append(dst, "}\n"...), nil
	}
	dst, err := rd.AppendLine(dst)
	if err != nil {
		return dst[:mark], err
	}
	return dst, nil
}
