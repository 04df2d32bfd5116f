package estarget

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

const openSearchTagline = "The OpenSearch Project: https://opensearch.org/"

func (s *Server) handleRoot(w http.ResponseWriter, q *req) {
	e := getEnc()
	defer putEnc(e)
	e.obj()
	e.kstr("name", s.nodeName)
	e.kstr("cluster_name", s.clusterName)
	e.kstr("cluster_uuid", s.clusterUUID)
	e.kobj("version")
	if s.flavor == FlavorOpenSearch {
		e.kstr("distribution", "opensearch")
	}
	e.kstr("number", s.version.number)
	if s.flavor == FlavorElasticsearch {
		e.kstr("build_flavor", "default")
	}
	e.kstr("build_type", "tar")
	e.kstr("build_hash", buildHash)
	e.kstr("build_date", s.version.buildDate)
	e.kbool("build_snapshot", false)
	e.kstr("lucene_version", s.version.lucene)
	e.kstr("minimum_wire_compatibility_version", s.version.minWire)
	e.kstr("minimum_index_compatibility_version", s.version.minIndex)
	e.end()
	if s.flavor == FlavorOpenSearch {
		e.kstr("tagline", openSearchTagline)
	} else {
		e.kstr("tagline", "You Know, for Search")
	}
	e.end()
	s.writeJSON(w, q.r, http.StatusOK, e.b)
}

func (s *Server) handleCreateIndex(w http.ResponseWriter, q *req) {
	name := q.seg(0)
	body, e := readBody(q.r)
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	var in indexBody
	if e := decodeBody(body, &in); e != nil {
		s.writeError(w, q.r, e)
		return
	}
	if name == "_all" || hasWildcard(name) || strings.Contains(name, ",") {
		s.writeError(w, q.r, invalidIndexName(name, `must not contain the following characters [ , ", *, \, <, |, ,, >, /, ?, #, :]`))
		return
	}
	s.mu.Lock()
	_, e = s.createIndex(name, in, nil)
	s.mu.Unlock()
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	out := getEnc()
	defer putEnc(out)
	out.obj()
	out.kbool("acknowledged", true)
	out.kbool("shards_acknowledged", true)
	out.kstr("index", name)
	out.end()
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}

// destructiveRequiresName is action.destructive_requires_name: true by
// default since Elasticsearch 8.0, false in OpenSearch and older lines.
func (s *Server) destructiveRequiresName() bool {
	if v, ok := s.clusterSetting("action.destructive_requires_name"); ok {
		return v == "true"
	}
	return s.flavor == FlavorElasticsearch && s.version.major >= 8
}

func (s *Server) handleDeleteIndex(w http.ResponseWriter, q *req) {
	expr := q.seg(0)
	o := q.resolveOpts()
	o.dataStreamsAsIndices = false
	s.mu.Lock()
	defer s.mu.Unlock()
	var victims []*index
	for _, part := range strings.Split(expr, ",") {
		if part == "" {
			continue
		}
		if hasWildcard(part) || part == "_all" {
			if s.destructiveRequiresName() {
				s.writeError(w, q.r, badRequest("Wildcard expressions or all indices are not allowed"))
				return
			}
			found, _ := s.resolve(part, o)
			for _, ix := range found {
				if ix.dataStream == "" {
					victims = append(victims, ix)
				}
			}
			continue
		}
		if _, ok := s.dataStreams[part]; ok {
			s.writeError(w, q.r, badRequest("The provided expression [%s] matches a data stream, specify the corresponding concrete indices instead.", part))
			return
		}
		ix, ok := s.indices[part]
		if !ok {
			if o.ignoreUnavailable {
				continue
			}
			s.writeError(w, q.r, indexNotFound(part))
			return
		}
		if ix.dataStream != "" && s.dataStreams[ix.dataStream].writeIndex() == ix {
			s.writeError(w, q.r, badRequest("index [%s] is the write index for data stream [%s] and cannot be deleted", ix.name, ix.dataStream))
			return
		}
		victims = append(victims, ix)
	}
	for _, ix := range victims {
		delete(s.indices, ix.name)
		if ds, ok := s.dataStreams[ix.dataStream]; ok {
			for i, b := range ds.indices {
				if b == ix {
					ds.indices = append(ds.indices[:i], ds.indices[i+1:]...)
					break
				}
			}
		}
		s.log.Info("index deleted", "index", ix.name)
	}
	s.writeAck(w, q.r)
}

