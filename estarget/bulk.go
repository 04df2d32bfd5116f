package estarget

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"time"
)

var opsPool = sync.Pool{New: func() any { s := make([]bulkOp, 0, 1024); return &s }}

// itemResult is the outcome of one write, before rendering.
type itemResult struct {
	op      opType
	index   *index // nil when the target could not be resolved
	name    string // index name to report when index is nil
	id      string
	version int64
	seqNo   int64
	result  string // created, updated, deleted, not_found, noop
	status  int
	err     *esError
}

func (s *Server) handleBulk(w http.ResponseWriter, q *req) {
	start := time.Now()
	body, e := readBody(q.r)
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	opsp := opsPool.Get().(*[]bulkOp)
	defer func() {
		clear((*opsp)[:cap(*opsp)])
		*opsp = (*opsp)[:0]
		opsPool.Put(opsp)
	}()
	defaultIndex := ""
	if q.nseg == 2 {
		defaultIndex = q.seg(0)
	}
	ops, e := parseBulk(body, defaultIndex, s.allowsTypes(), (*opsp)[:0])
	*opsp = ops
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	reqPipeline, hasReqPipeline := q.param("pipeline")
	refresh, hasRefresh := q.param("refresh")

	items := getEnc()
	defer putEnc(items)
	errors := false
	usedPipeline := false

	s.mu.Lock()
	var touchedBuf [4]touchedIndex
	touched := touchedBuf[:0]
	last := time.Now()
	for i := range ops {
		op := &ops[i]
		if !op.hasPipe && hasReqPipeline {
			op.pipeline, op.hasPipe = reqPipeline, true
		}
		res := s.applyOp(op)
		if res.err == nil && op.typ != opDelete && res.index != nil {
			if p := s.pipelineFor(op, res.index); p != "" {
				usedPipeline = true
			}
		}
		now := time.Now()
		if ix := res.index; ix != nil {
			touched = touch(touched, ix, int64(len(op.source)))
			countWrite(ix, op, &res, now.Sub(last).Nanoseconds())
		}
		last = now
		if res.err != nil {
			errors = true
		}
		writeItem(items, &res)
	}
	if hasRefresh && refresh != "false" {
		for _, ti := range touched {
			ti.ix.countedRefresh()
		}
	}
	s.mu.Unlock()

	took := time.Since(start)
	for _, ti := range touched {
		ix := ti.ix
		ix.st.bulkOps.Add(1)
		ix.st.bulkBytes.Add(ti.bytes)
		ix.st.bulkTimeNs.Add(took.Nanoseconds())
	}

	out := getEnc()
	defer putEnc(out)
	out.obj()
	out.kbool("errors", errors)
	out.kint("took", took.Milliseconds())
	if usedPipeline {
		out.kint("ingest_took", 0)
	}
	out.key("items")
	out.sep()
	out.b = append(out.b, '[')
	out.b = append(out.b, items.b...)
	out.b = append(out.b, ']')
	out.comma = true
	out.end()
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}

// allowsTypes reports whether bulk metadata may still carry _type:
// Elasticsearch before 8 and OpenSearch before 2.
func (s *Server) allowsTypes() bool {
	if s.flavor == FlavorOpenSearch {
		return s.version.major < 2
	}
	return s.version.major < 8
}

// touchedIndex is an index a bulk request wrote to, with its source bytes.
// countWrite adds one applied write to the indexing numbers of ix, the
// index it went to: a failure, a delete, a no-op update or an index; deletes
// and indexes took tookNs.
func countWrite(ix *index, op *bulkOp, res *itemResult, tookNs int64) {
	switch {
	case res.err != nil:
		ix.st.indexFailed.Add(1)
	case op.typ == opDelete:
		ix.st.deleteTotal.Add(1)
		ix.st.deleteTimeNs.Add(tookNs)
	case res.result == "noop":
		ix.st.noopUpdates.Add(1)
	default:
		ix.st.indexTotal.Add(1)
		ix.st.indexTimeNs.Add(tookNs)
	}
}

type touchedIndex struct {
	ix    *index
	bytes int64
}

