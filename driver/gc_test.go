package driver

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"rally/metrics"
)

// Answers of real single-node clusters to GET /_nodes/stats/jvm, trimmed
// to the node's identity, a few jvm figures and jvm.gc (memory pools,
// buffer pools and classes left out). ReadNodeStats asks for process and
// fs too; these answers without them show that the GC figures do not
// depend on the other groups.
const (
	// OpenSearch 2.19.1 on JDK 17, G1 (the default).
	gcOS2191G1 = `{"_nodes":{"total":1,"successful":1,"failed":0},"cluster_name":"probe",` +
		`"nodes":{"Ih1gqW5ETz-mGC7BlFaJQw":{"timestamp":1796484654604,"name":"probe-os2-g1",` +
		`"transport_address":"127.0.0.1:39311","host":"127.0.0.1","ip":"127.0.0.1:39311","roles":["cluster_manager",` +
		`"data","ingest","remote_cluster_client"],"attributes":{"shard_indexing_pressure_enabled":"true"},` +
		`"jvm":{"timestamp":1796484654604,"uptime_in_millis":13625,"mem":{"heap_used_in_bytes":28408320,` +
		`"heap_used_percent":5},"threads":{"count":26,"peak_count":26},` +
		`"gc":{"collectors":{"young":{"collection_count":8,"collection_time_in_millis":285},` +
		`"old":{"collection_count":0,"collection_time_in_millis":0}}}}}}}`
	// Elasticsearch 9.2.0 on JDK 25, G1: JDK 20 and later also report G1's
	// concurrent cycles, which have no row in Rally's report.
	gcES920G1 = `{"_nodes":{"total":1,"successful":1,"failed":0},"cluster_name":"probe",` +
		`"nodes":{"r37RAJpwTP6EITqv4W_qOw":{"timestamp":1796484779862,"name":"probe-es9-g1",` +
		`"transport_address":"127.0.0.1:39313","host":"127.0.0.1","ip":"127.0.0.1:39313","roles":["data","data_cold",` +
		`"data_content","data_frozen","data_hot","data_warm","ingest","master","ml","remote_cluster_client",` +
		`"transform"],"attributes":{"xpack.installed":"true"},"jvm":{"timestamp":1796484779863,` +
		`"uptime_in_millis":14139,"mem":{"heap_used_in_bytes":66349056,"heap_used_percent":12},"threads":{"count":30,` +
		`"peak_count":30},"gc":{"collectors":{"young":{"collection_count":6,"collection_time_in_millis":211},` +
		`"G1 Concurrent GC":{"collection_count":6,"collection_time_in_millis":34},"old":{"collection_count":0,` +
		`"collection_time_in_millis":0}}}}}}}`
	// OpenSearch 2.19.1 on JDK 17 with -XX:+UseZGC: the collectors under
	// their JVM names, no young or old.
	gcOS2191ZGC = `{"_nodes":{"total":1,"successful":1,"failed":0},"cluster_name":"probe",` +
		`"nodes":{"cjXWPzD9SgKmVKP8w-Z6LA":{"timestamp":1796484830850,"name":"probe-os2-zgc",` +
		`"transport_address":"127.0.0.1:39312","host":"127.0.0.1","ip":"127.0.0.1:39312","roles":["cluster_manager",` +
		`"data","ingest","remote_cluster_client"],"attributes":{"shard_indexing_pressure_enabled":"true"},` +
		`"jvm":{"timestamp":1796484830850,"uptime_in_millis":10036,"mem":{"heap_used_in_bytes":125829120,` +
		`"heap_used_percent":23},"threads":{"count":23,"peak_count":23},` +
		`"gc":{"collectors":{"ZGC Cycles":{"collection_count":4,"collection_time_in_millis":532},` +
		`"ZGC Pauses":{"collection_count":12,"collection_time_in_millis":0}}}}}}}`
	// Elasticsearch 8.17.0 on JDK 17 with -XX:+UseSerialGC: Copy and
	// MarkSweepCompact, reported as young and old.
	gcES8170Serial = `{"_nodes":{"total":1,"successful":1,"failed":0},"cluster_name":"probe",` +
		`"nodes":{"rV1aI_c0SxKHSl4PECpp0A":{"timestamp":1796484846356,"name":"probe-es8-serial",` +
		`"transport_address":"127.0.0.1:39314","host":"127.0.0.1","ip":"127.0.0.1:39314","roles":["data","data_cold",` +
		`"data_content","data_frozen","data_hot","data_warm","ingest","master","ml","remote_cluster_client",` +
		`"transform"],"attributes":{"xpack.installed":"true"},"jvm":{"timestamp":1796484846355,"uptime_in_millis":7859,` +
		`"mem":{"heap_used_in_bytes":134603184,"heap_used_percent":25},"threads":{"count":28,"peak_count":28},` +
		`"gc":{"collectors":{"young":{"collection_count":3,"collection_time_in_millis":56},"old":{"collection_count":3,` +
		`"collection_time_in_millis":167}}}}}}}`
)