func (s *Server) handleIndexExists(w http.ResponseWriter, q *req) {
	s.mu.RLock()
	indices, e := s.resolve(q.seg(0), q.resolveOpts())
	s.mu.RUnlock()
	status := http.StatusOK
	if e != nil || len(indices) == 0 {
		status = http.StatusNotFound
	}
	w.Header()["Content-Type"] = contentType(q.r)
	w.WriteHeader(status)
}

func (s *Server) renderSettings(ix *index) map[string]any {
	return nestSettings(ix.settings)
}

func (s *Server) handleGetIndex(w http.ResponseWriter, q *req) {
	s.mu.RLock()
	indices, e := s.resolve(q.seg(0), q.resolveOpts())
	if e != nil {
		s.mu.RUnlock()
		s.writeError(w, q.r, e)
		return
	}
	out := map[string]any{}
	for _, ix := range indices {
		m := map[string]any{
			"aliases":  orEmpty(ix.aliases),
			"mappings": orEmpty(ix.mappings),
			"settings": s.renderSettings(ix),
		}
		if ix.dataStream != "" {
			m["data_stream"] = ix.dataStream
		}
		out[ix.name] = m
	}
	b, _ := json.Marshal(out)
	s.mu.RUnlock()
	s.writeJSON(w, q.r, http.StatusOK, b)
}

// nonDynamic are index settings that cannot change on an open index.
var nonDynamic = map[string]bool{
	"index.number_of_shards": true, "index.routing_partition_size": true, "index.codec": true,
	"index.sort.field": true, "index.sort.order": true, "index.mode": true,
}

