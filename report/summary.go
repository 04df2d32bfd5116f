package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"rally/metrics"
	"rally/telemetry"
)

// row is one line of Rally's summary report: Metric | Task | Value | Unit.
type row struct {
	metric, task string
	value        cell
	unit         string
}

// summaryRows returns Rally's summary report rows for s: the cumulative
// cluster figures the target reported, each node's figures (the node's
// name in the Task column), then per task throughput, latency, service
// time and processing time percentiles (of the successful requests), the
// failed requests' service time percentiles, the schedule lag percentiles
// of a throttled task, and error rate.
func summaryRows(s metrics.Summary, nodes []NodeTelemetry, hosts map[string]telemetry.Summary) []row {
	var rows []row
	for _, f := range clusterFigures(s.Cluster) {
		rows = append(rows, row{f.metric, "", f.value, f.unit})
	}
	for _, n := range nodes {
		for _, f := range nodeFigures(n) {
			rows = append(rows, row{f.metric, n.Name, f.value, f.unit})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(hosts)) {
		h := hosts[name]
		for _, f := range hostFigures(h.Host) {
			rows = append(rows, row{f.metric, name, f.value, f.unit})
		}
		for _, target := range slices.Sorted(maps.Keys(h.Targets)) {
			for _, f := range processFigures(h.Targets[target]) {
				rows = append(rows, row{f.metric, target, f.value, f.unit})
			}
		}
	}
	for _, t := range s.Tasks {
		rows = append(rows, taskRows(t)...)
	}
	return rows
}

// figure is one cluster or node row with the number compare diffs.
type figure struct {
	metric string
	value  cell
	v      float64
	unit   string
}

func minutes(metric string, d time.Duration) figure {
	return figure{metric, num(d.Minutes()), d.Minutes(), "min"}
}

func seconds(metric string, d time.Duration) figure {
	return figure{metric, num(d.Seconds()), d.Seconds(), "s"}
}

func count(metric string, n int64) figure {
	return figure{metric, integer(n), float64(n), ""}
}

// megabytes is a size in MB of 1024² bytes (Rally's GB are 1024³ bytes).
func megabytes(metric string, bytes int64) figure {
	mb := float64(bytes) / (1 << 20)
	return figure{metric, num(mb), mb, "MB"}
}

// clusterFigures are Rally's cumulative rows for what ClusterFigures holds,
// in Rally's order and units (times in minutes, GC times in seconds, store
// size in GB of 1024³ bytes): the index figures when the target reported
// them, with the garbage collection rows between the flush rows and the
// store size as in Rally's report. DocCount has no row in Rally's report
// and none here.
func clusterFigures(c metrics.ClusterFigures) []figure {
	var figs []figure
	if c.Available {
		figs = append(figs,
			minutes("Cumulative indexing time of primary shards", c.IndexingTime),
			minutes("Cumulative indexing throttle time of primary shards", c.IndexingThrottle),
			minutes("Cumulative merge time of primary shards", c.MergeTime),
			count("Cumulative merge count of primary shards", c.MergeCount),
			minutes("Cumulative refresh time of primary shards", c.RefreshTime),
			count("Cumulative refresh count of primary shards", c.RefreshCount),
			minutes("Cumulative flush time of primary shards", c.FlushTime),
			count("Cumulative flush count of primary shards", c.FlushCount),
		)
	}
	figs = append(figs, gcFigures("Total ", c.GCFigures)...)
	if c.Available {
		gb := float64(c.StoreSizeBytes) / (1 << 30)
		figs = append(figs,
			figure{"Store size", num(gb), gb, "GB"},
			count("Segment count", c.SegmentCount),
		)
	}
	return figs
}

// gcFigures are the garbage collection rows of the groups that were read,
// their names starting with prefix ("Total " for the cluster's sums).
func gcFigures(prefix string, g metrics.GCFigures) []figure {
	var figs []figure
	if g.GCAvailable {
		figs = append(figs,
			seconds(prefix+"Young Gen GC time", g.YoungGCTime),
			count(prefix+"Young Gen GC count", g.YoungGCCount),
			seconds(prefix+"Old Gen GC time", g.OldGCTime),
			count(prefix+"Old Gen GC count", g.OldGCCount),
		)
	}
	if g.ZGCAvailable {
		figs = append(figs,
			seconds(prefix+"ZGC Cycles GC time", g.ZGCCyclesTime),
			count(prefix+"ZGC Cycles GC count", g.ZGCCyclesCount),
			seconds(prefix+"ZGC Pauses GC time", g.ZGCPausesTime),
			count(prefix+"ZGC Pauses GC count", g.ZGCPausesCount),
		)
	}
	return figs
}

// nodeFigures are one node's rows, those of the figures it reported: its
// garbage collection named as the cluster's rows without "Total", CPU
// time in seconds and its average use in percent of one core, disk
// traffic and heap in MB.
func nodeFigures(n NodeTelemetry) []figure {
	figs := gcFigures("", n.GCFigures)
	if n.CPUTime != nil {
		figs = append(figs, seconds("CPU time", *n.CPUTime))
	}
	if n.CPUPercent != nil {
		p := finite(*n.CPUPercent)
		figs = append(figs, figure{"Average CPU usage", fixed2(p), p, "%"})
	}
	if n.DiskWriteBytes != nil {
		figs = append(figs, megabytes("Disk writes", *n.DiskWriteBytes))
	}
	if n.DiskReadBytes != nil {
		figs = append(figs, megabytes("Disk reads", *n.DiskReadBytes))
	}
	if n.HeapUsedBytes != nil {
		figs = append(figs, megabytes("Heap used at end", *n.HeapUsedBytes))
	}
	if n.HeapMaxBytes != nil {
		figs = append(figs, megabytes("Max heap", *n.HeapMaxBytes))
	}
	return figs
}

// hostFigures are a node host's rows, sampled from its /proc during the
// race (the host's name in the Task column).
func hostFigures(h telemetry.HostSummary) []figure {
	if h.Samples == 0 {
		return nil
	}
	busy := finite(h.CPUBusyMean)
	return []figure{
		{"Host CPU usage", fixed2(busy), busy, "%"},
		megabytes("Host min available memory", int64(h.MemoryAvailableMin)),
		megabytes("Host disk writes", int64(h.DiskWrite)),
		megabytes("Host disk reads", int64(h.DiskRead)),
		megabytes("Host network received", int64(h.NetworkRx)),
		megabytes("Host network sent", int64(h.NetworkTx)),
	}
}

// processFigures are a node's processes' rows, sampled from /proc (the
// node's name in the Task column): what the node cost its host, as the
// operating system saw it.
func processFigures(t telemetry.TargetSummary) []figure {
	if t.Samples == 0 {
		return nil
	}
	cpu := finite(t.CPUMean)
	figs := []figure{
		{"Process CPU usage", fixed2(cpu), cpu, "%"},
		megabytes("Process max RSS", int64(t.RSSMax)),
		count("Process max threads", int64(t.ThreadsMax)),
	}
	if t.WriteBytes != nil {
		figs = append(figs, megabytes("Process disk writes", int64(*t.WriteBytes)))
	}
	if t.ReadBytes != nil {
		figs = append(figs, megabytes("Process disk reads", int64(*t.ReadBytes)))
	}
	return figs
}

// percentileKinds are the timing kinds of a task's successful requests, in
// report order, with the name Rally gives them ("50th percentile service
// time").
var percentileKinds = []struct {
	name string
	of   func(t metrics.TaskSummary) map[string]float64
}{
	{"latency", func(t metrics.TaskSummary) map[string]float64 { return t.Latency }},
	{"service time", func(t metrics.TaskSummary) map[string]float64 { return t.ServiceTime }},
	{"processing time", func(t metrics.TaskSummary) map[string]float64 { return t.ProcessingTime }},
}

// percentilesFor returns the percentiles worth reporting for n samples, as
// Rally decides: a 99.99th percentile of 500 samples is just the maximum.
func percentilesFor(n int64) []float64 {
	switch {
	case n < 1:
		return nil
	case n == 1:
		return []float64{100}
	case n < 10:
		return []float64{50, 100}
	case n < 100:
		return []float64{50, 90, 100}
	case n < 1000:
		return []float64{50, 90, 99, 100}
	case n < 10000:
		return []float64{50, 90, 99, 99.9, 100}
	}
	return metrics.Percentiles
}

// percentileMetric is the row name of a percentile: "99.9th percentile latency".
func percentileMetric(p float64, kind string) string {
	return metrics.PercentileKey(p) + "th percentile " + kind
}

// errorServiceTime names the service time percentiles of failed requests
// ("50th percentile error service time"); they follow the successful
// requests' percentiles, which leave failures out.
const errorServiceTime = "error service time"

// scheduleLag names the percentiles of how late the load drivers started a
// throttled task's requests ("99th percentile schedule lag"), failed ones
// included: the driver's own lateness, which latency holds and service
// time does not.
const scheduleLag = "schedule lag"

// taskRows returns one task's rows. A task without measurement samples has
// only its error rate (Rally prints no throughput or percentiles for it); a
// task whose requests all failed has no latency, service time or
// processing time rows, only its failures' service time.
func taskRows(t metrics.TaskSummary) []row {
	var rows []row
	if t.Requests > 0 {
		for _, th := range []struct {
			metric string
			v      float64
		}{
			{"Min Throughput", t.Throughput.Min},
			{"Mean Throughput", t.Throughput.Mean},
			{"Median Throughput", t.Throughput.Median},
			{"Max Throughput", t.Throughput.Max},
		} {
			rows = append(rows, row{th.metric, t.Task, fixed2(th.v), t.ThroughputUnit})
		}
		for _, kind := range percentileKinds {
			values := kind.of(t)
			for _, p := range percentilesFor(t.Requests - t.Errors) {
				if v, ok := values[metrics.PercentileKey(p)]; ok {
					rows = append(rows, row{percentileMetric(p, kind.name), t.Task, num(v), "ms"})
				}
			}
		}
		for _, p := range percentilesFor(t.Errors) {
			if v, ok := t.ErrorServiceTime[metrics.PercentileKey(p)]; ok {
				rows = append(rows, row{percentileMetric(p, errorServiceTime), t.Task, num(v), "ms"})
			}
		}
		for _, p := range percentilesFor(t.Requests) {
			if v, ok := t.ScheduleLag[metrics.PercentileKey(p)]; ok {
				rows = append(rows, row{percentileMetric(p, scheduleLag), t.Task, num(v), "ms"})
			}
		}
	}
	rows = append(rows, row{"error rate", t.Task, fixed2(finite(t.ErrorRate) * 100), "%"})
	return rows
}

// WriteSummary writes the summary report of r in format f: Rally's rows
// (Metric | Task | Value | Unit) for text, markdown and csv, and the Race
// itself, indented, for json.
func WriteSummary(w io.Writer, r *Race, f Format) error {
	if f == JSON {
		return writeJSON(w, r)
	}
	t := table{columns: []column{{header: "Metric"}, {header: "Task"}, {header: "Value", numeric: true}, {header: "Unit"}}}
	for _, rw := range summaryRows(r.Summary, r.Nodes, r.HostTelemetry) {
		t.add(str(rw.metric), str(rw.task), rw.value, str(rw.unit))
	}
	if err := t.write(w, f); err != nil {
		return fmt.Errorf("write summary of race %s: %w", r.ID, err)
	}
	if f == CSV {
		return nil // a CSV holds the table alone; race.json has the rest
	}
	for _, write := range []func(io.Writer, *Race, Format) error{writeErrors, writeIntegrity, writeSaturation, writeErrorWarning} {
		if err := write(w, r, f); err != nil {
			return fmt.Errorf("write summary of race %s: %w", r.ID, err)
		}
	}
	return nil
}

// errorClock is the time zone the error lines print times in: the
// reader's own, so that they match the clock the reader watched (tests pin
// it).
var errorClock = time.Local

// writeErrors names, under the table, each task's failures by type: how
// many, and when the first and the last happened. A benchmark whose
// target died reads as fast and failed, not as fast.
func writeErrors(w io.Writer, r *Race, f Format) error {
	var lines []string
	for _, t := range r.Summary.Tasks {
		for _, typ := range errorTypes(t) {
			lines = append(lines, errorLine(t, typ))
		}
	}
	if len(lines) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("\nErrors (the percentiles above are of successful requests only):\n")
	if f == Markdown {
		b.WriteString("\n")
	}
	for _, l := range lines {
		b.WriteString(bullet(f) + l + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func bullet(f Format) string {
	if f == Markdown {
		return "- "
	}
	return "  "
}

// errorTypes are a task's error types, the most frequent first.
func errorTypes(t metrics.TaskSummary) []string {
	types := slices.Collect(maps.Keys(t.ErrorsByType))
	slices.SortFunc(types, func(a, b string) int {
		if c := cmp.Compare(t.ErrorsByType[b], t.ErrorsByType[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return types
}

// errorLine is one task's failures of one type, e.g. "search: 1,234
// requests failed (connection) from 13:48:50 CET (4.1 s in) until the
// end": until the end when the task's last response was one of them.
func errorLine(t metrics.TaskSummary, typ string) string {
	n := t.ErrorsByType[typ]
	noun := "requests"
	if n == 1 {
		noun = "request"
	}
	s := fmt.Sprintf("%s: %s %s failed (%s)", t.Task, thousands(n), noun, typ)
	sp, ok := t.ErrorTimes[typ]
	if !ok || sp.First.IsZero() { // a race stored before error times were kept
		return s
	}
	first := clock(sp.First)
	if !t.Start.IsZero() {
		first += fmt.Sprintf(" (%s s in)", strconv.FormatFloat(sp.First.Sub(t.Start).Seconds(), 'f', 1, 64))
	}
	switch {
	case !t.End.IsZero() && !sp.Last.Before(t.End):
		return s + " from " + first + " until the end"
	case sp.Last.Equal(sp.First):
		return s + " at " + first
	}
	return s + " from " + first + " to " + clock(sp.Last)
}

func clock(t time.Time) string { return t.In(errorClock).Format("15:04:05 MST") }

// thousands is n with a comma every three digits: "1,234".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// writeErrorWarning ends the report with the tasks that had errors, as
// esrally's WARNING block does: whatever was read above, a race with
// failures is not a clean result.
func writeErrorWarning(w io.Writer, r *Race, f Format) error {
	var tasks []string
	for _, t := range r.Summary.Tasks {
		if t.Errors == 0 {
			continue
		}
		tasks = append(tasks, fmt.Sprintf("%s (%s of %s requests, %s%%)", t.Task, thousands(t.Errors), thousands(t.Requests),
			fixed2(finite(t.ErrorRate)*100).text))
	}
	if len(tasks) == 0 {
		return nil
	}
	what := "tasks"
	if len(tasks) == 1 {
		what = "task"
	}
	head := "Warning:"
	if f == Markdown {
		head = "**Warning:**"
	}
	_, err := fmt.Fprintf(w, "\n%s %d %s had errors: %s\n", head, len(tasks), what, strings.Join(tasks, ", "))
	return err
}

// writeIntegrity names, under the table, what a reader must know before
// trusting it: load drivers lost during the race and metric deltas that
// never arrived.
func writeIntegrity(w io.Writer, r *Race, f Format) error {
	if len(r.LostHosts) == 0 && len(r.Gaps) == 0 {
		return nil
	}
	bullet := bullet(f)
	var b strings.Builder
	b.WriteString("\n")
	for _, l := range r.LostHosts {
		fmt.Fprintf(&b, "%sload driver %s was lost at %s in step %d (%s)", bullet, l.Host, l.At.Format(time.RFC3339), l.Step, l.Reason)
		if n := clientCount(l.Clients); n > 0 {
			fmt.Fprintf(&b, "; its %d client(s) stopped there, what they measured until their last delta is included", n)
		}
		b.WriteString("\n")
	}
	for _, g := range r.Gaps {
		fmt.Fprintf(&b, "%sINCOMPLETE: %d metrics delta(s) of task %s from %s never arrived (sequence %s)\n",
			bullet, len(g.Missing), g.Task, g.Host, seqList(g.Missing))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func clientCount(m map[string][]int) int {
	n := 0
	for _, c := range m {
		n += len(c)
	}
	return n
}

// seqList is "3, 4, 9" or, when long, its first numbers and a count.
func seqList(s []uint64) string {
	var parts []string
	for i, n := range s {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("… %d more", len(s)-5))
			break
		}
		parts = append(parts, strconv.FormatUint(n, 10))
	}
	return strings.Join(parts, ", ")
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
