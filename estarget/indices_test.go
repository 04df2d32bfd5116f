package estarget

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCreateIndex(t *testing.T) {
	t.Run("acknowledges_with_index_name", func(t *testing.T) {
		s := New(Options{})
		res := must(t, s, http.StatusOK, http.MethodPut, "/logs", `{"settings":{"number_of_shards":2},"mappings":{"properties":{"a":{"type":"keyword"}}}}`)
		var ack struct {
			Acknowledged       bool   `json:"acknowledged"`
			ShardsAcknowledged bool   `json:"shards_acknowledged"`
			Index              string `json:"index"`
		}
		decode(t, res.body, &ack)
		if !ack.Acknowledged || !ack.ShardsAcknowledged || ack.Index != "logs" {
			t.Fatalf("ack: %s", res.body)
		}
	})
	t.Run("existing_index_is_resource_already_exists_400", func(t *testing.T) {
		s := New(Options{})
		must(t, s, http.StatusOK, http.MethodPut, "/logs", "")
		eb := mustError(t, call(t, s, http.MethodPut, "/logs", ""), http.StatusBadRequest, "resource_already_exists_exception")
		if eb.Error.Index != "logs" || eb.Error.RootCause[0].Index != "logs" || len(eb.Error.IndexUUID) != 22 ||
			!strings.HasPrefix(eb.Error.Reason, "index [logs/"+eb.Error.IndexUUID+"] already exists") {
			t.Fatalf("error: %+v", eb)
		}
	})
	for _, bad := range []string{"Upper", "_under", "a*b", "a,b", "-dash"} {
		t.Run("invalid_name_"+bad, func(t *testing.T) {
			s := New(Options{})
			mustError(t, call(t, s, http.MethodPut, "/"+bad, ""), http.StatusBadRequest, "invalid_index_name_exception")
		})
	}
	t.Run("settings_are_nested_strings_on_get", func(t *testing.T) {
		s := New(Options{})
		must(t, s, http.StatusOK, http.MethodPut, "/logs", `{"settings":{"index":{"number_of_shards":3,"refresh_interval":"5s"}}}`)
		res := must(t, s, http.StatusOK, http.MethodGet, "/logs", "")
		var got map[string]struct {
			Aliases  map[string]any `json:"aliases"`
			Mappings map[string]any `json:"mappings"`
			Settings struct {
				Index struct {
					NumberOfShards   string `json:"number_of_shards"`
					NumberOfReplicas string `json:"number_of_replicas"`
					RefreshInterval  string `json:"refresh_interval"`
					UUID             string `json:"uuid"`
					ProvidedName     string `json:"provided_name"`
					CreationDate     string `json:"creation_date"`
				} `json:"index"`
			} `json:"settings"`
		}
		decode(t, res.body, &got)
		ix := got["logs"].Settings.Index
		if ix.NumberOfShards != "3" || ix.NumberOfReplicas != "1" || ix.RefreshInterval != "5s" || ix.UUID == "" ||
			ix.ProvidedName != "logs" || ix.CreationDate == "" || got["logs"].Aliases == nil || got["logs"].Mappings == nil {
			t.Fatalf("GET /logs: %s", res.body)
		}
	})
}

