package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestWriteComparison(t *testing.T) {
	c := Compare(fixedRace(), contenderRace())
	for _, f := range Formats {
		t.Run(string(f)+"_matches_golden_file", func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteComparison(&b, c, f); err != nil {
				t.Fatal(err)
			}
			golden(t, "compare."+string(f), b.Bytes())
		})
	}
	t.Run("json_rows_decode_and_render_the_same", func(t *testing.T) {
		var b bytes.Buffer
		if err := WriteComparison(&b, c, JSON); err != nil {
			t.Fatal(err)
		}
		var back Comparison
		if err := json.Unmarshal(b.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		if len(back.Rows) != len(c.Rows) || back.Rows[0].Metric != c.Rows[0].Metric {
			t.Fatalf("decoded %d rows, want %d", len(back.Rows), len(c.Rows))
		}
		var csv bytes.Buffer
		if err := WriteComparison(&csv, back, CSV); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(csv.String(), "Min Throughput,index-append,1234.5,1300,") {
			t.Fatalf("decoded comparison renders wrongly:\n%s", csv.String())
		}
	})
}

func TestCompare(t *testing.T) {
	c := Compare(fixedRace(), contenderRace())
	find := func(metric, task string) ComparisonRow {
		t.Helper()
		for _, r := range c.Rows {
			if r.Metric == metric && r.Task == task {
				return r
			}
		}
		t.Fatalf("no row %q for task %q", metric, task)
		return ComparisonRow{}
	}
	tests := []struct {
		name              string
		metric, task      string
		wantBetter        Better
		wantChange        Change
		wantDiff, wantPct float64
	}{
		{"more_throughput_is_better", "Median Throughput", "index-append", HigherIsBetter, Improved, 106000 - 102003.456, (106000 - 102003.456) / 102003.456 * 100},
		{"equal_throughput_is_unchanged", "Max Throughput", "index-append", HigherIsBetter, Unchanged, 0, 0},
		{"lower_latency_is_better", "50th percentile latency", "index-append", LowerIsBetter, Improved, 230 - 243.812, (230 - 243.812) / 243.812 * 100},
		{"higher_latency_is_worse", "99th percentile latency", "term", LowerIsBetter, Regressed, 10.2 - 9.876, (10.2 - 9.876) / 9.876 * 100},
		{"fewer_errors_are_better", "error rate", "term", LowerIsBetter, Improved, -1.4, -100},
		{"less_indexing_time_is_better", "Cumulative indexing time of primary shards", "", LowerIsBetter, Improved, 11 - 12.3, (11 - 12.3) / 12.3 * 100},
		{"more_segments_are_worse", "Segment count", "", LowerIsBetter, Regressed, 3, 3.0 / 87 * 100},
		{"zero_baseline_gives_zero_percent", "Cumulative indexing throttle time of primary shards", "", LowerIsBetter, Unchanged, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := find(tt.metric, tt.task)
			if r.Better != tt.wantBetter || r.Change != tt.wantChange {
				t.Errorf("better %q change %q, want %q %q", r.Better, r.Change, tt.wantBetter, tt.wantChange)
			}
			if !near(r.Diff, tt.wantDiff) || !near(r.DiffPercent, tt.wantPct) {
				t.Errorf("diff %v (%v%%), want %v (%v%%)", r.Diff, r.DiffPercent, tt.wantDiff, tt.wantPct)
			}
		})
	}
	t.Run("tasks_in_one_race_only_are_listed_not_compared", func(t *testing.T) {
		if !reflect.DeepEqual(c.OnlyInBaseline, []string{"refresh-after-index"}) || !reflect.DeepEqual(c.OnlyInContender, []string{"force-merge"}) {
			t.Fatalf("only in baseline %v, only in contender %v", c.OnlyInBaseline, c.OnlyInContender)
		}
		for _, r := range c.Rows {
			if r.Task == "refresh-after-index" || r.Task == "force-merge" {
				t.Fatalf("row for a task of one race only: %+v", r)
			}
		}
	})
	t.Run("percentiles_need_enough_samples_in_both_races", func(t *testing.T) {
		for _, r := range c.Rows {
			if r.Task == "term" && strings.HasPrefix(r.Metric, "99.9th") {
				t.Fatalf("compared %q of a task with 500 samples", r.Metric)
			}
		}
	})
	t.Run("cluster_rows_only_where_both_races_have_them", func(t *testing.T) {
		gcRow := func(metric string) bool { return strings.HasPrefix(metric, "Total ") }
		for _, tc := range []struct {
			name              string
			index, gc         bool
			wantIndex, wantGC bool
		}{
			{"both groups", true, true, true, true},
			{"index figures only", true, false, true, false},
			{"gc figures only", false, true, false, true},
			{"neither", false, false, false, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := fixedRace()
				b.Summary.Cluster.Available, b.Summary.Cluster.GCAvailable = tc.index, tc.gc
				var gotIndex, gotGC bool
				for _, r := range Compare(b, contenderRace()).Rows {
					if r.Task != "" {
						continue
					}
					if gcRow(r.Metric) {
						gotGC = true
					} else {
						gotIndex = true
					}
				}
				if gotIndex != tc.wantIndex || gotGC != tc.wantGC {
					t.Fatalf("index rows %v, gc rows %v; want %v, %v", gotIndex, gotGC, tc.wantIndex, tc.wantGC)
				}
			})
		}
	})
}

func near(a, b float64) bool {
	d := a - b
	return d < 1e-9 && d > -1e-9
}

func TestSigned(t *testing.T) {
	tests := []struct {
		v    float64
		prec int
		want string
	}{
		{3.21, 2, "+3.21"}, {-3.21, 2, "-3.21"}, {0, 2, "0.00"}, {-0.001, 2, "0.00"}, {0.004, 2, "0.00"}, {0.005001, 2, "+0.01"},
	}
	for _, tt := range tests {
		if got := signed(tt.v, tt.prec, ""); got != tt.want {
			t.Errorf("signed(%v, %d) = %q, want %q", tt.v, tt.prec, got, tt.want)
		}
	}
}

// TestCompareNodes: a node's figures are compared when both races had a
// node of that name and both read the figure.
func TestCompareNodes(t *testing.T) {
	b, c := fixedRace(), contenderRace()
	c.Nodes = append(c.Nodes, NodeTelemetry{Name: "rally-node-2", CPUTime: ptr(time.Minute)})
	b.Nodes[0].Name = "renamed"
	cmp := Compare(b, c)
	rows := map[string]ComparisonRow{}
	for _, r := range cmp.Rows {
		rows[r.Metric+"|"+r.Task] = r
	}
	if _, ok := rows["CPU time|rally-node-0"]; ok {
		t.Error("a node only the contender had (by name) is compared")
	}
	if _, ok := rows["CPU time|rally-node-2"]; ok {
		t.Error("a node the baseline did not have is compared")
	}
	if _, ok := rows["Max heap|rally-node-1"]; ok {
		t.Error("a figure the contender did not read is compared")
	}
	r, ok := rows["Heap used at end|rally-node-1"]
	if !ok || r.Baseline != 1792 || r.Unit != "MB" || r.Better != LowerIsBetter || r.Change != Unchanged {
		t.Errorf("heap row %+v (found %v)", r, ok)
	}
	for _, task := range append(cmp.OnlyInBaseline, cmp.OnlyInContender...) {
		if strings.HasPrefix(task, "rally-node") || task == "renamed" {
			t.Errorf("node %s listed as a task only one race ran", task)
		}
	}
}
