package estarget

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// scrollContext keeps the remaining hits of a scrolled search. Like a real
// scroll it is a snapshot: documents written later do not appear.
type scrollContext struct {
	id       string
	indices  []*index
	rest     []hit
	spec     *searchSpec
	total    int
	relation string
	shards   int
	keep     time.Duration
	expires  time.Time
	opened   time.Time
}

// pitContext is an open point in time. It remembers which indices it was
// opened on; searches through it see the live documents of those indices.
type pitContext struct {
	id      string
	indices []string
	keep    time.Duration
	expires time.Time
}

// newContextID makes an opaque base64 id, as Elasticsearch's are.
func (s *Server) newContextID(kind string) string {
	s.taskSeq++
	raw := kind + ":" + s.nodeID + ":" + strconv.FormatInt(s.taskSeq, 10) + ":" + randomUUID()
	return base64.StdEncoding.EncodeToString([]byte(raw))
}

// expireContexts drops scrolls and points in time whose keep-alive has
// passed; the caller holds the write lock.
func (s *Server) expireContexts(now time.Time) {
	for id, sc := range s.scrolls {
		if now.After(sc.expires) {
			s.closeScroll(id, now)
		}
	}
	for id, p := range s.pits {
		if now.After(p.expires) {
			delete(s.pits, id)
		}
	}
}

func (s *Server) openScroll(indices []*index, rest []hit, spec *searchSpec, res searchResult, keep time.Duration) string {
	now := time.Now()
	s.expireContexts(now)
	sc := &scrollContext{
		id: s.newContextID("scroll"), indices: indices, rest: rest, spec: spec,
		total: res.total, relation: res.relation, shards: res.shards,
		keep: keep, expires: now.Add(keep), opened: now,
	}
	s.scrolls[sc.id] = sc
	for _, ix := range indices {
		ix.st.scrollCurrent.Add(1)
	}
	return sc.id
}

func (s *Server) closeScroll(id string, now time.Time) bool {
	sc, ok := s.scrolls[id]
	if !ok {
		return false
	}
	delete(s.scrolls, id)
	for _, ix := range sc.indices {
		ix.st.scrollCurrent.Add(-1)
		ix.st.scrollTotal.Add(int64(ix.shards))
		ix.st.scrollTimeNs.Add(now.Sub(sc.opened).Nanoseconds())
	}
	return true
}

// handleScroll serves GET/POST /_search/scroll[/{id}] and DELETE (clear).
func (s *Server) handleScroll(w http.ResponseWriter, q *req) {
	var in struct {
		ScrollID any    `json:"scroll_id"`
		Scroll   string `json:"scroll"`
	}
	if _, e := readJSONBody(q.r, &in); e != nil {
		s.writeError(w, q.r, e)
		return
	}
	ids, _ := stringList(in.ScrollID)
	if id := q.seg(2); id != "" {
		ids = strings.Split(id, ",")
	}
	if v, ok := q.param("scroll_id"); ok {
		ids = strings.Split(v, ",")
	}
	if q.r.Method == http.MethodDelete {
		s.clearScroll(w, q, ids)
		return
	}
	if len(ids) != 1 {
		s.writeError(w, q.r, validationFailed("scrollId is missing"))
		return
	}
	keepStr := in.Scroll
	if v, ok := q.param("scroll"); ok {
		keepStr = v
	}
	start := time.Now()
	s.mu.Lock()
	s.expireContexts(start)
	sc, ok := s.scrolls[ids[0]]
	if !ok {
		s.mu.Unlock()
		s.writeSearchContextMissing(w, q, ids[0])
		return
	}
	if keepStr != "" {
		keep, e := parseKeepAlive("scroll", keepStr)
		if e != nil {
			s.mu.Unlock()
			s.writeError(w, q.r, e)
			return
		}
		sc.keep = keep
	}
	sc.expires = start.Add(sc.keep)
	hits := page(sc.rest, 0, sc.spec.size)
	sc.rest = sc.rest[len(hits):]
	s.mu.Unlock()

	res := searchResult{total: sc.total, relation: sc.relation, shards: sc.shards}
	out := getEnc()
	defer putEnc(out)
	out.obj()
	out.kstr("_scroll_id", sc.id)
	spec := *sc.spec
	spec.aggs = nil
	writeSearchBody(out, &spec, &res, hits, time.Since(start))
	out.end()
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}

