package estarget

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// handleClusterSettings serves GET and PUT /_cluster/settings; values are
// stored flattened and shown nested with string values, null removes.
func (s *Server) handleClusterSettings(w http.ResponseWriter, q *req) {
	if q.r.Method == http.MethodPut {
		var in struct {
			Persistent map[string]any `json:"persistent"`
			Transient  map[string]any `json:"transient"`
		}
		if _, e := readJSONBody(q.r, &in); e != nil {
			s.writeError(w, q.r, e)
			return
		}
		if in.Persistent == nil && in.Transient == nil {
			s.writeError(w, q.r, validationFailed("no settings to update"))
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
	walkLeaves("", src, func(p string, v any) { flat[p] = v })
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