func TestDeleteIndex(t *testing.T) {
	setup := func(t *testing.T, opts Options) *Server {
		s := New(opts)
		for _, n := range []string{"a-1", "a-2", "b-1"} {
			must(t, s, http.StatusOK, http.MethodPut, "/"+n, "")
		}
		return s
	}
	exists := func(s *Server, name string) bool {
		return call(t, s, http.MethodHead, "/"+name, "").status == http.StatusOK
	}
	t.Run("missing_index_is_404_index_not_found", func(t *testing.T) {
		s := setup(t, Options{})
		eb := mustError(t, call(t, s, http.MethodDelete, "/nope", ""), http.StatusNotFound, "index_not_found_exception")
		if eb.Error.Index != "nope" || eb.Error.Reason != "no such index [nope]" || eb.Error.IndexUUID != "_na_" {
			t.Fatalf("%+v", eb)
		}
	})
	t.Run("ignore_unavailable_skips_missing", func(t *testing.T) {
		s := setup(t, Options{})
		must(t, s, http.StatusOK, http.MethodDelete, "/nope,a-1?ignore_unavailable=true", "")
		if exists(s, "a-1") || !exists(s, "a-2") {
			t.Fatal("a-1 should be gone and a-2 kept")
		}
	})
	t.Run("comma_list_deletes_each", func(t *testing.T) {
		s := setup(t, Options{})
		must(t, s, http.StatusOK, http.MethodDelete, "/a-1,b-1", "")
		if exists(s, "a-1") || exists(s, "b-1") || !exists(s, "a-2") {
			t.Fatal("wrong indices deleted")
		}
	})
	t.Run("comma_list_with_missing_deletes_nothing", func(t *testing.T) {
		s := setup(t, Options{})
		mustError(t, call(t, s, http.MethodDelete, "/a-1,nope", ""), http.StatusNotFound, "index_not_found_exception")
		if !exists(s, "a-1") {
			t.Fatal("a-1 deleted although the request failed")
		}
	})
	t.Run("wildcards_refused_while_destructive_requires_name", func(t *testing.T) {
		s := setup(t, Options{})
		mustError(t, call(t, s, http.MethodDelete, "/a-*", ""), http.StatusBadRequest, "illegal_argument_exception")
		must(t, s, http.StatusOK, http.MethodPut, "/_cluster/settings", `{"transient":{"action.destructive_requires_name":false}}`)
		must(t, s, http.StatusOK, http.MethodDelete, "/a-*", "")
		if exists(s, "a-1") || exists(s, "a-2") || !exists(s, "b-1") {
			t.Fatal("wildcard delete wrong")
		}
	})
	t.Run("opensearch_allows_wildcards_by_default", func(t *testing.T) {
		s := setup(t, Options{Flavor: FlavorOpenSearch})
		must(t, s, http.StatusOK, http.MethodDelete, "/_all", "")
		if exists(s, "b-1") {
			t.Fatal("_all did not delete")
		}
	})
}

func TestIndexSettingsUpdate(t *testing.T) {
	s := New(Options{})
	must(t, s, http.StatusOK, http.MethodPut, "/logs", "")
	must(t, s, http.StatusOK, http.MethodPut, "/logs/_settings", `{"index":{"refresh_interval":"-1","number_of_replicas":0}}`)
	res := must(t, s, http.StatusOK, http.MethodGet, "/logs/_settings", "")
	if !strings.Contains(string(res.body), `"refresh_interval":"-1"`) || !strings.Contains(string(res.body), `"number_of_replicas":"0"`) {
		t.Fatalf("settings not applied: %s", res.body)
	}
	mustError(t, call(t, s, http.MethodPut, "/logs/_settings", `{"number_of_shards":4}`), http.StatusBadRequest, "illegal_argument_exception")
	mustError(t, call(t, s, http.MethodPut, "/nope/_settings", `{"refresh_interval":"1s"}`), http.StatusNotFound, "index_not_found_exception")
}

func TestClusterSettings(t *testing.T) {
	s := New(Options{})
	res := must(t, s, http.StatusOK, http.MethodPut, "/_cluster/settings", `{"persistent":{"indices.recovery.max_bytes_per_sec":"50mb"},"transient":{"cluster":{"routing":{"allocation":{"enable":"all"}}}}}`)
	var ack struct {
		Acknowledged bool           `json:"acknowledged"`
		Persistent   map[string]any `json:"persistent"`
		Transient    map[string]any `json:"transient"`
	}
	decode(t, res.body, &ack)
	if !ack.Acknowledged || ack.Persistent["indices"] == nil || ack.Transient["cluster"] == nil {
		t.Fatalf("ack: %s", res.body)
	}
	get := must(t, s, http.StatusOK, http.MethodGet, "/_cluster/settings", "")
	want := `{"persistent":{"indices":{"recovery":{"max_bytes_per_sec":"50mb"}}},"transient":{"cluster":{"routing":{"allocation":{"enable":"all"}}}}}`
	if string(get.body) != want {
		t.Fatalf("GET settings:\n got %s\nwant %s", get.body, want)
	}
	must(t, s, http.StatusOK, http.MethodPut, "/_cluster/settings", `{"persistent":{"indices.recovery.max_bytes_per_sec":null}}`)
	get = must(t, s, http.StatusOK, http.MethodGet, "/_cluster/settings", "")
	if strings.Contains(string(get.body), "max_bytes_per_sec") {
		t.Fatalf("null did not remove the setting: %s", get.body)
	}
}

