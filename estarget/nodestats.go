package estarget

import (
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

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
	s.openNodes(out)
	out.kint("timestamp", now.UnixMilli())
	s.writeNodeAddress(out, "127.0.0.1:9300")
	writeNodeRoles(out)
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
	closeNodes(out)
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}

// openNodes opens the body of a node API answer: the "_nodes" counts of the
// one node, cluster_name, and that node's object under "nodes".
// closeNodes ends what it opened.
func (s *Server) openNodes(e *enc) {
	e.obj()
	e.kshards("_nodes", 1)
	e.kstr("cluster_name", s.clusterName)
	e.kobj("nodes")
	e.kobj(s.nodeID)
}

// closeNodes ends the objects openNodes opened.
func closeNodes(e *enc) {
	e.end()
	e.end()
	e.end()
}

// writeNodeAddress writes the node's name and addresses; ip is
// "127.0.0.1:9300" in stats and tasks and "127.0.0.1" in info, as in
// Elasticsearch.
func (s *Server) writeNodeAddress(e *enc, ip string) {
	e.kstr("name", s.nodeName)
	e.kstr("transport_address", "127.0.0.1:9300")
	e.kstr("host", "127.0.0.1")
	e.kstr("ip", ip)
}

// writeNodeRoles writes the node's "roles": every role there is.
func writeNodeRoles(e *enc) {
	e.karr("roles")
	for _, r := range nodeRoles {
		e.str(r)
	}
	e.endArr()
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

// servedPerYoungGC is how many requests served count as one more young
// collection of 1 ms in the "JVM" figures: Go's own collector may not run
// at all during a short test race, and a test of the race's GC rows needs
// figures that grow with the work done, as a real node's do.
const servedPerYoungGC = 8

// writeJVM reports the Go runtime as the "JVM": heap from MemStats, every
// GC cycle as a young collection plus one per servedPerYoungGC requests
// served (Go's collector is not generational, so old stays zero),
// goroutines as threads.
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
		e.kzeros(name, "used_in_bytes", "max_in_bytes", "peak_used_in_bytes", "peak_max_in_bytes")
	}
	e.end()
	e.end()
	e.kobj("threads")
	e.kint("count", int64(runtime.NumGoroutine()))
	e.kint("peak_count", int64(runtime.NumGoroutine()))
	e.end()
	e.kobj("gc")
	e.kobj("collectors")
	var served int64
	for i := range s.counters.requests {
		served += s.counters.requests[i].Load()
	}
	e.kobj("young")
	e.kint("collection_count", int64(m.NumGC)+served/servedPerYoungGC)
	e.kint("collection_time_in_millis", int64(m.PauseTotalNs/1e6)+served/servedPerYoungGC)
	e.end()
	e.kzeros("old", "collection_count", "collection_time_in_millis")
	e.end()
	e.end()
	e.kobj("buffer_pools")
	e.end()
	e.kzeros("classes", "current_loaded_count", "total_loaded_count", "total_unloaded_count")
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

// writeModule writes the one module entry nodes info lists. A real node
// lists its modules (at least its transport), and the entry's version key
// names the distribution: elasticsearch_version or opensearch_version,
// which is how a client without GET / tells the two apart.
func (s *Server) writeModule(e *enc) {
	e.obj()
	e.kstr("name", "estarget")
	e.kstr("version", s.version.number)
	e.kstr(s.flavor+"_version", s.version.number)
	e.kstr("description", "estarget test target, not a real module")
	e.kstr("classname", "estarget")
	e.karr("extended_plugins")
	e.endArr()
	e.kbool("has_native_controller", false)
	e.end()
}

// handleNodesInfo serves GET /_nodes[/{node}[/{metric}]] with one node.
func (s *Server) handleNodesInfo(w http.ResponseWriter, q *req) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	out := getEnc()
	defer putEnc(out)
	s.openNodes(out)
	s.writeNodeAddress(out, "127.0.0.1")
	out.kstr("version", s.version.number)
	s.writeBuild(out)
	writeNodeRoles(out)
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
	s.writeModule(out)
	out.endArr()
	closeNodes(out)
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}
