package estarget

import (
	"net/http"
	"strings"
	"time"
)

// statSnapshot is the numbers of one index (or a sum of indices) at one
// moment, read under the store lock.
type statSnapshot struct {
	shards                                                   int64
	docs, deleted, storeBytes                                int64
	indexTotal, indexTimeNs, indexCurrent, indexFailed       int64
	deleteTotal, deleteTimeNs, noopUpdates                   int64
	getTotal, getTimeNs, getExists, getMissing               int64
	queryTotal, queryTimeNs, queryCurrent                    int64
	fetchTotal, fetchTimeNs                                  int64
	scrollTotal, scrollTimeNs, scrollCurrent, openContexts   int64
	refreshTotal, refreshTimeNs, flushTotal, flushTimeNs     int64
	mergeTotal, mergeTimeNs, mergeDocs, mergeBytes, mergeCur int64
	segments, translogOps, translogBytes                     int64
	bulkOps, bulkTimeNs, bulkBytes                           int64
}

func snapshotIndex(ix *index) statSnapshot {
	st := &ix.st
	return statSnapshot{
		shards: int64(ix.shards),
		docs:   int64(ix.live), deleted: int64(ix.deleted), storeBytes: ix.storeBytes,
		indexTotal: st.indexTotal.Load(), indexTimeNs: st.indexTimeNs.Load(), indexCurrent: st.indexCurrent.Load(), indexFailed: st.indexFailed.Load(),
		deleteTotal: st.deleteTotal.Load(), deleteTimeNs: st.deleteTimeNs.Load(), noopUpdates: st.noopUpdates.Load(),
		getTotal: st.getTotal.Load(), getTimeNs: st.getTimeNs.Load(), getExists: st.getExists.Load(), getMissing: st.getMissing.Load(),
		queryTotal: st.queryTotal.Load(), queryTimeNs: st.queryTimeNs.Load(), queryCurrent: st.queryCurrent.Load(),
		fetchTotal: st.fetchTotal.Load(), fetchTimeNs: st.fetchTimeNs.Load(),
		scrollTotal: st.scrollTotal.Load(), scrollTimeNs: st.scrollTimeNs.Load(), scrollCurrent: st.scrollCurrent.Load(),
		openContexts: st.scrollCurrent.Load(),
		refreshTotal: st.refreshTotal.Load(), refreshTimeNs: st.refreshTimeNs.Load(),
		flushTotal: st.flushTotal.Load(), flushTimeNs: st.flushTimeNs.Load(),
		mergeTotal: st.mergeTotal.Load(), mergeTimeNs: st.mergeTimeNs.Load(), mergeDocs: st.mergeDocs.Load(),
		mergeBytes: st.mergeBytes.Load(), mergeCur: st.mergeCurrent.Load(),
		segments: int64(ix.segments), translogOps: ix.translogOps, translogBytes: ix.translogBytes,
		bulkOps: st.bulkOps.Load(), bulkTimeNs: st.bulkTimeNs.Load(), bulkBytes: st.bulkBytes.Load(),
	}
}

func (a *statSnapshot) addSnap(b statSnapshot) {
	p := []*int64{&a.shards, &a.docs, &a.deleted, &a.storeBytes, &a.indexTotal, &a.indexTimeNs, &a.indexCurrent, &a.indexFailed,
		&a.deleteTotal, &a.deleteTimeNs, &a.noopUpdates, &a.getTotal, &a.getTimeNs, &a.getExists, &a.getMissing,
		&a.queryTotal, &a.queryTimeNs, &a.queryCurrent, &a.fetchTotal, &a.fetchTimeNs,
		&a.scrollTotal, &a.scrollTimeNs, &a.scrollCurrent, &a.openContexts,
		&a.refreshTotal, &a.refreshTimeNs, &a.flushTotal, &a.flushTimeNs,
		&a.mergeTotal, &a.mergeTimeNs, &a.mergeDocs, &a.mergeBytes, &a.mergeCur,
		&a.segments, &a.translogOps, &a.translogBytes, &a.bulkOps, &a.bulkTimeNs, &a.bulkBytes}
	q := []int64{b.shards, b.docs, b.deleted, b.storeBytes, b.indexTotal, b.indexTimeNs, b.indexCurrent, b.indexFailed,
		b.deleteTotal, b.deleteTimeNs, b.noopUpdates, b.getTotal, b.getTimeNs, b.getExists, b.getMissing,
		b.queryTotal, b.queryTimeNs, b.queryCurrent, b.fetchTotal, b.fetchTimeNs,
		b.scrollTotal, b.scrollTimeNs, b.scrollCurrent, b.openContexts,
		b.refreshTotal, b.refreshTimeNs, b.flushTotal, b.flushTimeNs,
		b.mergeTotal, b.mergeTimeNs, b.mergeDocs, b.mergeBytes, b.mergeCur,
		b.segments, b.translogOps, b.translogBytes, b.bulkOps, b.bulkTimeNs, b.bulkBytes}
	for i := range p {
		*p[i] += q[i]
	}
}

