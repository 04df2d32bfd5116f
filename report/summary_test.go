package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"rally/metrics"
)

func TestWriteSummary(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f)+"_matches_golden_file", func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteSummary(&b, fixedRace(), f); err != nil {
				t.Fatal(err)
			}
			golden(t, "summary."+string(f), b.Bytes())
		})
	}
	for _, f := range []Format{Text, Markdown} {
		t.Run(string(f)+"_of_a_race_whose_node_was_killed_matches_golden_file", func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteSummary(&b, nodeKilledRace(), f); err != nil {
				t.Fatal(err)
			}
			golden(t, "summary-node-killed."+string(f), b.Bytes())
		})
	}
	t.Run("json_is_the_race_itself", func(t *testing.T) {
		var b bytes.Buffer
		if err := WriteSummary(&b, fixedRace(), JSON); err != nil {
			t.Fatal(err)
		}
		var got Race
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got, fixedRace()) {
			t.Fatalf("json does not decode to the race:\n%s", b.Bytes())
		}
	})
	r := fixedRace()
	rows := summaryRows(r.Summary, r.Nodes, r.HostTelemetry)
	has := func(metric, task string) bool {
		for _, r := range rows {
			if r.metric == metric && r.task == task {
				return true
			}
		}
		return false
	}
	tests := []struct {
		name         string
		metric, task string
		want         bool
	}{
		{"cluster_rows_come_first_without_task", "Cumulative indexing time of primary shards", "", true},
		{"store_size_is_reported", "Store size", "", true},
		{"every_percentile_of_a_task_with_12000_samples", "99.99th percentile latency", "index-append", true},
		{"processing_time_is_reported", "100th percentile processing time", "index-append", true},
		{"no_99.9th_percentile_of_500_samples", "99.9th percentile service time", "term", false},
		{"99th_percentile_of_500_samples", "99th percentile service time", "term", true},
		{"a_task_without_samples_has_no_throughput", "Min Throughput", "refresh-after-index", false},
		{"a_task_without_samples_still_has_its_error_rate", "error rate", "refresh-after-index", true},
		{"node_rows_carry_the_node_name_as_task", "CPU time", "rally-node-0", true},
		{"node_gc_rows_drop_total", "Young Gen GC time", "rally-node-1", true},
		{"no_disk_row_of_a_node_without_disk_figures", "Disk writes", "rally-node-1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := has(tt.metric, tt.task); got != tt.want {
				t.Fatalf("row %q for task %q present = %v, want %v", tt.metric, tt.task, got, tt.want)
			}
		})
	}
	t.Run("values_and_units_as_rally_prints_them", func(t *testing.T) {
		want := map[string][2]string{ // metric|task -> text, unit
			"Cumulative indexing time of primary shards|": {"12.3", "min"},
			"Store size|": {"1.2", "GB"},
			"Cumulative merge count of primary shards|": {"115", ""},
			"Min Throughput|index-append":               {"1234.5", "docs/s"},
			"Max Throughput|index-append":               {"1.5e+06", "docs/s"},
			"50th percentile latency|term":              {"3.21", "ms"},
			"error rate|term":                           {"1.4", "%"},
			"error rate|index-append":                   {"0", "%"},
			"CPU time|rally-node-0":                     {"594.12", "s"},
			"Average CPU usage|rally-node-0":            {"180.04", "%"},
			"Disk writes|rally-node-0":                  {"12800", "MB"},
			"Disk reads|rally-node-0":                   {"5.25", "MB"},
			"Heap used at end|rally-node-1":             {"1792", "MB"},
			"Max heap|rally-node-1":                     {"4096", "MB"},
			"Young Gen GC count|rally-node-0":           {"190", ""},
		}
		for _, r := range rows {
			if w, ok := want[r.metric+"|"+r.task]; ok {
				if r.value.text != w[0] || r.unit != w[1] {
					t.Errorf("%s | %s: got %q %q, want %q %q", r.metric, r.task, r.value.text, r.unit, w[0], w[1])
				}
				delete(want, r.metric+"|"+r.task)
			}
		}
		for k := range want {
			t.Errorf("row %s missing", k)
		}
	})
	t.Run("csv_keeps_rallys_raw_values", func(t *testing.T) {
		var b bytes.Buffer
		if err := WriteSummary(&b, fixedRace(), CSV); err != nil {
			t.Fatal(err)
		}
		for _, line := range []string{"Metric,Task,Value,Unit\n", "error rate,index-append,0.00,%\n", "Min Throughput,index-append,1234.50,docs/s\n"} {
			if !strings.Contains(b.String(), line) {
				t.Errorf("csv lacks %q:\n%s", line, b.String())
			}
		}
	})
}