// touch adds n bytes for ix; bulk requests name few indices, so a linear
// scan beats a map.
func touch(list []touchedIndex, ix *index, n int64) []touchedIndex {
	for i := range list {
		if list[i].ix == ix {
			list[i].bytes += n
			return list
		}
	}
	return append(list, touchedIndex{ix: ix, bytes: n})
}

// pipelineFor returns the pipeline an index-like op runs through: the
// explicit one, else the index's default_pipeline; "" when none.
func (s *Server) pipelineFor(op *bulkOp, ix *index) string {
	if op.hasPipe {
		if op.pipeline == "_none" {
			return ""
		}
		return op.pipeline
	}
	if p, ok := ix.settings["index.default_pipeline"].(string); ok && p != "_none" {
		return p
	}
	return ""
}

// shardOf routes a document id to a shard the way a hash router would.
func shardOf(id string, shards int) int {
	if shards <= 1 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % uint32(shards))
}

func itemError(ix *index, id string, e *esError) *esError {
	if ix != nil && e.index == "" {
		e.index, e.indexUUID = ix.name, ix.uuid
		e.extra = append(e.extra, [2]string{"shard", strconv.Itoa(shardOf(id, ix.shards))})
	}
	return e
}

// documentParsing is the item error for a document that is not a JSON
// object; 8.x says document_parsing_exception, older lines and OpenSearch
// mapper_parsing_exception.
func (s *Server) documentParsing(reason string) *esError {
	typ := "document_parsing_exception"
	if s.flavor == FlavorOpenSearch || s.version.major < 8 {
		typ = "mapper_parsing_exception"
	}
	return errf(http.StatusBadRequest, typ, "[1:1] failed to parse: %s", reason)
}

// applyOp applies one operation; the caller holds the write lock.
func (s *Server) applyOp(op *bulkOp) itemResult {
	res := itemResult{op: op.typ, name: op.index, id: op.id}
	fail := func(e *esError) itemResult {
		res.err = itemError(res.index, res.id, e)
		res.status = e.status
		return res
	}
	if len(op.id) > 512 {
		return fail(errf(http.StatusBadRequest, "action_request_validation_exception",
			"Validation Failed: 1: id [%s] is too long, must be no longer than 512 bytes but was: %d;", op.id, len(op.id)))
	}
	ix, e := s.writeTarget(op.index, op.typ == opCreate)
	if e != nil {
		return fail(e)
	}
	res.index = ix
	if op.typ != opDelete {
		if p := s.pipelineFor(op, ix); p != "" {
			if _, ok := s.pipelines[p]; !ok {
				return fail(badRequest("pipeline with id [%s] does not exist", p))
			}
		}
	}
	switch op.typ {
	case opIndex, opCreate:
		if !isJSONObject(op.source) {
			return fail(s.documentParsing("the document is not a valid JSON object"))
		}
		if ix.dataStream != "" && !hasTopLevelKey(op.source, "@timestamp") {
			return fail(s.documentParsing("data stream timestamp field [@timestamp] is missing"))
		}
		if op.id == "" {
			op.id = s.ids.next()
			res.id = op.id
		}
		cur, exists := ix.get(op.id)
		if e := checkIf(op, cur, exists); e != nil {
			return fail(e)
		}
		if exists && op.typ == opCreate {
			return fail(errf(http.StatusConflict, "version_conflict_engine_exception",
				"[%s]: version conflict, document already exists (current version [%d])", op.id, cur.version))
		}
		version := int64(1)
		res.result, res.status = "created", http.StatusCreated
		if exists {
			version = cur.version + 1
			res.result, res.status = "updated", http.StatusOK
		}
		d := ix.put(op.id, op.source, version)
		res.version, res.seqNo = d.version, d.seqNo
	case opUpdate:
		return s.applyUpdate(op, ix, res, fail)
	case opDelete:
		if op.id == "" {
			return fail(validationFailed("id is missing"))
		}
		cur, exists := ix.get(op.id)
		if e := checkIf(op, cur, exists); e != nil {
			return fail(e)
		}
		seq, version, found := ix.remove(op.id)
		res.seqNo, res.version = seq, version
		if found {
			res.result, res.status = "deleted", http.StatusOK
		} else {
			res.result, res.status = "not_found", http.StatusNotFound
		}
	}
	return res
}