func ms(ns int64) int64 { return ns / int64(time.Millisecond) }

// indexMetrics are the metric groups of the index stats API.
var indexMetrics = []string{"docs", "shard_stats", "store", "indexing", "get", "search", "merge", "refresh", "flush",
	"warmer", "query_cache", "fielddata", "completion", "segments", "translog", "request_cache", "recovery", "bulk"}

// metricFilter says which groups a request wants ("_all" or empty: all).
type metricFilter map[string]bool

func parseMetrics(s string, known []string) (metricFilter, *esError) {
	if s == "" || s == "_all" {
		return nil, nil
	}
	f := metricFilter{}
	for _, m := range strings.Split(s, ",") {
		if m == "merges" {
			m = "merge"
		}
		ok := false
		for _, k := range known {
			if k == m {
				ok = true
			}
		}
		if !ok {
			return nil, badRequest("request [%s] contains unrecognized metric: [%s]", "stats", m)
		}
		f[m] = true
	}
	return f, nil
}

func (f metricFilter) has(m string) bool { return f == nil || f[m] }

// writeIndexStats writes one primaries/total object in the shape of the
// index stats API. Every number comes from what this process did.
func writeIndexStats(e *enc, s statSnapshot, f metricFilter) {
	e.obj()
	if f.has("docs") {
		e.kobj("docs")
		e.kint("count", s.docs)
		e.kint("deleted", s.deleted)
		e.kint("total_size_in_bytes", s.storeBytes)
		e.end()
	}
	if f.has("shard_stats") {
		e.kobj("shard_stats")
		e.kint("total_count", s.shards)
		e.end()
	}
	if f.has("store") {
		e.kobj("store")
		e.kint("size_in_bytes", s.storeBytes)
		e.kint("total_data_set_size_in_bytes", s.storeBytes)
		e.kint("reserved_in_bytes", 0)
		e.end()
	}
	if f.has("indexing") {
		e.kobj("indexing")
		e.kint("index_total", s.indexTotal)
		e.kint("index_time_in_millis", ms(s.indexTimeNs))
		e.kint("index_current", s.indexCurrent)
		e.kint("index_failed", s.indexFailed)
		e.kint("delete_total", s.deleteTotal)
		e.kint("delete_time_in_millis", ms(s.deleteTimeNs))
		e.kint("delete_current", 0)
		e.kint("noop_update_total", s.noopUpdates)
		e.kbool("is_throttled", false)
		e.kint("throttle_time_in_millis", 0)
		e.kfloat("write_load", 0)
		e.end()
	}
	if f.has("get") {
		e.kobj("get")
		e.kint("total", s.getTotal)
		e.kint("time_in_millis", ms(s.getTimeNs))
		e.kint("exists_total", s.getExists)
		e.kint("exists_time_in_millis", 0)
		e.kint("missing_total", s.getMissing)
		e.kint("missing_time_in_millis", 0)
		e.kint("current", 0)
		e.end()
	}
	if f.has("search") {
		e.kobj("search")
		e.kint("open_contexts", s.openContexts)
		e.kint("query_total", s.queryTotal)
		e.kint("query_time_in_millis", ms(s.queryTimeNs))
		e.kint("query_current", s.queryCurrent)
		e.kint("fetch_total", s.fetchTotal)
		e.kint("fetch_time_in_millis", ms(s.fetchTimeNs))
		e.kint("fetch_current", 0)
		e.kint("scroll_total", s.scrollTotal)
		e.kint("scroll_time_in_millis", ms(s.scrollTimeNs))
		e.kint("scroll_current", s.scrollCurrent)
		e.kint("suggest_total", 0)
		e.kint("suggest_time_in_millis", 0)
		e.kint("suggest_current", 0)
		e.end()
	}
	if f.has("merge") {
		e.kobj("merges")
		e.kint("current", s.mergeCur)
		e.kint("current_docs", 0)
		e.kint("current_size_in_bytes", 0)
		e.kint("total", s.mergeTotal)
		e.kint("total_time_in_millis", ms(s.mergeTimeNs))
		e.kint("total_docs", s.mergeDocs)
		e.kint("total_size_in_bytes", s.mergeBytes)
		e.kint("total_stopped_time_in_millis", 0)
		e.kint("total_throttled_time_in_millis", 0)
		e.kint("total_auto_throttle_in_bytes", 20971520*s.shards)
		e.end()
	}
	if f.has("refresh") {
		e.kobj("refresh")
		e.kint("total", s.refreshTotal)
		e.kint("total_time_in_millis", ms(s.refreshTimeNs))
		e.kint("external_total", s.refreshTotal)
		e.kint("external_total_time_in_millis", ms(s.refreshTimeNs))
		e.kint("listeners", 0)
		e.end()
	}
	if f.has("flush") {
		e.kobj("flush")
		e.kint("total", s.flushTotal)
		e.kint("periodic", 0)
		e.kint("total_time_in_millis", ms(s.flushTimeNs))
		e.kint("total_time_excluding_waiting_on_lock_in_millis", ms(s.flushTimeNs))
		e.end()
	}
	if f.has("warmer") {
		e.kzeros("warmer", "current", "total", "total_time_in_millis")
	}
	if f.has("query_cache") {
		e.kzeros("query_cache", "memory_size_in_bytes", "evictions",
			"total_count", "hit_count", "miss_count", "cache_size", "cache_count")
	}
	for _, name := range []string{"fielddata", "completion"} {
		if f.has(name) {
			e.kzeros(name, "memory_size_in_bytes", "evictions")
		}
	}
	if f.has("segments") {
		e.kobj("segments")
		e.kint("count", s.segments)
		e.zeros("memory_in_bytes", "terms_memory_in_bytes", "stored_fields_memory_in_bytes",
			"term_vectors_memory_in_bytes", "norms_memory_in_bytes", "points_memory_in_bytes",
			"doc_values_memory_in_bytes", "index_writer_memory_in_bytes", "version_map_memory_in_bytes",
			"fixed_bit_set_memory_in_bytes")
		e.kint("max_unsafe_auto_id_timestamp", -1)
		e.kobj("file_sizes")
		e.end()
		e.end()
	}
	if f.has("translog") {
		e.kobj("translog")
		e.kint("operations", s.translogOps)
		e.kint("size_in_bytes", s.translogBytes)
		e.kint("uncommitted_operations", s.translogOps)
		e.kint("uncommitted_size_in_bytes", s.translogBytes)
		e.kint("earliest_last_modified_age", 0)
		e.end()
	}
	if f.has("request_cache") {
		e.kzeros("request_cache", "memory_size_in_bytes", "evictions", "hit_count", "miss_count")
	}
	if f.has("recovery") {
		e.kzeros("recovery", "current_as_source", "current_as_target", "throttle_time_in_millis")
	}
	if f.has("bulk") {
		e.kobj("bulk")
		e.kint("total_operations", s.bulkOps)
		e.kint("total_time_in_millis", ms(s.bulkTimeNs))
		e.kint("total_size_in_bytes", s.bulkBytes)
		avgT, avgS := int64(0), int64(0)
		if s.bulkOps > 0 {
			avgT, avgS = ms(s.bulkTimeNs)/s.bulkOps, s.bulkBytes/s.bulkOps
		}
		e.kint("avg_time_in_millis", avgT)
		e.kint("avg_size_in_bytes", avgS)
		e.end()
	}
	e.end()
}