// TestClusterRows: each group of cluster rows is shown when its figures
// were read, in Rally's order, names and units.
func TestClusterRows(t *testing.T) {
	index := []string{
		"Cumulative indexing time of primary shards", "Cumulative indexing throttle time of primary shards",
		"Cumulative merge time of primary shards", "Cumulative merge count of primary shards",
		"Cumulative refresh time of primary shards", "Cumulative refresh count of primary shards",
		"Cumulative flush time of primary shards", "Cumulative flush count of primary shards",
	}
	store := []string{"Store size", "Segment count"}
	gen := []string{"Total Young Gen GC time|s|1.5", "Total Young Gen GC count||12", "Total Old Gen GC time|s|0.25", "Total Old Gen GC count||1"}
	zgc := []string{"Total ZGC Cycles GC time|s|2", "Total ZGC Cycles GC count||7", "Total ZGC Pauses GC time|s|0.003", "Total ZGC Pauses GC count||21"}
	gcFigures := metrics.GCFigures{
		YoungGCTime: 1500 * time.Millisecond, YoungGCCount: 12, OldGCTime: 250 * time.Millisecond, OldGCCount: 1,
		ZGCCyclesTime: 2 * time.Second, ZGCCyclesCount: 7, ZGCPausesTime: 3 * time.Millisecond, ZGCPausesCount: 21,
	}
	for _, tc := range []struct {
		name            string
		index, gen, zgc bool
		want            [][]string
	}{
		{"index figures and generational gc", true, true, false, [][]string{index, gen, store}},
		{"index figures and zgc", true, false, true, [][]string{index, zgc, store}},
		{"index figures without gc", true, false, false, [][]string{index, store}},
		{"gc without index figures", false, true, false, [][]string{gen}},
		{"nothing read", false, false, false, nil},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			c := metrics.ClusterFigures{Available: tc.index, GCFigures: gcFigures}
			c.GCAvailable, c.ZGCAvailable = tc.gen, tc.zgc
			var got, want []string
			for _, f := range clusterFigures(c) {
				if strings.HasPrefix(f.metric, "Total ") {
					got = append(got, f.metric+"|"+f.unit+"|"+f.value.text)
				} else {
					got = append(got, f.metric)
				}
			}
			for _, w := range tc.want {
				want = append(want, w...)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestNodeRows: a node's rows follow the cluster's and precede the
// tasks', and show the figures the node reported, a zero included.
func TestNodeRows(t *testing.T) {
	zgc := metrics.GCFigures{ZGCCyclesTime: 2 * time.Second, ZGCCyclesCount: 7, ZGCPausesTime: 3 * time.Millisecond,
		ZGCPausesCount: 21, ZGCAvailable: true}
	tests := []struct {
		name string
		node NodeTelemetry
		want []string
	}{
		{"nothing_read_has_no_rows", NodeTelemetry{Name: "n"}, nil},
		{"zgc_rows", NodeTelemetry{Name: "n", GCFigures: zgc}, []string{
			"ZGC Cycles GC time|s|2", "ZGC Cycles GC count||7", "ZGC Pauses GC time|s|0.003", "ZGC Pauses GC count||21"}},
		{"an_idle_node_shows_zeros", NodeTelemetry{Name: "n", CPUTime: ptr(time.Duration(0)), CPUPercent: ptr(0.0),
			DiskWriteBytes: ptr(int64(0)), DiskReadBytes: ptr(int64(0))}, []string{
			"CPU time|s|0", "Average CPU usage|%|0", "Disk writes|MB|0", "Disk reads|MB|0"}},
		{"cpu_without_a_duration_has_no_average", NodeTelemetry{Name: "n", CPUTime: ptr(90 * time.Second),
			HeapMaxBytes: ptr(int64(31 << 30))}, []string{"CPU time|s|90", "Max heap|MB|31744"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range nodeFigures(tt.node) {
				got = append(got, f.metric+"|"+f.unit+"|"+f.value.text)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	t.Run("between_cluster_and_task_rows", func(t *testing.T) {
		r := fixedRace()
		var tasks []string
		for _, rw := range summaryRows(r.Summary, r.Nodes, r.HostTelemetry) {
			if len(tasks) == 0 || tasks[len(tasks)-1] != rw.task {
				tasks = append(tasks, rw.task)
			}
		}
		// Node-stats rows by node, then each node host's /proc rows: the
		// host's, then its nodes' processes.
		want := []string{"", "rally-node-0", "rally-node-1", "es-1", "rally-node-0", "index-append", "term", "refresh-after-index"}
		if !reflect.DeepEqual(tasks, want) {
			t.Errorf("row groups %q, want %q", tasks, want)
		}
	})
	t.Run("a_race_without_nodes_has_the_rows_it_had", func(t *testing.T) {
		r := fixedRace()
		with := summaryRows(r.Summary, r.Nodes, r.HostTelemetry)
		without := summaryRows(r.Summary, nil, nil)
		// 18 node-stats rows; 6 host and 5 process rows from /proc.
		if len(with)-len(without) != 18+6+5 {
			t.Errorf("%d rows with nodes, %d without: want 18 node and 11 host rows", len(with), len(without))
		}
	})
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{"text", Text, false}, {"Markdown", Markdown, false}, {" csv ", CSV, false}, {"json", JSON, false},
		{"html", "", true}, {"", "", true},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := ParseFormat("html"); err == nil || !strings.Contains(err.Error(), "text, markdown, csv, json") {
		t.Errorf("error does not list the formats: %v", err)
	}
}

func TestTableAlignsDecimalPoints(t *testing.T) {
	tb := table{columns: []column{{header: "Metric"}, {header: "Value", numeric: true}}}
	tb.add(str("a"), num(12.3))
	tb.add(str("bb"), num(1234.5))
	tb.add(str("c"), integer(7))
	tb.add(str("d"), num(0.00176667))
	var b bytes.Buffer
	if err := tb.writeText(&b); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"Metric          Value\n" +
		"------  -------------\n" +
		"a         12.3\n" +
		"bb      1234.5\n" +
		"c          7\n" +
		"d          0.00176667\n"
	if b.String() != want {
		t.Fatalf("text table:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := tb.writeMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	wantMD := "" +
		"|   Metric |         Value |\n" +
		"|---------:|--------------:|\n" +
		"|        a |   12.3        |\n" +
		"|       bb | 1234.5        |\n" +
		"|        c |    7          |\n" +
		"|        d |    0.00176667 |\n"
	if b.String() != wantMD {
		t.Fatalf("markdown table:\n%s\nwant:\n%s", b.String(), wantMD)
	}
}

// TestWriteSummaryNamesLostHostsAndGaps: a race that lost a load driver
// or misses metric deltas says so under the table, in text and markdown;
// CSV keeps the table alone.
func TestWriteSummaryNamesLostHostsAndGaps(t *testing.T) {
	r := fixedRace()
	r.LostHosts = []LostHost{{Host: "h3", At: r.Created, Step: 0, Reason: "lost: connection closed",
		Clients: map[string][]int{"search": {2}}, LastDelta: map[string]uint64{"search": 6}}}
	r.Gaps = []Gap{{Host: "h2", Task: "search", Missing: []uint64{3, 4, 5, 6, 7, 8, 9}}}
	r.Incomplete = true
	for _, f := range []Format{Text, Markdown} {
		var b strings.Builder
		if err := WriteSummary(&b, r, f); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"load driver h3 was lost", "step 0", "its 1 client(s) stopped",
			"INCOMPLETE: 7 metrics delta(s) of task search from h2", "3, 4, 5, 6, 7, … 2 more"} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("%s: no %q in\n%s", f, want, b.String())
			}
		}
	}
	var b strings.Builder
	if err := WriteSummary(&b, r, CSV); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "INCOMPLETE") {
		t.Errorf("csv has notes:\n%s", b.String())
	}
}

// TestErrorsInTheReport: a race with failures says, under the table, which
// task failed how often, why and since when, keeps the failures out of the
// success percentiles, and ends with a warning naming the tasks.
func TestErrorsInTheReport(t *testing.T) {
	r := nodeKilledRace()
	rows := summaryRows(r.Summary, nil, nil)
	metricsOf := func(task string) []string {
		var m []string
		for _, rw := range rows {
			if rw.task == task {
				m = append(m, rw.metric)
			}
		}
		return m
	}
	t.Run("success_percentiles_count_successes_only", func(t *testing.T) {
		// 11804 requests, 2234 failed: neither the 9570 successes nor
		// the 2234 failures are enough for a 99.99th percentile.
		m := metricsOf("search-match-all")
		for _, want := range []string{"99.9th percentile latency", "50th percentile error service time", "99.9th percentile error service time", "100th percentile error service time"} {
			if !slices.Contains(m, want) {
				t.Errorf("no row %q in %q", want, m)
			}
		}
		for _, not := range []string{"99.99th percentile latency", "99.99th percentile error service time"} {
			if slices.Contains(m, not) {
				t.Errorf("row %q in %q", not, m)
			}
		}
	})
	t.Run("a_task_that_only_failed_has_no_success_percentiles", func(t *testing.T) {
		m := metricsOf("search-term")
		want := []string{"Min Throughput", "Mean Throughput", "Median Throughput", "Max Throughput",
			"50th percentile error service time", "90th percentile error service time", "99th percentile error service time",
			"99.9th percentile error service time", "99.99th percentile error service time", "100th percentile error service time", "error rate"}
		if !reflect.DeepEqual(m, want) {
			t.Errorf("rows %q, want %q", m, want)
		}
	})
	for _, f := range []Format{Text, Markdown} {
		t.Run(string(f)+"_names_cause_and_start_and_ends_with_a_warning", func(t *testing.T) {
			var b strings.Builder
			if err := WriteSummary(&b, r, f); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, want := range []string{
				"search-match-all: 2,233 requests failed (connection) from 13:48:50 UTC (4.1 s in) until the end",
				"search-match-all: 1 request failed (timeout) at 13:48:51 UTC (5.0 s in)",
				"search-term: 26,560 requests failed (connection) from 13:48:56 UTC (0.0 s in) until the end",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("no %q in\n%s", want, out)
				}
			}
			last := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
			if !strings.Contains(last, "Warning:") || !strings.Contains(last, "2 tasks had errors: search-match-all (2,234 of 11,804 requests, 18.93%), search-term (26,560 of 26,560 requests, 100%)") {
				t.Errorf("report does not end with the warning: last line %q", last)
			}
		})
	}
	t.Run("a_race_without_errors_has_neither", func(t *testing.T) {
		r := fixedRace()
		r.Summary.Tasks[1].Errors, r.Summary.Tasks[1].ErrorsByType, r.Summary.Tasks[1].ErrorTimes = 0, nil, nil
		var b strings.Builder
		if err := WriteSummary(&b, r, Text); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "Errors") || strings.Contains(b.String(), "Warning") {
			t.Errorf("error notes without errors:\n%s", b.String())
		}
	})
	t.Run("errors_of_a_race_stored_without_times_still_count", func(t *testing.T) {
		ts := r.Summary.Tasks[0]
		ts.ErrorTimes = nil
		if got := errorLine(ts, "connection"); got != "search-match-all: 2,233 requests failed (connection)" {
			t.Errorf("line %q", got)
		}
	})
	t.Run("an_error_type_that_stopped_is_named_with_its_end", func(t *testing.T) {
		got := errorLine(fixedRace().Summary.Tasks[1], "http-429")
		if want := "term: 5 requests failed (http-429) from 10:20:14 UTC (2.0 s in) to 10:20:19 UTC"; got != want {
			t.Errorf("line %q, want %q", got, want)
		}
	})
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -12345: "-12,345"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
