package estarget

import (
	"net/http"
	"testing"
)

// indexStatsBody mirrors the parts of an index stats object tests read.
type indexStatsBody struct {
	Docs struct {
		Count   int64 `json:"count"`
		Deleted int64 `json:"deleted"`
	} `json:"docs"`
	Store struct {
		SizeInBytes int64 `json:"size_in_bytes"`
	} `json:"store"`
	Indexing struct {
		IndexTotal           int64  `json:"index_total"`
		IndexTimeInMillis    int64  `json:"index_time_in_millis"`
		IndexCurrent         int64  `json:"index_current"`
		ThrottleTimeInMillis *int64 `json:"throttle_time_in_millis"`
		DeleteTotal          int64  `json:"delete_total"`
	} `json:"indexing"`
	Search struct {
		QueryTotal        int64  `json:"query_total"`
		QueryTimeInMillis *int64 `json:"query_time_in_millis"`
	} `json:"search"`
	Merges *struct {
		Current           int64  `json:"current"`
		Total             int64  `json:"total"`
		TotalTimeInMillis *int64 `json:"total_time_in_millis"`
		TotalDocs         int64  `json:"total_docs"`
		TotalSizeInBytes  int64  `json:"total_size_in_bytes"`
	} `json:"merges"`
	Refresh struct {
		Total             int64  `json:"total"`
		TotalTimeInMillis *int64 `json:"total_time_in_millis"`
	} `json:"refresh"`
	Flush struct {
		Total             int64  `json:"total"`
		TotalTimeInMillis *int64 `json:"total_time_in_millis"`
	} `json:"flush"`
	Segments struct {
		Count         int64  `json:"count"`
		MemoryInBytes *int64 `json:"memory_in_bytes"`
	} `json:"segments"`
	Bulk struct {
		TotalOperations  int64 `json:"total_operations"`
		TotalSizeInBytes int64 `json:"total_size_in_bytes"`
	} `json:"bulk"`
}

type statsResponse struct {
	Shards struct{ Total, Successful, Failed int } `json:"_shards"`
	All    struct {
		Primaries indexStatsBody `json:"primaries"`
		Total     indexStatsBody `json:"total"`
	} `json:"_all"`
	Indices map[string]struct {
		UUID      string         `json:"uuid"`
		Health    string         `json:"health"`
		Status    string         `json:"status"`
		Primaries indexStatsBody `json:"primaries"`
		Total     indexStatsBody `json:"total"`
	} `json:"indices"`
}

func getStats(t *testing.T, s http.Handler, path string) statsResponse {
	t.Helper()
	var sr statsResponse
	decode(t, must(t, s, http.StatusOK, http.MethodGet, path, "").body, &sr)
	return sr
}

func TestIndexStatsFollowWhatHappened(t *testing.T) {
	s := New(Options{})
	must(t, s, http.StatusOK, http.MethodPut, "/a", `{"settings":{"number_of_shards":2}}`)
	src1, src2, src3 := `{"v":1}`, `{"v":22}`, `{"v":333}`
	bulk(t, s, "/_bulk",
		`{"index":{"_index":"a","_id":"1"}}`, src1,
		`{"index":{"_index":"a","_id":"2"}}`, src2,
		`{"index":{"_index":"a","_id":"1"}}`, src3, // overwrite: one deleted doc until merged
		`{"index":{"_index":"b","_id":"1"}}`, src1)
	must(t, s, http.StatusOK, http.MethodPost, "/a/_refresh", "")
	search(t, s, http.MethodGet, "/a/_search", "")

	st := getStats(t, s, "/_stats")
	a := st.Indices["a"].Primaries
	if a.Docs.Count != 2 || a.Docs.Deleted != 1 {
		t.Fatalf("docs: %+v", a.Docs)
	}
	if want := int64(len(src1) + len(src2) + len(src3)); a.Store.SizeInBytes != want {
		t.Fatalf("store %d, want %d (sources kept until merge)", a.Store.SizeInBytes, want)
	}
	if a.Indexing.IndexTotal != 3 || a.Indexing.ThrottleTimeInMillis == nil || a.Search.QueryTotal != 2 ||
		a.Refresh.Total != 1 || a.Segments.Count != 1 || a.Segments.MemoryInBytes == nil || a.Merges == nil ||
		a.Bulk.TotalOperations != 1 || a.Bulk.TotalSizeInBytes != int64(len(src1)+len(src2)+len(src3)) {
		t.Fatalf("index a stats: %+v", a)
	}
	if st.All.Primaries.Docs.Count != 3 || st.All.Total.Docs.Count != 3 || st.Shards.Total != 3 {
		t.Fatalf("_all: %+v shards %+v", st.All.Primaries.Docs, st.Shards)
	}
	if st.Indices["a"].Health != "green" || st.Indices["a"].Status != "open" || st.Indices["a"].UUID == "" {
		t.Fatalf("index header: %+v", st.Indices["a"])
	}

	must(t, s, http.StatusOK, http.MethodPost, "/a/_forcemerge?max_num_segments=1", "")
	after := getStats(t, s, "/a/_stats").Indices["a"].Primaries
	if after.Docs.Deleted != 0 || after.Docs.Count != 2 || after.Merges.Total != 1 || after.Merges.TotalDocs != 2 ||
		after.Store.SizeInBytes != int64(len(src2)+len(src3)) {
		t.Fatalf("after force merge: docs %+v store %+v merges %+v", after.Docs, after.Store, after.Merges)
	}

	t.Run("metric_filter", func(t *testing.T) {
		f := getStats(t, s, "/_all/_stats/docs,store")
		if f.All.Primaries.Docs.Count != 3 || f.All.Primaries.Merges != nil {
			t.Fatalf("filtered stats: %+v", f.All.Primaries)
		}
		mustError(t, call(t, s, http.MethodGet, "/_stats/bogus", ""), http.StatusBadRequest, "illegal_argument_exception")
	})
}

