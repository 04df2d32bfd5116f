package estarget

import (
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
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
		e.kobj("warmer")
		e.kint("current", 0)
		e.kint("total", 0)
		e.kint("total_time_in_millis", 0)
		e.end()
	}
	for _, name := range []string{"query_cache", "fielddata", "completion"} {
		if !f.has(name) {
			continue
		}
		e.kobj(name)
		e.kint("memory_size_in_bytes", 0)
		e.kint("evictions", 0)
		if name == "query_cache" {
			e.kint("total_count", 0)
			e.kint("hit_count", 0)
			e.kint("miss_count", 0)
			e.kint("cache_size", 0)
			e.kint("cache_count", 0)
		}
		e.end()
	}
	if f.has("segments") {
		e.kobj("segments")
		e.kint("count", s.segments)
		for _, k := range []string{"memory_in_bytes", "terms_memory_in_bytes", "stored_fields_memory_in_bytes",
			"term_vectors_memory_in_bytes", "norms_memory_in_bytes", "points_memory_in_bytes",
			"doc_values_memory_in_bytes", "index_writer_memory_in_bytes", "version_map_memory_in_bytes",
			"fixed_bit_set_memory_in_bytes"} {
			e.kint(k, 0)
		}
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
		e.kobj("request_cache")
		e.kint("memory_size_in_bytes", 0)
		e.kint("evictions", 0)
		e.kint("hit_count", 0)
		e.kint("miss_count", 0)
		e.end()
	}
	if f.has("recovery") {
		e.kobj("recovery")
		e.kint("current_as_source", 0)
		e.kint("current_as_target", 0)
		e.kint("throttle_time_in_millis", 0)
		e.end()
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
	indices, e := s.resolve(expr, q.resolveOpts())
	if e != nil {
		s.mu.RUnlock()
		s.writeError(w, q.r, e)
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

// nodeMetrics are the metric groups of the node stats API.
var nodeMetrics = []string{"indices", "os", "process", "jvm", "thread_pool", "fs", "transport", "http", "breaker",
	"script", "discovery", "ingest", "adaptive_selection", "script_cache", "indexing_pressure", "repositories", "allocations"}

var nodeRoles = []string{"data", "data_cold", "data_content", "data_frozen", "data_hot", "data_warm", "ingest", "master",
	"ml", "remote_cluster_client", "transform"}

// handleNodesStats serves /_nodes/stats[/{metric}[/{index_metric}]] and
// /_nodes/{node}/stats[...]. jvm.* comes from the Go runtime (heap, GC);
// os.* and process.* from /proc where available.
func (s *Server) handleNodesStats(w http.ResponseWriter, q *req) {
	i := 1
	if q.seg(1) != "stats" {
		i = 2 // /_nodes/{node}/stats
	}
	f, e := parseMetrics(q.seg(i+1), nodeMetrics)
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	fi, e := parseMetrics(q.seg(i+2), indexMetrics)
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	s.settle()
	s.mu.RLock()
	var all statSnapshot
	for _, ix := range s.indices {
		all.addSnap(snapshotIndex(ix))
	}
	s.mu.RUnlock()
	now := time.Now()
	out := getEnc()
	defer putEnc(out)
	out.obj()
	out.kobj("_nodes")
	out.kint("total", 1)
	out.kint("successful", 1)
	out.kint("failed", 0)
	out.end()
	out.kstr("cluster_name", s.clusterName)
	out.kobj("nodes")
	out.kobj(s.nodeID)
	out.kint("timestamp", now.UnixMilli())
	out.kstr("name", s.nodeName)
	out.kstr("transport_address", "127.0.0.1:9300")
	out.kstr("host", "127.0.0.1")
	out.kstr("ip", "127.0.0.1:9300")
	out.karr("roles")
	for _, r := range nodeRoles {
		out.str(r)
	}
	out.endArr()
	out.kobj("attributes")
	out.end()
	if f.has("indices") {
		out.key("indices")
		writeIndexStats(out, all, fi)
	}
	if f.has("os") {
		s.writeOS(out, now)
	}
	if f.has("process") {
		s.writeProcess(out, now)
	}
	if f.has("jvm") {
		s.writeJVM(out, now)
	}
	if f.has("thread_pool") {
		out.kobj("thread_pool")
		for _, name := range []string{"write", "search", "get", "management", "refresh", "force_merge", "flush"} {
			out.kobj(name)
			out.kint("threads", int64(runtime.GOMAXPROCS(0)))
			out.kint("queue", 0)
			out.kint("active", 0)
			rejected := int64(0)
			if name == "write" || name == "search" {
				rejected = s.counters.injected429.Load()
			}
			out.kint("rejected", rejected)
			out.kint("largest", int64(runtime.GOMAXPROCS(0)))
			out.kint("completed", s.completedFor(name))
			out.end()
		}
		out.end()
	}
	if f.has("http") {
		out.kobj("http")
		out.kint("current_open", s.counters.httpOpen.Load())
		out.kint("total_opened", s.counters.httpTotal.Load())
		out.end()
	}
	if f.has("breaker") {
		out.kobj("breakers")
		for _, name := range []string{"request", "fielddata", "in_flight_requests", "parent"} {
			out.kobj(name)
			out.kint("limit_size_in_bytes", 0)
			out.kstr("limit_size", "0b")
			out.kint("estimated_size_in_bytes", 0)
			out.kstr("estimated_size", "0b")
			out.kfloat("overhead", 1)
			out.kint("tripped", 0)
			out.end()
		}
		out.end()
	}
	if f.has("indexing_pressure") {
		out.kobj("indexing_pressure")
		out.kobj("memory")
		out.kobj("current")
		out.kint("all_in_bytes", 0)
		out.end()
		out.kobj("total")
		out.kint("all_in_bytes", all.bulkBytes)
		out.kint("coordinating_rejections", 0)
		out.kint("primary_rejections", 0)
		out.end()
		out.end()
		out.end()
	}
	out.end()
	out.end()
	out.end()
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}

func (s *Server) completedFor(pool string) int64 {
	c := &s.counters.requests
	switch pool {
	case "write":
		return c[epBulk].Load() + c[epDoc].Load()
	case "search":
		return c[epSearch].Load() + c[epCount].Load() + c[epScroll].Load()
	case "refresh":
		return c[epRefresh].Load()
	case "force_merge":
		return c[epForceMerge].Load()
	case "flush":
		return c[epFlush].Load()
	}
	return 0
}

// writeJVM reports the Go runtime as the "JVM": heap from MemStats, every
// GC cycle as a young collection (Go's collector is not generational, so
// old stays zero), goroutines as threads.
func (s *Server) writeJVM(e *enc, now time.Time) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	heapMax := int64(m.HeapSys)
	if lim := debug.SetMemoryLimit(-1); lim > 0 && lim < 1<<62 {
		heapMax = lim
	}
	pct := int64(0)
	if heapMax > 0 {
		pct = int64(m.HeapAlloc) * 100 / heapMax
	}
	e.kobj("jvm")
	e.kint("timestamp", now.UnixMilli())
	e.kint("uptime_in_millis", now.Sub(s.started).Milliseconds())
	e.kobj("mem")
	e.kint("heap_used_in_bytes", int64(m.HeapAlloc))
	e.kint("heap_used_percent", pct)
	e.kint("heap_committed_in_bytes", int64(m.HeapSys))
	e.kint("heap_max_in_bytes", heapMax)
	e.kint("non_heap_used_in_bytes", int64(m.StackInuse+m.MSpanInuse+m.MCacheInuse+m.GCSys+m.OtherSys))
	e.kint("non_heap_committed_in_bytes", int64(m.StackSys+m.MSpanSys+m.MCacheSys+m.GCSys+m.OtherSys))
	e.kobj("pools")
	e.kobj("young")
	e.kint("used_in_bytes", int64(m.HeapAlloc))
	e.kint("max_in_bytes", 0)
	e.kint("peak_used_in_bytes", int64(m.HeapSys))
	e.kint("peak_max_in_bytes", 0)
	e.end()
	for _, name := range []string{"old", "survivor"} {
		e.kobj(name)
		e.kint("used_in_bytes", 0)
		e.kint("max_in_bytes", 0)
		e.kint("peak_used_in_bytes", 0)
		e.kint("peak_max_in_bytes", 0)
		e.end()
	}
	e.end()
	e.end()
	e.kobj("threads")
	e.kint("count", int64(runtime.NumGoroutine()))
	e.kint("peak_count", int64(runtime.NumGoroutine()))
	e.end()
	e.kobj("gc")
	e.kobj("collectors")
	e.kobj("young")
	e.kint("collection_count", int64(m.NumGC))
	e.kint("collection_time_in_millis", int64(m.PauseTotalNs/1e6))
	e.end()
	e.kobj("old")
	e.kint("collection_count", 0)
	e.kint("collection_time_in_millis", 0)
	e.end()
	e.end()
	e.end()
	e.kobj("buffer_pools")
	e.end()
	e.kobj("classes")
	e.kint("current_loaded_count", 0)
	e.kint("total_loaded_count", 0)
	e.kint("total_unloaded_count", 0)
	e.end()
	e.end()
}

// readProcFile reads a small /proc file; missing files read as empty.
func readProcFile(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return ""
	}
	return string(b)
}

