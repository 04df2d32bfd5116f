package estarget

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// handleDoc serves the single-document APIs by running one bulk-style
// operation: PUT/POST /{index}/_doc[/{id}], PUT /{index}/_create/{id},
// POST /{index}/_update/{id}, GET/HEAD/DELETE /{index}/_doc/{id}.
func (s *Server) handleDoc(w http.ResponseWriter, q *req) {
	name, kind, id := q.seg(0), q.seg(1), q.seg(2)
	if q.r.Method == http.MethodGet || q.r.Method == http.MethodHead {
		s.getDoc(w, q, name, id)
		return
	}
	op := bulkOp{index: name, id: id, line: 1}
	switch {
	case q.r.Method == http.MethodDelete:
		op.typ = opDelete
	case kind == "_create":
		op.typ = opCreate
	case kind == "_update":
		op.typ = opUpdate
	default:
		op.typ = opIndex
		if t, _ := q.param("op_type"); t == "create" {
			op.typ = opCreate
		}
	}
	if p, ok := q.param("pipeline"); ok {
		op.pipeline, op.hasPipe = p, true
	}
	if op.typ != opDelete {
		body, e := readBody(q.r)
		if e != nil {
			s.writeError(w, q.r, e)
			return
		}
		op.source = bytes.TrimSpace(body)
		if op.typ == opUpdate {
			var u updateBody
			dec := json.NewDecoder(bytes.NewReader(op.source))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&u); err != nil {
				s.writeError(w, q.r, xContentError("[1:1] [UpdateRequest] failed to parse update body: %v", err))
				return
			}
			op.update = &u
		}
	}
	start := time.Now()
	s.mu.Lock()
	res := s.applyOp(&op)
	if ix := res.index; ix != nil {
		countWrite(ix, &op, &res, time.Since(start).Nanoseconds())
		if r, ok := q.param("refresh"); ok && r != "false" {
			ix.refresh()
			ix.st.refreshTotal.Add(1)
		}
	}
	s.mu.Unlock()
	if res.err != nil {
		s.writeError(w, q.r, res.err)
		return
	}
	e := getEnc()
	defer putEnc(e)
	e.obj()
	writeDocFields(e, &res)
	e.end()
	s.writeJSON(w, q.r, res.status, e.b)
}

// writeDocFields writes a single-document write response (no "status").
func writeDocFields(e *enc, r *itemResult) {
	e.kstr("_index", r.index.name)
	e.kstr("_id", r.id)
	e.kint("_version", r.version)
	e.kstr("result", r.result)
	e.kshards("_shards", 1)
	e.kint("_seq_no", r.seqNo)
	e.kint("_primary_term", 1)
}

func (s *Server) getDoc(w http.ResponseWriter, q *req, name, id string) {
	start := time.Now()
	s.mu.RLock()
	indices, e := s.resolve(name, resolveOpts{dataStreamsAsIndices: true})
	if e == nil && len(indices) == 0 {
		e = indexNotFound(name)
	}
	if e != nil {
		s.mu.RUnlock()
		s.writeError(w, q.r, e)
		return
	}
	var found *doc
	ix := indices[0]
	for _, cand := range indices {
		if d, ok := cand.get(id); ok {
			found, ix = d, cand
			break
		}
	}
	var d doc
	if found != nil {
		d = *found
	}
	ix.st.getTotal.Add(1)
	ix.st.getTimeNs.Add(time.Since(start).Nanoseconds())
	if found != nil {
		ix.st.getExists.Add(1)
	} else {
		ix.st.getMissing.Add(1)
	}
	s.mu.RUnlock()

	out := getEnc()
	defer putEnc(out)
	out.obj()
	out.kstr("_index", ix.name)
	out.kstr("_id", id)
	status := http.StatusOK
	if found == nil {
		out.kbool("found", false)
		status = http.StatusNotFound
	} else {
		out.kint("_version", d.version)
		out.kint("_seq_no", d.seqNo)
		out.kint("_primary_term", 1)
		out.kbool("found", true)
		out.kraw("_source", d.source)
	}
	out.end()
	s.writeJSON(w, q.r, status, out.b)
}
