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

// servedPerYoungGC is how many requests served count as one more young
// collection of 1 ms in the "JVM" figures: Go's own collector may not run
// at all during a short test race, and a test of the race's GC rows needs
// figures that grow with the work done, as a real node's do.
const servedPerYoungGC = 8

// nodesStats answers the node stats API with the one node, whatever
// metrics were asked for: documents from the canned counters; the Go
// runtime as the "JVM" (heap, each GC cycle and each servedPerYoungGC
// requests a young collection, never an old one); the process's CPU time
// and the machine's memory from /proc; injected 429s as write and search
// rejections; no fs group, so no disk figures.
func (s *Server) nodesStats() reply {
	now := time.Now()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	heapMax := int64(m.HeapSys)
	if lim := debug.SetMemoryLimit(-1); lim > 0 && lim < 1<<62 {
		heapMax = lim
	}
	served := s.counters.served()
	young := obj{"collection_count": int64(m.NumGC) + served/servedPerYoungGC,
		"collection_time_in_millis": int64(m.PauseTotalNs/1e6) + served/servedPerYoungGC}
	_, docs := s.store.totals()
	rejected := s.counters.faults[c429].Load()
	pools := obj{}
	for _, name := range []string{"write", "search", "get", "management", "refresh", "force_merge", "flush"} {
		p := obj{"threads": runtime.GOMAXPROCS(0), "queue": 0, "active": 0, "rejected": 0, "largest": runtime.GOMAXPROCS(0), "completed": 0}
		if name == "write" || name == "search" {
			p["rejected"] = rejected
		}
		pools[name] = p
	}
	mem := meminfo()
	node := obj{
		"timestamp": now.UnixMilli(), "name": s.nodeName, "transport_address": "127.0.0.1:9300",
		"host": "127.0.0.1", "ip": "127.0.0.1:9300", "roles": []string{"data", "ingest", "master"}, "attributes": obj{},
		"indices": obj{"docs": obj{"count": docs, "deleted": 0}},
		"os": obj{"timestamp": now.UnixMilli(), "mem": obj{"total_in_bytes": mem["MemTotal"], "free_in_bytes": mem["MemAvailable"],
			"used_in_bytes": mem["MemTotal"] - mem["MemAvailable"]}},
		"process": obj{"timestamp": now.UnixMilli(), "open_file_descriptors": openFDs(),
			"cpu": obj{"percent": 0, "total_in_millis": processCPUMillis()}, "mem": obj{"total_virtual_in_bytes": m.Sys}},
		"jvm": obj{"timestamp": now.UnixMilli(), "uptime_in_millis": now.Sub(s.started).Milliseconds(),
			"mem": obj{"heap_used_in_bytes": m.HeapAlloc, "heap_committed_in_bytes": m.HeapSys, "heap_max_in_bytes": heapMax,
				"heap_used_percent": int64(m.HeapAlloc) * 100 / max(heapMax, 1)},
			"threads": obj{"count": runtime.NumGoroutine(), "peak_count": runtime.NumGoroutine()},
			"gc":      obj{"collectors": obj{"young": young, "old": obj{"collection_count": 0, "collection_time_in_millis": 0}}}},
		"thread_pool": pools,
		"http":        obj{"current_open": s.counters.httpOpen.Load(), "total_opened": s.counters.httpTotal.Load()},
	}
	return jsonReply(http.StatusOK, obj{"_nodes": shards(1), "cluster_name": s.clusterName, "nodes": obj{s.nodeID: node}})
}

// meminfo reads /proc/meminfo in bytes; empty where there is none.
func meminfo() map[string]int64 {
	out := map[string]int64{}
	b, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			out[strings.TrimSuffix(f[0], ":")] = n * 1024
		}
	}
	return out
}

// openFDs counts the process's open descriptors, -1 where it cannot.
func openFDs() int64 {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return int64(len(entries))
}

// processCPUMillis is the process's user and system CPU time from
// /proc/self/stat, -1 (as a JVM says "unknown") where there is none.
func processCPUMillis() int64 {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return -1
	}
	i := strings.LastIndexByte(string(stat), ')')
	f := strings.Fields(string(stat[i+1:]))
	if i < 0 || len(f) <= 12 {
		return -1
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return (u + k) * 10 // USER_HZ is 100 on Linux
}