func (s *Server) writeOS(e *enc, now time.Time) {
	load := strings.Fields(readProcFile("/proc/loadavg"))
	mem := map[string]int64{}
	for _, line := range strings.Split(readProcFile("/proc/meminfo"), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			mem[strings.TrimSuffix(f[0], ":")] = n * 1024
		}
	}
	total, free := mem["MemTotal"], mem["MemAvailable"]
	e.kobj("os")
	e.kint("timestamp", now.UnixMilli())
	e.kobj("cpu")
	e.kint("percent", 0)
	e.kobj("load_average")
	for i, k := range []string{"1m", "5m", "15m"} {
		if i < len(load) {
			f, _ := strconv.ParseFloat(load[i], 64)
			e.kfloat(k, f)
		}
	}
	e.end()
	e.end()
	e.kobj("mem")
	e.kint("total_in_bytes", total)
	e.kint("adjusted_total_in_bytes", total)
	e.kint("free_in_bytes", free)
	e.kint("used_in_bytes", total-free)
	fp, up := int64(0), int64(0)
	if total > 0 {
		fp = free * 100 / total
		up = 100 - fp
	}
	e.kint("free_percent", fp)
	e.kint("used_percent", up)
	e.end()
	e.kobj("swap")
	e.kint("total_in_bytes", mem["SwapTotal"])
	e.kint("free_in_bytes", mem["SwapFree"])
	e.kint("used_in_bytes", mem["SwapTotal"]-mem["SwapFree"])
	e.end()
	e.end()
}

