package estarget

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maintenance runs fn on every index of the request's expression and
// answers {"_shards":{...}}.
func (s *Server) maintenance(w http.ResponseWriter, q *req, self string, fn func(ix *index)) {
	s.mu.Lock()
	indices, ok := s.resolveFor(w, q, q.indexExpr(self), s.mu.Unlock)
	if !ok {
		return
	}
	shards := 0
	for _, ix := range indices {
		fn(ix)
		shards += ix.shards
	}
	s.mu.Unlock()
	s.writeShards(w, q, shards)
}

// writeShards answers {"_shards":{...}} for an operation that succeeded on
// every one of shards shard copies.
func (s *Server) writeShards(w http.ResponseWriter, q *req, shards int) {
	out := getEnc()
	defer putEnc(out)
	out.obj()
	out.kshards("_shards", shards)
	out.end()
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}

func (s *Server) handleRefresh(w http.ResponseWriter, q *req) {
	s.maintenance(w, q, "_refresh", (*index).countedRefresh)
}

// countedRefresh refreshes ix and adds the refresh to its numbers.
func (ix *index) countedRefresh() {
	t0 := time.Now()
	ix.refresh()
	ix.st.refreshTotal.Add(1)
	ix.st.refreshTimeNs.Add(time.Since(t0).Nanoseconds())
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
	s.mu.Lock()
	indices, ok := s.resolveFor(w, q, q.indexExpr("_forcemerge"), s.mu.Unlock)
	if !ok {
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
		s.writeShards(w, q, shards)
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
		s.writeNodeAddress(out, "127.0.0.1:9300")
		writeNodeRoles(out)
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
	s.mu.RLock()
	defer s.mu.RUnlock()
	indices, ok := s.resolveFor(w, q, q.indexExpr("_recovery"), nil)
	if !ok {
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
	e.zeros("total_in_bytes", "reused_in_bytes", "recovered_in_bytes", "recovered_from_snapshot_in_bytes")
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
	e.kzeros("verify_index", "check_index_time_in_millis", "total_time_in_millis")
	e.end()
}