type nodesStatsResponse struct {
	Nodes struct {
		Total, Successful, Failed int
	} `json:"_nodes"`
	ClusterName string `json:"cluster_name"`
	NodeMap     map[string]struct {
		Name    string          `json:"name"`
		Roles   []string        `json:"roles"`
		Indices *indexStatsBody `json:"indices"`
		JVM     *struct {
			UptimeInMillis int64 `json:"uptime_in_millis"`
			Mem            struct {
				HeapUsedInBytes      int64 `json:"heap_used_in_bytes"`
				HeapUsedPercent      int64 `json:"heap_used_percent"`
				HeapCommittedInBytes int64 `json:"heap_committed_in_bytes"`
				HeapMaxInBytes       int64 `json:"heap_max_in_bytes"`
			} `json:"mem"`
			GC struct {
				Collectors map[string]struct {
					CollectionCount        *int64 `json:"collection_count"`
					CollectionTimeInMillis *int64 `json:"collection_time_in_millis"`
				} `json:"collectors"`
			} `json:"gc"`
		} `json:"jvm"`
		OS      map[string]any `json:"os"`
		Process *struct {
			OpenFileDescriptors int64 `json:"open_file_descriptors"`
		} `json:"process"`
		ThreadPool map[string]struct {
			Rejected int64 `json:"rejected"`
		} `json:"thread_pool"`
	} `json:"nodes"`
}

func TestNodesStats(t *testing.T) {
	s := New(Options{ClusterName: "bench"})
	bulk(t, s, "/_bulk", `{"index":{"_index":"a"}}`, `{"v":1}`)
	var ns nodesStatsResponse
	decode(t, must(t, s, http.StatusOK, http.MethodGet, "/_nodes/stats", "").body, &ns)
	if ns.Nodes.Total != 1 || ns.ClusterName != "bench" || len(ns.NodeMap) != 1 {
		t.Fatalf("%+v", ns)
	}
	for id, n := range ns.NodeMap {
		if id == "" || n.Name == "" || len(n.Roles) == 0 || n.Indices == nil || n.Indices.Docs.Count != 1 {
			t.Fatalf("node: %+v", n)
		}
		if n.JVM == nil || n.JVM.Mem.HeapUsedInBytes <= 0 || n.JVM.Mem.HeapCommittedInBytes < n.JVM.Mem.HeapUsedInBytes ||
			n.JVM.Mem.HeapMaxInBytes <= 0 {
			t.Fatalf("jvm.mem: %+v", n.JVM)
		}
		for _, c := range []string{"young", "old"} {
			if col, ok := n.JVM.GC.Collectors[c]; !ok || col.CollectionCount == nil || col.CollectionTimeInMillis == nil {
				t.Fatalf("gc collector %s missing: %+v", c, n.JVM.GC)
			}
		}
		if n.OS == nil || n.Process == nil || n.ThreadPool["write"].Rejected != 0 {
			t.Fatalf("os/process/thread_pool: %+v", n)
		}
	}
	t.Run("metric_path_filters", func(t *testing.T) {
		var only nodesStatsResponse
		decode(t, must(t, s, http.StatusOK, http.MethodGet, "/_nodes/stats/jvm", "").body, &only)
		for _, n := range only.NodeMap {
			if n.JVM == nil || n.Indices != nil || n.OS != nil {
				t.Fatalf("jvm only: %+v", n)
			}
		}
		var perNode nodesStatsResponse
		decode(t, must(t, s, http.StatusOK, http.MethodGet, "/_nodes/_local/stats/indices/docs", "").body, &perNode)
		for _, n := range perNode.NodeMap {
			if n.Indices == nil || n.Indices.Docs.Count != 1 || n.JVM != nil {
				t.Fatalf("indices/docs only: %+v", n)
			}
		}
		mustError(t, call(t, s, http.MethodGet, "/_nodes/stats/bogus", ""), http.StatusBadRequest, "illegal_argument_exception")
	})
	t.Run("nodes_info", func(t *testing.T) {
		res := must(t, s, http.StatusOK, http.MethodGet, "/_nodes", "")
		var ni struct {
			Nodes map[string]struct {
				Version string `json:"version"`
				JVM     struct {
					VMName string `json:"vm_name"`
				} `json:"jvm"`
			} `json:"nodes"`
		}
		decode(t, res.body, &ni)
		for _, n := range ni.Nodes {
			if n.Version != "8.15.0" || n.JVM.VMName == "" {
				t.Fatalf("%s", res.body)
			}
		}
	})
}