func (s *Server) handleSettings(w http.ResponseWriter, q *req) {
	expr := ""
	if q.seg(0) != "_settings" {
		expr = q.seg(0)
	}
	if q.r.Method == http.MethodGet || q.r.Method == http.MethodHead {
		s.mu.RLock()
		indices, e := s.resolve(expr, q.resolveOpts())
		if e != nil {
			s.mu.RUnlock()
			s.writeError(w, q.r, e)
			return
		}
		out := map[string]any{}
		for _, ix := range indices {
			out[ix.name] = map[string]any{"settings": s.renderSettings(ix)}
		}
		b, _ := json.Marshal(out)
		s.mu.RUnlock()
		s.writeJSON(w, q.r, http.StatusOK, b)
		return
	}
	body, e := readBody(q.r)
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	var in map[string]any
	if e := decodeBody(body, &in); e != nil {
		s.writeError(w, q.r, e)
		return
	}
	if inner, ok := in["settings"].(map[string]any); ok && len(in) == 1 {
		in = inner
	}
	flat := map[string]any{}
	flattenSettings(flat, in, "index.")
	var removals []string
	var walk func(p string, v any)
	walk = func(p string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				if p == "" {
					walk(k, x)
				} else {
					walk(p+"."+k, x)
				}
			}
			return
		}
		if v == nil {
			if !strings.HasPrefix(p, "index.") {
				p = "index." + p
			}
			removals = append(removals, p)
		}
	}
	walk("", in)
	if len(flat) == 0 && len(removals) == 0 {
		s.writeError(w, q.r, errf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no settings to update;"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	indices, e := s.resolve(expr, q.resolveOpts())
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	var fixed []string
	for k := range flat {
		if nonDynamic[k] {
			fixed = append(fixed, k)
		}
	}
	if len(fixed) > 0 {
		sort.Strings(fixed)
		var names []string
		for _, ix := range indices {
			names = append(names, ix.name+"/"+ix.uuid)
		}
		s.writeError(w, q.r, badRequest("Can't update non dynamic settings [%s] for open indices %s", bracketList(fixed), bracketList(names)))
		return
	}
	if p, ok := flat["index.default_pipeline"].(string); ok && p != "_none" {
		if _, ok := s.pipelines[p]; !ok {
			s.writeError(w, q.r, badRequest("default pipeline [%s] does not exist", p))
			return
		}
	}
	for _, ix := range indices {
		for k, v := range flat {
			ix.settings[k] = v
		}
		for _, k := range removals {
			if !nonDynamic[k] && !strings.HasPrefix(k, "index.version.") && k != "index.uuid" &&
				k != "index.provided_name" && k != "index.creation_date" {
				delete(ix.settings, k)
			}
		}
	}
	s.writeAck(w, q.r)
}

func (s *Server) handleMapping(w http.ResponseWriter, q *req) {
	expr := ""
	if q.seg(0) != "_mapping" {
		expr = q.seg(0)
	}
	if q.r.Method == http.MethodPut {
		body, e := readBody(q.r)
		if e != nil {
			s.writeError(w, q.r, e)
			return
		}
		var in map[string]any
		if e := decodeBody(body, &in); e != nil {
			s.writeError(w, q.r, e)
			return
		}
		s.mu.Lock()
		indices, e := s.resolve(expr, q.resolveOpts())
		if e == nil {
			for _, ix := range indices {
				ix.mappings = deepMerge(ix.mappings, in)
			}
		}
		s.mu.Unlock()
		if e != nil {
			s.writeError(w, q.r, e)
			return
		}
		s.writeAck(w, q.r)
		return
	}
	s.mu.RLock()
	indices, e := s.resolve(expr, q.resolveOpts())
	if e != nil {
		s.mu.RUnlock()
		s.writeError(w, q.r, e)
		return
	}
	out := map[string]any{}
	for _, ix := range indices {
		out[ix.name] = map[string]any{"mappings": orEmpty(ix.mappings)}
	}
	b, _ := json.Marshal(out)
	s.mu.RUnlock()
	s.writeJSON(w, q.r, http.StatusOK, b)
}

func (s *Server) handleClusterSettings(w http.ResponseWriter, q *req) {
	if q.r.Method == http.MethodPut {
		body, e := readBody(q.r)
		if e != nil {
			s.writeError(w, q.r, e)
			return
		}
		var in struct {
			Persistent map[string]any `json:"persistent"`
			Transient  map[string]any `json:"transient"`
		}
		if e := decodeBody(body, &in); e != nil {
			s.writeError(w, q.r, e)
			return
		}
		if in.Persistent == nil && in.Transient == nil {
			s.writeError(w, q.r, errf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no settings to update;"))
			return
		}
		pFlat, tFlat := map[string]any{}, map[string]any{}
		s.mu.Lock()
		applyClusterSettings(s.persistent, in.Persistent, pFlat)
		applyClusterSettings(s.transient, in.Transient, tFlat)
		s.mu.Unlock()
		b, _ := json.Marshal(map[string]any{
			"acknowledged": true,
			"persistent":   nestSettings(pFlat),
			"transient":    nestSettings(tFlat),
		})
		s.log.Info("cluster settings updated", "persistent", len(pFlat), "transient", len(tFlat))
		s.writeJSON(w, q.r, http.StatusOK, b)
		return
	}
	s.mu.RLock()
	out := map[string]any{"persistent": nestSettings(s.persistent), "transient": nestSettings(s.transient)}
	if q.flag("include_defaults") {
		out["defaults"] = map[string]any{
			"cluster": map[string]any{"name": s.clusterName},
			"action":  map[string]any{"destructive_requires_name": strconv.FormatBool(s.destructiveRequiresName()), "auto_create_index": "true"},
		}
	}
	b, _ := json.Marshal(out)
	s.mu.RUnlock()
	s.writeJSON(w, q.r, http.StatusOK, b)
}

// applyClusterSettings merges src into dst (null removes) and records what
// was applied in applied, for the acknowledgement.
func applyClusterSettings(dst, src, applied map[string]any) {
	if src == nil {
		return
	}
	flat := map[string]any{}
	var walk func(p string, v any)
	walk = func(p string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				if p == "" {
					walk(k, x)
				} else {
					walk(p+"."+k, x)
				}
			}
			return
		}
		flat[p] = v
	}
	walk("", src)
	for k, v := range flat {
		if v == nil {
			delete(dst, k)
			continue
		}
		dst[k] = settingValue(v)
		applied[k] = dst[k]
	}
}

var healthRank = map[string]int{"green": 0, "yellow": 1, "red": 2}