func gcCounts(count, ms int64) GCCounts {
	return GCCounts{Count: count, Time: time.Duration(ms) * time.Millisecond}
}

// TestNodeStatsGC: the collectors of each node are read by class.
func TestNodeStatsGC(t *testing.T) {
	tests := []struct {
		name string
		body string
		want GCSnapshot
	}{
		{"opensearch_2_g1_reports_young_and_old", gcOS2191G1,
			GCSnapshot{"probe-os2-g1": {GCYoung: gcCounts(8, 285), GCOld: gcCounts(0, 0)}}},
		{"elasticsearch_9_g1_leaves_concurrent_cycles_out", gcES920G1,
			GCSnapshot{"probe-es9-g1": {GCYoung: gcCounts(6, 211), GCOld: gcCounts(0, 0)}}},
		{"zgc_reports_cycles_and_pauses_not_generations", gcOS2191ZGC,
			GCSnapshot{"probe-os2-zgc": {GCZGCCycles: gcCounts(4, 532), GCZGCPauses: gcCounts(12, 0)}}},
		{"elasticsearch_8_serial_reports_young_and_old", gcES8170Serial,
			GCSnapshot{"probe-es8-serial": {GCYoung: gcCounts(3, 56), GCOld: gcCounts(3, 167)}}},
		{"jvm_collector_names_are_classified_too",
			`{"nodes":{"a":{"name":"n1","jvm":{"gc":{"collectors":{"G1 Young Generation":{"collection_count":5,"collection_time_in_millis":40},` +
				`"G1 Old Generation":{"collection_count":1,"collection_time_in_millis":90}}}}},` +
				`"b":{"name":"n2","jvm":{"gc":{"collectors":{"ParNew":{"collection_count":7,"collection_time_in_millis":70},` +
				`"ConcurrentMarkSweep":{"collection_count":2,"collection_time_in_millis":300}}}}},` +
				`"c":{"name":"n3","jvm":{"gc":{"collectors":{"Copy":{"collection_count":9,"collection_time_in_millis":18},` +
				`"MarkSweepCompact":{"collection_count":1,"collection_time_in_millis":250},` +
				`"Shenandoah Cycles":{"collection_count":3,"collection_time_in_millis":3}}}}}}}`,
			GCSnapshot{
				"n1": {GCYoung: gcCounts(5, 40), GCOld: gcCounts(1, 90)},
				"n2": {GCYoung: gcCounts(7, 70), GCOld: gcCounts(2, 300)},
				"n3": {GCYoung: gcCounts(9, 18), GCOld: gcCounts(1, 250)},
			}},
		{"a_node_without_a_name_goes_by_its_id",
			`{"nodes":{"id-1":{"jvm":{"gc":{"collectors":{"young":{"collection_count":1,"collection_time_in_millis":2}}}}}}}`,
			GCSnapshot{"id-1": {GCYoung: gcCounts(1, 2)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestES(t, func(r recReq) (int, string) { return 200, tt.body })
			c, _ := NewFastClient(srv.target(), DefaultClientOptions())
			defer c.Close()
			snap, err := ReadNodeStats(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			if got := snap.GC(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("snapshot %+v, want %+v", got, tt.want)
			}
			if sent := srv.requests(); len(sent) != 1 || sent[0].Method+" "+sent[0].URI != "GET /_nodes/stats/jvm,process,fs" {
				t.Errorf("sent %v, want one GET /_nodes/stats/jvm,process,fs", sent)
			}
		})
	}
}

func TestReadNodeStatsErrorsNameTheCall(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"http_error", 403, `{"error":"forbidden"}`, "node stats: GET /_nodes/stats/jvm,process,fs: HTTP 403"},
		{"not_json", 200, `<html>`, "node stats: GET /_nodes/stats/jvm,process,fs: invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestES(t, func(r recReq) (int, string) { return tt.status, tt.body })
			c, _ := NewFastClient(srv.target(), DefaultClientOptions())
			defer c.Close()
			_, err := ReadNodeStats(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestGCSince(t *testing.T) {
	g1 := func(yc, yms, oc, oms int64) NodeGC {
		return NodeGC{GCYoung: gcCounts(yc, yms), GCOld: gcCounts(oc, oms)}
	}
	tests := []struct {
		name       string
		start, end GCSnapshot
		want       metrics.GCFigures
	}{
		{"the_race_is_end_less_start_summed_over_nodes",
			GCSnapshot{"n1": g1(10, 100, 1, 50), "n2": g1(20, 200, 0, 0)},
			GCSnapshot{"n1": g1(15, 160, 2, 80), "n2": g1(23, 230, 1, 40)},
			metrics.GCFigures{YoungGCCount: 8, YoungGCTime: 90 * time.Millisecond, OldGCCount: 2, OldGCTime: 70 * time.Millisecond, GCAvailable: true}},
		{"no_collections_during_the_race_still_has_rows",
			GCSnapshot{"n1": g1(10, 100, 1, 50)}, GCSnapshot{"n1": g1(10, 100, 1, 50)},
			metrics.GCFigures{GCAvailable: true}},
		{"a_node_that_joined_during_the_race_is_left_out",
			GCSnapshot{"n1": g1(10, 100, 0, 0)},
			GCSnapshot{"n1": g1(12, 120, 0, 0), "n2": g1(500, 5000, 9, 900)},
			metrics.GCFigures{YoungGCCount: 2, YoungGCTime: 20 * time.Millisecond, GCAvailable: true}},
		{"a_node_that_left_during_the_race_is_left_out",
			GCSnapshot{"n1": g1(10, 100, 0, 0), "n2": g1(3, 30, 0, 0)},
			GCSnapshot{"n1": g1(11, 105, 0, 0)},
			metrics.GCFigures{YoungGCCount: 1, YoungGCTime: 5 * time.Millisecond, GCAvailable: true}},
		{"a_restarted_node_counts_zero_not_negative",
			GCSnapshot{"n1": g1(100, 1000, 4, 400), "n2": g1(1, 10, 0, 0)},
			GCSnapshot{"n1": g1(3, 30, 0, 0), "n2": g1(2, 20, 0, 0)},
			metrics.GCFigures{YoungGCCount: 1, YoungGCTime: 10 * time.Millisecond, GCAvailable: true}},
		{"zgc_has_its_own_rows",
			GCSnapshot{"n1": {GCZGCCycles: gcCounts(4, 532), GCZGCPauses: gcCounts(12, 0)}},
			GCSnapshot{"n1": {GCZGCCycles: gcCounts(9, 1400), GCZGCPauses: gcCounts(27, 2)}},
			metrics.GCFigures{ZGCCyclesCount: 5, ZGCCyclesTime: 868 * time.Millisecond, ZGCPausesCount: 15, ZGCPausesTime: 2 * time.Millisecond, ZGCAvailable: true}},
		{"no_node_at_both_ends_has_no_rows",
			GCSnapshot{"n1": g1(1, 1, 0, 0)}, GCSnapshot{"n2": g1(2, 2, 0, 0)},
			metrics.GCFigures{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GCSince(tt.start, tt.end); got != tt.want {
				t.Errorf("GCSince = %+v, want %+v", got, tt.want)
			}
		})
	}
}