// settle applies finished background tasks before numbers are read.
func (s *Server) settle() {
	s.mu.Lock()
	s.settleTasks(time.Now())
	s.mu.Unlock()
}

// handleStats serves GET /_stats[/{metric}] and /{index}/_stats[/{metric}].
func (s *Server) handleStats(w http.ResponseWriter, q *req) {
	expr, metric := "", ""
	if q.seg(0) == "_stats" {
		metric = q.seg(1)
	} else {
		expr, metric = q.seg(0), q.seg(2)
	}
	f, e := parseMetrics(metric, indexMetrics)
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	s.settle()
	s.mu.RLock()
	indices, ok := s.resolveFor(w, q, expr, s.mu.RUnlock)
	if !ok {
		return
	}
	snaps := make([]statSnapshot, len(indices))
	var all statSnapshot
	for i, ix := range indices {
		snaps[i] = snapshotIndex(ix)
		all.addSnap(snaps[i])
	}
	s.mu.RUnlock()
	level, _ := q.param("level")
	out := getEnc()
	defer putEnc(out)
	out.obj()
	out.kshards("_shards", int(all.shards))
	out.kobj("_all")
	out.key("primaries")
	writeIndexStats(out, all, f)
	out.key("total")
	writeIndexStats(out, all, f)
	out.end()
	if level != "cluster" {
		out.kobj("indices")
		for i, ix := range indices {
			out.kobj(ix.name)
			out.kstr("uuid", ix.uuid)
			if s.flavor == FlavorElasticsearch && s.version.major >= 8 {
				out.kstr("health", "green")
				out.kstr("status", "open")
			}
			out.key("primaries")
			writeIndexStats(out, snaps[i], f)
			out.key("total")
			writeIndexStats(out, snaps[i], f)
			out.end()
		}
		out.end()
	}
	out.end()
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}