func (s *Server) handleHealth(w http.ResponseWriter, q *req) {
	expr := q.seg(2)
	waitStatus, waiting := q.param("wait_for_status")
	if waiting {
		if _, ok := healthRank[waitStatus]; !ok {
			s.writeError(w, q.r, badRequest("unknown cluster health status [%s]", waitStatus))
			return
		}
	}
	_, waitNoReloc := q.param("wait_for_no_relocating_shards")
	_, waitNodes := q.param("wait_for_nodes")
	_, waitActive := q.param("wait_for_active_shards")
	_, waitEvents := q.param("wait_for_events")
	waiting = waiting || waitNoReloc || waitNodes || waitActive || waitEvents
	timeout := 30 * time.Second
	if v, ok := q.param("timeout"); ok {
		d, err := parseESDuration(v)
		if err != nil {
			s.writeError(w, q.r, badRequest("failed to parse setting [timeout] with value [%s] as a time value", v))
			return
		}
		timeout = d
	}
	deadline := time.Now().Add(timeout)
	for {
		s.mu.RLock()
		status, indices, missing := s.health(expr)
		body := s.renderHealth(q, status, indices, false)
		s.mu.RUnlock()
		satisfied := !missing && (!waiting || waitStatus == "" || healthRank[status] <= healthRank[waitStatus])
		if satisfied {
			s.writeJSON(w, q.r, http.StatusOK, body)
			return
		}
		if !waiting || time.Now().After(deadline) {
			s.mu.RLock()
			body = s.renderHealth(q, status, indices, true)
			s.mu.RUnlock()
			s.writeJSON(w, q.r, http.StatusRequestTimeout, body)
			return
		}
		if sleepCtx(q.r.Context(), min(50*time.Millisecond, time.Until(deadline))) != nil {
			return
		}
	}
}

// health computes the status for an index expression: green when every
// named index exists (replicas are not modelled), red when one is missing.
func (s *Server) health(expr string) (status string, indices []*index, missing bool) {
	o := resolveOpts{dataStreamsAsIndices: true}
	indices, e := s.resolve(expr, o)
	if e != nil {
		return "red", nil, true
	}
	if expr != "" && len(indices) == 0 && !hasWildcard(expr) {
		return "red", nil, true
	}
	return "green", indices, false
}

func (s *Server) renderHealth(q *req, status string, indices []*index, timedOut bool) []byte {
	shards := 0
	for _, ix := range indices {
		shards += ix.shards
	}
	if q.seg(2) == "" {
		shards = 0
		for _, ix := range s.indices {
			shards += ix.shards
		}
	}
	e := getEnc()
	defer putEnc(e)
	e.obj()
	e.kstr("cluster_name", s.clusterName)
	e.kstr("status", status)
	e.kbool("timed_out", timedOut)
	e.kint("number_of_nodes", 1)
	e.kint("number_of_data_nodes", 1)
	if s.flavor == FlavorOpenSearch {
		e.kbool("discovered_master", true)
		e.kbool("discovered_cluster_manager", true)
	}
	e.kint("active_primary_shards", int64(shards))
	e.kint("active_shards", int64(shards))
	e.kint("relocating_shards", 0)
	e.kint("initializing_shards", 0)
	e.kint("unassigned_shards", 0)
	e.kint("delayed_unassigned_shards", 0)
	e.kint("number_of_pending_tasks", 0)
	e.kint("number_of_in_flight_fetch", 0)
	e.kint("task_max_waiting_in_queue_millis", 0)
	e.kfloat("active_shards_percent_as_number", 100)
	if lvl, _ := q.param("level"); lvl == "indices" || lvl == "shards" {
		e.kobj("indices")
		for _, ix := range indices {
			e.kobj(ix.name)
			e.kstr("status", "green")
			e.kint("number_of_shards", int64(ix.shards))
			e.kint("number_of_replicas", int64(atoiOr(ix.settings["index.number_of_replicas"], 0)))
			e.kint("active_primary_shards", int64(ix.shards))
			e.kint("active_shards", int64(ix.shards))
			e.kint("relocating_shards", 0)
			e.kint("initializing_shards", 0)
			e.kint("unassigned_shards", 0)
			e.end()
		}
		e.end()
	}
	e.end()
	return append([]byte(nil), e.b...)
}

func atoiOr(v any, def int) int {
	n, err := strconv.Atoi(fmt.Sprint(v))
	if err != nil {
		return def
	}
	return n
}

// maintenance runs fn on every index of the request's expression and
// answers {"_shards":{...}}.
func (s *Server) maintenance(w http.ResponseWriter, q *req, self string, fn func(ix *index)) {
	expr := ""
	if q.seg(0) != self {
		expr = q.seg(0)
	}
	s.mu.Lock()
	indices, e := s.resolve(expr, q.resolveOpts())
	if e != nil {
		s.mu.Unlock()
		s.writeError(w, q.r, e)
		return
	}
	shards := 0
	for _, ix := range indices {
		fn(ix)
		shards += ix.shards
	}
	s.mu.Unlock()
	out := getEnc()
	defer putEnc(out)
	out.obj()
	out.kshards("_shards", shards)
	out.end()
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}