func (s *Server) writeProcess(e *enc, now time.Time) {
	fds := int64(-1)
	if entries, err := os.ReadDir("/proc/self/fd"); err == nil {
		fds = int64(len(entries))
	}
	maxFDs := int64(-1)
	for _, line := range strings.Split(readProcFile("/proc/self/limits"), "\n") {
		if strings.HasPrefix(line, "Max open files") {
			if f := strings.Fields(line); len(f) >= 4 {
				maxFDs, _ = strconv.ParseInt(f[3], 10, 64)
			}
		}
	}
	cpuMs := int64(0)
	if stat := readProcFile("/proc/self/stat"); stat != "" {
		if i := strings.LastIndexByte(stat, ')'); i >= 0 {
			f := strings.Fields(stat[i+1:])
			if len(f) > 13 {
				u, _ := strconv.ParseInt(f[11], 10, 64)
				k, _ := strconv.ParseInt(f[12], 10, 64)
				cpuMs = (u + k) * 10 // USER_HZ is 100 on Linux
			}
		}
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	e.kobj("process")
	e.kint("timestamp", now.UnixMilli())
	e.kint("open_file_descriptors", fds)
	e.kint("max_file_descriptors", maxFDs)
	e.kobj("cpu")
	e.kint("percent", 0)
	e.kint("total_in_millis", cpuMs)
	e.end()
	e.kobj("mem")
	e.kint("total_virtual_in_bytes", int64(m.Sys))
	e.end()
	e.end()
}

// handleNodesInfo serves GET /_nodes[/{node}[/{metric}]] with one node.
func (s *Server) handleNodesInfo(w http.ResponseWriter, q *req) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	out := getEnc()
	defer putEnc(out)
	out.obj()
	out.kobj("_nodes")
	out.kint("total", 1)
	out.kint("successful", 1)
	out.kint("failed", 0)
	out.end()
	out.kstr("cluster_name", s.clusterName)
	out.kobj("nodes")
	out.kobj(s.nodeID)
	out.kstr("name", s.nodeName)
	out.kstr("transport_address", "127.0.0.1:9300")
	out.kstr("host", "127.0.0.1")
	out.kstr("ip", "127.0.0.1")
	out.kstr("version", s.version.number)
	if s.flavor == FlavorElasticsearch {
		out.kstr("build_flavor", "default")
	}
	out.kstr("build_type", "tar")
	out.kstr("build_hash", buildHash)
	out.karr("roles")
	for _, r := range nodeRoles {
		out.str(r)
	}
	out.endArr()
	out.kobj("attributes")
	out.end()
	out.kobj("settings")
	out.kobj("cluster")
	out.kstr("name", s.clusterName)
	out.end()
	out.kobj("node")
	out.kstr("name", s.nodeName)
	out.end()
	out.end()
	out.kobj("os")
	out.kstr("name", runtime.GOOS)
	out.kstr("arch", runtime.GOARCH)
	out.kint("available_processors", int64(runtime.NumCPU()))
	out.kint("allocated_processors", int64(runtime.GOMAXPROCS(0)))
	out.end()
	out.kobj("process")
	out.kint("id", int64(os.Getpid()))
	out.kbool("mlockall", false)
	out.end()
	out.kobj("jvm")
	out.kint("pid", int64(os.Getpid()))
	out.kstr("version", runtime.Version())
	out.kstr("vm_name", "Go runtime (estarget test target)")
	out.kstr("vm_vendor", "estarget")
	out.kint("start_time_in_millis", s.started.UnixMilli())
	out.kobj("mem")
	out.kint("heap_init_in_bytes", 0)
	out.kint("heap_max_in_bytes", int64(m.HeapSys))
	out.end()
	out.karr("gc_collectors")
	out.str("young")
	out.endArr()
	out.end()
	out.karr("plugins")
	out.endArr()
	out.karr("modules")
	out.endArr()
	out.end()
	out.end()
	out.end()
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}