// health mirrors the cluster health response.
type health struct {
	ClusterName                 string  `json:"cluster_name"`
	Status                      string  `json:"status"`
	TimedOut                    bool    `json:"timed_out"`
	NumberOfNodes               int     `json:"number_of_nodes"`
	NumberOfDataNodes           int     `json:"number_of_data_nodes"`
	ActivePrimaryShards         int     `json:"active_primary_shards"`
	ActiveShards                int     `json:"active_shards"`
	RelocatingShards            int     `json:"relocating_shards"`
	InitializingShards          int     `json:"initializing_shards"`
	UnassignedShards            int     `json:"unassigned_shards"`
	DelayedUnassignedShards     int     `json:"delayed_unassigned_shards"`
	NumberOfPendingTasks        int     `json:"number_of_pending_tasks"`
	NumberOfInFlightFetch       int     `json:"number_of_in_flight_fetch"`
	TaskMaxWaitingInQueueMillis int     `json:"task_max_waiting_in_queue_millis"`
	ActiveShardsPercent         float64 `json:"active_shards_percent_as_number"`
	Indices                     map[string]struct {
		Status         string `json:"status"`
		NumberOfShards int    `json:"number_of_shards"`
	} `json:"indices"`
}

func TestClusterHealth(t *testing.T) {
	s := New(Options{ClusterName: "bench"})
	must(t, s, http.StatusOK, http.MethodPut, "/logs", `{"settings":{"number_of_shards":2}}`)
	tests := []struct {
		name     string
		path     string
		status   int
		health   string
		timedOut bool
		shards   int
	}{
		{"cluster_is_green", "/_cluster/health", 200, "green", false, 2},
		{"existing_index_waits_for_green_at_once", "/_cluster/health/logs?wait_for_status=green&wait_for_no_relocating_shards=true&timeout=5s", 200, "green", false, 2},
		{"missing_index_times_out_red_408", "/_cluster/health/nope?wait_for_status=yellow&timeout=100ms", 408, "red", true, 0},
		{"missing_index_without_wait_is_red_408", "/_cluster/health/nope", 408, "red", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := must(t, s, tt.status, http.MethodGet, tt.path, "")
			var h health
			decode(t, res.body, &h)
			if h.Status != tt.health || h.TimedOut != tt.timedOut || h.ActivePrimaryShards != tt.shards ||
				h.ClusterName != "bench" || h.NumberOfNodes != 1 || h.ActiveShardsPercent != 100 {
				t.Fatalf("health: %s", res.body)
			}
			if time.Since(start) > 3*time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
		})
	}
	t.Run("waits_until_index_appears", func(t *testing.T) {
		done := make(chan response, 1)
		go func() {
			done <- call(t, s, http.MethodGet, "/_cluster/health/later?wait_for_status=green&timeout=5s", "")
		}()
		time.Sleep(120 * time.Millisecond)
		must(t, s, http.StatusOK, http.MethodPut, "/later", "")
		res := <-done
		if res.status != http.StatusOK {
			t.Fatalf("status %d: %s", res.status, res.body)
		}
	})
	t.Run("level_indices_lists_them", func(t *testing.T) {
		res := must(t, s, http.StatusOK, http.MethodGet, "/_cluster/health?level=indices", "")
		var h health
		decode(t, res.body, &h)
		if h.Indices["logs"].Status != "green" || h.Indices["logs"].NumberOfShards != 2 {
			t.Fatalf("indices level: %s", res.body)
		}
	})
}