func (s *Server) handleRefresh(w http.ResponseWriter, q *req) {
	s.maintenance(w, q, "_refresh", func(ix *index) {
		t0 := time.Now()
		ix.refresh()
		ix.st.refreshTotal.Add(1)
		ix.st.refreshTimeNs.Add(time.Since(t0).Nanoseconds())
	})
}

func (s *Server) handleFlush(w http.ResponseWriter, q *req) {
	s.maintenance(w, q, "_flush", func(ix *index) {
		t0 := time.Now()
		ix.flush()
		ix.st.flushTotal.Add(1)
		ix.st.flushTimeNs.Add(time.Since(t0).Nanoseconds())
	})
}

// task is a background operation started with wait_for_completion=false.
// It needs no goroutine: it is "running" until its end time, and its effect
// is applied when it is first observed afterwards.
type task struct {
	id     string
	action string
	desc   string
	start  time.Time
	end    time.Time
	apply  func()
	done   bool
	shards int
}

func (s *Server) handleForceMerge(w http.ResponseWriter, q *req) {
	maxSeg := 0
	if v, ok := q.param("max_num_segments"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.writeError(w, q.r, badRequest("Failed to parse int parameter [max_num_segments] with value [%s]", v))
			return
		}
		maxSeg = n
	}
	expr := ""
	if q.seg(0) != "_forcemerge" {
		expr = q.seg(0)
	}
	s.mu.Lock()
	indices, e := s.resolve(expr, q.resolveOpts())
	if e != nil {
		s.mu.Unlock()
		s.writeError(w, q.r, e)
		return
	}
	shards := 0
	for _, ix := range indices {
		shards += ix.shards
		ix.st.mergeCurrent.Add(1)
	}
	start := time.Now()
	apply := func() {
		for _, ix := range indices {
			target := maxSeg
			if target == 0 {
				target = max(1, ix.segments/2) // a natural merge halves segments
			}
			docs, bytes := ix.forceMerge(target)
			ix.st.mergeCurrent.Add(-1)
			ix.st.mergeTotal.Add(1)
			ix.st.mergeDocs.Add(docs)
			ix.st.mergeBytes.Add(bytes)
			ix.st.mergeTimeNs.Add(time.Since(start).Nanoseconds())
		}
	}
	if q.flag("wait_for_completion") || !hasParam(q, "wait_for_completion") {
		s.mu.Unlock()
		if sleepCtx(q.r.Context(), s.mergeDelay) != nil {
			s.mu.Lock()
			for _, ix := range indices {
				ix.st.mergeCurrent.Add(-1)
			}
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		apply()
		s.mu.Unlock()
		out := getEnc()
		defer putEnc(out)
		out.obj()
		out.kshards("_shards", shards)
		out.end()
		s.writeJSON(w, q.r, http.StatusOK, out.b)
		return
	}
	s.taskSeq++
	t := &task{
		id:     s.nodeID + ":" + strconv.FormatInt(s.taskSeq, 10),
		action: "indices:admin/forcemerge", desc: "Force-merge indices " + bracketList(indexNames(indices)),
		start: start, end: start.Add(s.mergeDelay), apply: apply, shards: shards,
	}
	s.tasks[t.id] = t
	s.mu.Unlock()
	s.writeJSON(w, q.r, http.StatusOK, []byte(`{"task":"`+t.id+`"}`))
}

func hasParam(q *req, name string) bool {
	_, ok := q.param(name)
	return ok
}

func indexNames(indices []*index) []string {
	out := make([]string, len(indices))
	for i, ix := range indices {
		out[i] = ix.name
	}
	return out
}

// settleTasks applies tasks whose time has come; the caller holds the write
// lock.
func (s *Server) settleTasks(now time.Time) {
	for _, t := range s.tasks {
		if !t.done && !now.Before(t.end) {
			t.apply()
			t.done = true
		}
	}
}

func (s *Server) writeTask(e *enc, t *task, now time.Time) {
	e.obj()
	e.kstr("node", s.nodeID)
	id := t.id[strings.LastIndexByte(t.id, ':')+1:]
	n, _ := strconv.ParseInt(id, 10, 64)
	e.kint("id", n)
	e.kstr("type", "transport")
	e.kstr("action", t.action)
	e.kstr("description", t.desc)
	e.kint("start_time_in_millis", t.start.UnixMilli())
	e.kint("running_time_in_nanos", now.Sub(t.start).Nanoseconds())
	e.kbool("cancellable", false)
	e.kbool("cancelled", false)
	e.kobj("headers")
	e.end()
	e.end()
}