// writeSearchContextMissing answers like Elasticsearch for an unknown or
// expired scroll or point in time: 404 search_phase_execution_exception
// whose root cause is search_context_missing_exception.
func (s *Server) writeSearchContextMissing(w http.ResponseWriter, q *req, id string) {
	e := getEnc()
	defer putEnc(e)
	e.obj()
	e.kobj("error")
	e.karr("root_cause")
	e.obj()
	e.kstr("type", "search_context_missing_exception")
	e.kstr("reason", "No search context found for id ["+id+"]")
	e.end()
	e.endArr()
	e.kstr("type", "search_phase_execution_exception")
	e.kstr("reason", "all shards failed")
	e.kstr("phase", "query")
	e.kbool("grouped", true)
	e.end()
	e.kint("status", http.StatusNotFound)
	e.end()
	s.writeJSON(w, q.r, http.StatusNotFound, e.b)
}

func (s *Server) clearScroll(w http.ResponseWriter, q *req, ids []string) {
	now := time.Now()
	freed := 0
	s.mu.Lock()
	if len(ids) == 1 && ids[0] == "_all" {
		ids = ids[:0]
		for id := range s.scrolls {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		if s.closeScroll(id, now) {
			freed++
		}
	}
	s.mu.Unlock()
	status := http.StatusOK
	if freed == 0 {
		status = http.StatusNotFound
	}
	s.writeJSON(w, q.r, status, []byte(`{"succeeded":true,"num_freed":`+strconv.Itoa(freed)+`}`))
}

// handleOpenPIT serves POST /{index}/_pit (Elasticsearch) and
// POST /{index}/_search/point_in_time (OpenSearch).
func (s *Server) handleOpenPIT(w http.ResponseWriter, q *req) {
	keepStr, ok := q.param("keep_alive")
	if !ok {
		s.writeError(w, q.r, validationFailed("[keep_alive] is not specified"))
		return
	}
	keep, e := parseKeepAlive("keep_alive", keepStr)
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	now := time.Now()
	s.mu.Lock()
	indices, ok := s.resolveFor(w, q, q.seg(0), s.mu.Unlock)
	if !ok {
		return
	}
	s.expireContexts(now)
	p := &pitContext{id: s.newContextID("pit"), keep: keep, expires: now.Add(keep)}
	shards := 0
	for _, ix := range indices {
		p.indices = append(p.indices, ix.name)
		shards += ix.shards
	}
	s.pits[p.id] = p
	s.mu.Unlock()
	out := getEnc()
	defer putEnc(out)
	out.obj()
	if s.flavor == FlavorOpenSearch {
		out.kstr("pit_id", p.id)
		out.kshards("_shards", shards)
		out.kint("creation_time", now.UnixMilli())
	} else {
		out.kstr("id", p.id)
		out.kshardsSkipped("_shards", shards)
	}
	out.end()
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}

// usePIT finds and extends a point in time; the caller holds the write lock.
func (s *Server) usePIT(id string, keep time.Duration) (*pitContext, *esError) {
	now := time.Now()
	s.expireContexts(now)
	p, ok := s.pits[id]
	if !ok {
		return nil, &esError{status: http.StatusNotFound, typ: "search_context_missing_exception",
			reason: "No search context found for id [" + id + "]"}
	}
	if keep > 0 {
		p.keep = keep
	}
	p.expires = now.Add(p.keep)
	return p, nil
}

// handleClosePIT serves DELETE /_pit {"id":...} (Elasticsearch) and
// DELETE /_search/point_in_time[/_all] {"pit_id":[...]} (OpenSearch).
func (s *Server) handleClosePIT(w http.ResponseWriter, q *req) {
	var in struct {
		ID    string `json:"id"`
		PitID any    `json:"pit_id"`
	}
	if _, e := readJSONBody(q.r, &in); e != nil {
		s.writeError(w, q.r, e)
		return
	}
	s.mu.Lock()
	if s.flavor == FlavorOpenSearch {
		ids, _ := stringList(in.PitID)
		if q.seg(2) == "_all" {
			ids = ids[:0]
			for id := range s.pits {
				ids = append(ids, id)
			}
			sort.Strings(ids)
		}
		out := getEnc()
		defer putEnc(out)
		out.obj()
		out.karr("pits")
		for _, id := range ids {
			_, ok := s.pits[id]
			delete(s.pits, id)
			out.obj()
			out.kstr("pit_id", id)
			out.kbool("successful", ok)
			out.end()
		}
		out.endArr()
		out.end()
		s.mu.Unlock()
		s.writeJSON(w, q.r, http.StatusOK, out.b)
		return
	}
	if in.ID == "" {
		s.mu.Unlock()
		s.writeError(w, q.r, validationFailed("id is missing"))
		return
	}
	_, ok := s.pits[in.ID]
	delete(s.pits, in.ID)
	s.mu.Unlock()
	if !ok {
		s.writeJSON(w, q.r, http.StatusNotFound, []byte(`{"succeeded":true,"num_freed":0}`))
		return
	}
	s.writeJSON(w, q.r, http.StatusOK, []byte(`{"succeeded":true,"num_freed":1}`))
}