// checkIf applies if_seq_no/if_primary_term optimistic concurrency control.
func checkIf(op *bulkOp, cur *doc, exists bool) *esError {
	if !op.hasIfSeqNo {
		return nil
	}
	if !exists {
		return errf(http.StatusConflict, "version_conflict_engine_exception",
			"[%s]: version conflict, required seqNo [%d], primary term [%d] but no document was found", op.id, op.ifSeqNo, op.ifPrimaryTerm)
	}
	if cur.seqNo != op.ifSeqNo || op.ifPrimaryTerm != 1 {
		return errf(http.StatusConflict, "version_conflict_engine_exception",
			"[%s]: version conflict, required seqNo [%d], primary term [%d]. current document has seqNo [%d] and primary term [1]",
			op.id, op.ifSeqNo, op.ifPrimaryTerm, cur.seqNo)
	}
	return nil
}

func (s *Server) applyUpdate(op *bulkOp, ix *index, res itemResult, fail func(*esError) itemResult) itemResult {
	u := op.update
	if op.id == "" {
		return fail(validationFailed("id is missing"))
	}
	if u.Script != nil {
		return fail(badRequest("estarget does not run scripts: scripted updates are not supported by this test target"))
	}
	if u.Doc == nil && u.Upsert == nil {
		return fail(validationFailed("script or doc is missing"))
	}
	cur, exists := ix.get(op.id)
	if e := checkIf(op, cur, exists); e != nil {
		return fail(e)
	}
	if !exists {
		var src map[string]any
		switch {
		case u.DocAsUpsert && u.Doc != nil:
			src = u.Doc
		case u.Upsert != nil:
			src = u.Upsert
		default:
			return fail(errf(http.StatusNotFound, "document_missing_exception", "[%s]: document missing", op.id))
		}
		b, _ := json.Marshal(src)
		d := ix.put(op.id, b, 1)
		res.result, res.status, res.version, res.seqNo = "created", http.StatusCreated, d.version, d.seqNo
		return res
	}
	var existing map[string]any
	if err := json.Unmarshal(cur.source, &existing); err != nil {
		return fail(s.documentParsing("stored document is not valid JSON"))
	}
	merged := deepMerge(cloneMap(existing), u.Doc)
	if (u.DetectNoop == nil || *u.DetectNoop) && reflect.DeepEqual(existing, merged) {
		res.result, res.status, res.version, res.seqNo = "noop", http.StatusOK, cur.version, cur.seqNo
		return res
	}
	b, _ := json.Marshal(merged)
	d := ix.put(op.id, b, cur.version+1)
	res.result, res.status, res.version, res.seqNo = "updated", http.StatusOK, d.version, d.seqNo
	return res
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if mm, ok := v.(map[string]any); ok {
			v = cloneMap(mm)
		}
		out[k] = v
	}
	return out
}

// isJSONObject reports whether b is one valid JSON object.
func isJSONObject(b []byte) bool {
	return len(b) > 1 && b[0] == '{' && json.Valid(b)
}

// writeItem renders one bulk item as Elasticsearch does:
// {"index":{"_index":..,"_id":..,"_version":..,"result":..,"_shards":{..},
// "_seq_no":..,"_primary_term":1,"status":201}} or, on failure,
// {"create":{"_index":..,"_id":..,"status":409,"error":{..}}}.
func writeItem(e *enc, r *itemResult) {
	e.obj()
	e.kobj(r.op.String())
	writeDocResult(e, r)
	e.end()
	e.end()
}

// writeDocResult writes the members shared by bulk items and single
// document responses.
func writeDocResult(e *enc, r *itemResult) {
	name := r.name
	if r.index != nil {
		name = r.index.name
	}
	e.kstr("_index", name)
	if r.id == "" {
		e.knull("_id")
	} else {
		e.kstr("_id", r.id)
	}
	if r.err != nil {
		e.kint("status", int64(r.status))
		e.kobj("error")
		r.err.writeMembers(e)
		e.end()
		return
	}
	e.kint("_version", r.version)
	e.kstr("result", r.result)
	e.kshards("_shards", 1)
	e.kint("_seq_no", r.seqNo)
	e.kint("_primary_term", 1)
	e.kint("status", int64(r.status))
}