// handleTasks serves GET /_tasks (running tasks, filterable by actions)
// and GET /_tasks/{id} (one task, with its response once completed).
func (s *Server) handleTasks(w http.ResponseWriter, q *req) {
	now := time.Now()
	s.mu.Lock()
	s.settleTasks(now)
	defer s.mu.Unlock()
	out := getEnc()
	defer putEnc(out)
	if id := q.seg(1); id != "" {
		t, ok := s.tasks[id]
		if !ok {
			s.writeError(w, q.r, resourceNotFound("task [%s] isn't running and hasn't stored its results", id))
			return
		}
		out.obj()
		out.kbool("completed", t.done)
		out.key("task")
		s.writeTask(out, t, now)
		if t.done {
			out.kobj("response")
			out.kshards("_shards", t.shards)
			out.end()
		}
		out.end()
		s.writeJSON(w, q.r, http.StatusOK, out.b)
		return
	}
	actions, _ := q.param("actions")
	var running []*task
	for _, t := range s.tasks {
		if t.done {
			continue
		}
		if actions != "" {
			ok := false
			for _, a := range strings.Split(actions, ",") {
				if globMatch(a, t.action) {
					ok = true
				}
			}
			if !ok {
				continue
			}
		}
		running = append(running, t)
	}
	sort.Slice(running, func(i, j int) bool { return running[i].id < running[j].id })
	out.obj()
	out.kobj("nodes")
	if len(running) > 0 {
		out.kobj(s.nodeID)
		out.kstr("name", s.nodeName)
		out.kstr("transport_address", "127.0.0.1:9300")
		out.kstr("host", "127.0.0.1")
		out.kstr("ip", "127.0.0.1:9300")
		out.karr("roles")
		for _, r := range nodeRoles {
			out.str(r)
		}
		out.endArr()
		out.kobj("tasks")
		for _, t := range running {
			out.key(t.id)
			s.writeTask(out, t, now)
		}
		out.end()
		out.end()
	}
	out.end()
	out.end()
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}

// handleRecovery reports every shard as recovered from an empty store and
// done; with active_only=true there is nothing to report.
func (s *Server) handleRecovery(w http.ResponseWriter, q *req) {
	expr := ""
	if q.seg(0) != "_recovery" {
		expr = q.seg(0)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	indices, e := s.resolve(expr, q.resolveOpts())
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	out := getEnc()
	defer putEnc(out)
	out.obj()
	if !q.flag("active_only") {
		for _, ix := range indices {
			out.kobj(ix.name)
			out.karr("shards")
			for sh := 0; sh < ix.shards; sh++ {
				s.writeRecoveryShard(out, ix, sh)
			}
			out.endArr()
			out.end()
		}
	}
	out.end()
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}

func (s *Server) writeRecoveryShard(e *enc, ix *index, shard int) {
	created := ix.created.UnixMilli()
	e.obj()
	e.kint("id", int64(shard))
	e.kstr("type", "EMPTY_STORE")
	e.kstr("stage", "DONE")
	e.kbool("primary", true)
	e.kint("start_time_in_millis", created)
	e.kint("stop_time_in_millis", created)
	e.kint("total_time_in_millis", 0)
	e.kobj("source")
	e.end()
	e.kobj("target")
	e.kstr("id", s.nodeID)
	e.kstr("host", "127.0.0.1")
	e.kstr("transport_address", "127.0.0.1:9300")
	e.kstr("ip", "127.0.0.1")
	e.kstr("name", s.nodeName)
	e.end()
	e.kobj("index")
	e.kobj("size")
	for _, k := range []string{"total_in_bytes", "reused_in_bytes", "recovered_in_bytes", "recovered_from_snapshot_in_bytes"} {
		e.kint(k, 0)
	}
	e.kstr("percent", "0.0%")
	e.end()
	e.kobj("files")
	e.kint("total", 0)
	e.kint("reused", 0)
	e.kint("recovered", 0)
	e.kstr("percent", "0.0%")
	e.end()
	e.kint("total_time_in_millis", 0)
	e.kint("source_throttle_time_in_millis", 0)
	e.kint("target_throttle_time_in_millis", 0)
	e.end()
	e.kobj("translog")
	e.kint("recovered", 0)
	e.kint("total", 0)
	e.kstr("percent", "100.0%")
	e.kint("total_on_start", 0)
	e.kint("total_time_in_millis", 0)
	e.end()
	e.kobj("verify_index")
	e.kint("check_index_time_in_millis", 0)
	e.kint("total_time_in_millis", 0)
	e.end()
	e.end()
}