// catBytes formats a size the way _cat does by default (1.2kb, 3mb).
func catBytes(n int64) string {
	units := []string{"b", "kb", "mb", "gb", "tb"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatInt(n, 10) + "b"
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + units[i]
}

// writeCat answers a _cat request as JSON (format=json) or as an aligned
// text table with an optional header (v).
func (s *Server) writeCat(w http.ResponseWriter, q *req, cols []string, rows [][]string) {
	if f, _ := q.param("format"); f == "json" {
		out := getEnc()
		defer putEnc(out)
		out.arr()
		for _, r := range rows {
			out.obj()
			for i, c := range cols {
				out.kstr(c, r[i])
			}
			out.end()
		}
		out.endArr()
		s.writeJSON(w, q.r, http.StatusOK, out.b)
		return
	}
	all := rows
	if q.flag("v") {
		all = append([][]string{cols}, rows...)
	}
	width := make([]int, len(cols))
	for _, r := range all {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	var b strings.Builder
	for _, r := range all {
		for i, c := range r {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len(c)))
			}
		}
		b.WriteByte('\n')
	}
	w.Header()["Content-Type"] = hdrText
	w.WriteHeader(http.StatusOK)
	if q.r.Method != http.MethodHead {
		_, _ = w.Write([]byte(b.String()))
	}
}

func (s *Server) handleCatIndices(w http.ResponseWriter, q *req) {
	s.mu.RLock()
	indices, e := s.resolve(q.seg(2), q.resolveOpts())
	if e != nil {
		s.mu.RUnlock()
		s.writeError(w, q.r, e)
		return
	}
	bytesUnit, _ := q.param("bytes")
	var rows [][]string
	for _, ix := range indices {
		size := catBytes(ix.storeBytes)
		if bytesUnit == "b" {
			size = strconv.FormatInt(ix.storeBytes, 10)
		}
		rows = append(rows, []string{"green", "open", ix.name, ix.uuid, strconv.Itoa(ix.shards),
			strconv.Itoa(atoiOr(ix.settings["index.number_of_replicas"], 0)),
			strconv.Itoa(ix.live), strconv.Itoa(ix.deleted), size, size})
	}
	s.mu.RUnlock()
	sort.Slice(rows, func(i, j int) bool { return rows[i][2] < rows[j][2] })
	s.writeCat(w, q, []string{"health", "status", "index", "uuid", "pri", "rep", "docs.count", "docs.deleted", "store.size", "pri.store.size"}, rows)
}

func (s *Server) handleCatHealth(w http.ResponseWriter, q *req) {
	now := time.Now()
	s.mu.RLock()
	shards := 0
	for _, ix := range s.indices {
		shards += ix.shards
	}
	s.mu.RUnlock()
	n := strconv.Itoa(shards)
	s.writeCat(w, q,
		[]string{"epoch", "timestamp", "cluster", "status", "node.total", "node.data", "shards", "pri", "relo", "init", "unassign", "unassign.pri", "pending_tasks", "max_task_wait_time", "active_shards_percent"},
		[][]string{{strconv.FormatInt(now.Unix(), 10), now.UTC().Format("15:04:05"), s.clusterName, "green", "1", "1", n, n, "0", "0", "0", "0", "0", "-", "100.0%"}})
}