func TestCatIndicesJSON(t *testing.T) {
	s := New(Options{})
	must(t, s, http.StatusOK, http.MethodPut, "/logs", "")
	must(t, s, http.StatusOK, http.MethodPost, "/_bulk", "{\"index\":{\"_index\":\"logs\"}}\n{\"a\":1}\n")
	res := must(t, s, http.StatusOK, http.MethodGet, "/_cat/indices?format=json", "")
	var rows []map[string]string
	decode(t, res.body, &rows)
	if len(rows) != 1 || rows[0]["index"] != "logs" || rows[0]["docs.count"] != "1" || rows[0]["health"] != "green" {
		t.Fatalf("cat indices: %s", res.body)
	}
	txt := must(t, s, http.StatusOK, http.MethodGet, "/_cat/health?v", "")
	if !strings.HasPrefix(string(txt.body), "epoch") || !strings.Contains(string(txt.body), "green") {
		t.Fatalf("cat health: %s", txt.body)
	}
}

func TestRefreshFlushForceMergeRecovery(t *testing.T) {
	s := New(Options{})
	must(t, s, http.StatusOK, http.MethodPut, "/logs", `{"settings":{"number_of_shards":3}}`)
	for _, p := range []string{"/_refresh", "/logs/_refresh", "/_flush", "/logs/_flush", "/logs/_forcemerge?max_num_segments=1"} {
		method := http.MethodPost
		res := must(t, s, http.StatusOK, method, p, "")
		var b struct {
			Shards struct{ Total, Successful, Failed int } `json:"_shards"`
		}
		decode(t, res.body, &b)
		if b.Shards.Total != 3 || b.Shards.Successful != 3 || b.Shards.Failed != 0 {
			t.Fatalf("%s: %s", p, res.body)
		}
	}
	mustError(t, call(t, s, http.MethodPost, "/nope/_refresh", ""), http.StatusNotFound, "index_not_found_exception")
	res := must(t, s, http.StatusOK, http.MethodGet, "/logs/_recovery", "")
	var rec map[string]struct {
		Shards []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Stage   string `json:"stage"`
			Primary bool   `json:"primary"`
		} `json:"shards"`
	}
	decode(t, res.body, &rec)
	if len(rec["logs"].Shards) != 3 || rec["logs"].Shards[0].Stage != "DONE" {
		t.Fatalf("recovery: %s", res.body)
	}
	active := must(t, s, http.StatusOK, http.MethodGet, "/_recovery?active_only=true", "")
	if string(active.body) != "{}" {
		t.Fatalf("active_only: %s", active.body)
	}
}

func TestForceMergeInBackgroundIsATask(t *testing.T) {
	s := New(Options{ForceMergeDelay: 150 * time.Millisecond})
	must(t, s, http.StatusOK, http.MethodPut, "/logs", "")
	must(t, s, http.StatusOK, http.MethodPost, "/_bulk", "{\"index\":{\"_index\":\"logs\",\"_id\":\"1\"}}\n{\"a\":1}\n{\"index\":{\"_index\":\"logs\",\"_id\":\"1\"}}\n{\"a\":2}\n")
	res := must(t, s, http.StatusOK, http.MethodPost, "/logs/_forcemerge?max_num_segments=1&wait_for_completion=false", "")
	var task struct {
		Task string `json:"task"`
	}
	decode(t, res.body, &task)
	if !strings.Contains(task.Task, ":") {
		t.Fatalf("task id: %s", res.body)
	}
	running := must(t, s, http.StatusOK, http.MethodGet, "/_tasks?actions=indices:admin/forcemerge*", "")
	if !strings.Contains(string(running.body), task.Task) {
		t.Fatalf("task not listed while running: %s", running.body)
	}
	time.Sleep(200 * time.Millisecond)
	after := must(t, s, http.StatusOK, http.MethodGet, "/_tasks?actions=indices:admin/forcemerge*", "")
	if string(after.body) != `{"nodes":{}}` {
		t.Fatalf("task still listed: %s", after.body)
	}
	one := must(t, s, http.StatusOK, http.MethodGet, "/_tasks/"+task.Task, "")
	if !strings.Contains(string(one.body), `"completed":true`) {
		t.Fatalf("task: %s", one.body)
	}
	st := s.Stats()
	if st.DocsDeleted != 0 || st.DocsStored != 1 {
		t.Fatalf("force merge did not expunge the overwritten doc: %+v", st)
	}
}
