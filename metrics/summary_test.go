package metrics

import (
	"encoding/json"
	"testing"
	"time"
)

// TestClusterFiguresJSON: the GC figures sit beside the index figures in
// race.json's "cluster" object, and a race.json from before them reads as
// a race without GC rows.
func TestClusterFiguresJSON(t *testing.T) {
	tests := []struct {
		name string
		json string
		want ClusterFigures
	}{
		{"index_figures_only_read_as_no_gc",
			`{"indexing-time-ns":60000000000,"segment-count":4,"available":true}`,
			ClusterFigures{IndexingTime: time.Minute, SegmentCount: 4, Available: true}},
		{"generational_gc_beside_the_index_figures",
			`{"available":true,"young-gc-time-ns":3157000000,"young-gc-count":341,"old-gc-time-ns":0,"old-gc-count":0,"gc-available":true}`,
			ClusterFigures{Available: true, GCFigures: GCFigures{YoungGCTime: 3157 * time.Millisecond, YoungGCCount: 341, GCAvailable: true}}},
		{"zgc_without_generations",
			`{"zgc-cycles-time-ns":532000000,"zgc-cycles-count":4,"zgc-pauses-time-ns":1000000,"zgc-pauses-count":12,"zgc-available":true}`,
			ClusterFigures{GCFigures: GCFigures{ZGCCyclesTime: 532 * time.Millisecond, ZGCCyclesCount: 4,
				ZGCPausesTime: time.Millisecond, ZGCPausesCount: 12, ZGCAvailable: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got ClusterFigures
			if err := json.Unmarshal([]byte(tt.json), &got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("decoded %+v, want %+v", got, tt.want)
			}
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			var flat map[string]any
			if err := json.Unmarshal(b, &flat); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{"available", "gc-available", "young-gc-time-ns", "zgc-available"} {
				if _, ok := flat[key]; !ok {
					t.Errorf("encoded %s has no top-level %q", b, key)
				}
			}
			var back ClusterFigures
			if err := json.Unmarshal(b, &back); err != nil || back != got {
				t.Errorf("round trip %+v (%v), want %+v", back, err, got)
			}
		})
	}
}
