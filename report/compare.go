package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"rally/metrics"
)

// Better says which way a metric improves.
type Better string

// Directions of improvement: throughput is better higher, everything else
// (times, counts, sizes, error rate) lower, as in Rally's compare.
const (
	HigherIsBetter Better = "higher"
	LowerIsBetter  Better = "lower"
)

// Change is the verdict on one compared metric.
type Change string

// Verdicts. A difference that rounds to zero at the printed precision is
// Unchanged.
const (
	Unchanged Change = ""
	Improved  Change = "better"
	Regressed Change = "worse"
)

// RaceRef identifies a compared race.
type RaceRef struct {
	ID                  string            `json:"id"`
	Created             time.Time         `json:"created"`
	Track               string            `json:"track"`
	Challenge           string            `json:"challenge"`
	Distribution        string            `json:"distribution,omitempty"`
	DistributionVersion string            `json:"distribution-version,omitempty"`
	UserTags            map[string]string `json:"user-tags,omitempty"`
}

// ComparisonRow is one metric of one task (or of the cluster, Task "", or
// of a node, Task the node's name, as in the summary report) in both
// races.
type ComparisonRow struct {
	Metric    string  `json:"metric"`
	Task      string  `json:"task"`
	Baseline  float64 `json:"baseline"`
	Contender float64 `json:"contender"`
	// Diff is Contender - Baseline; DiffPercent is Diff relative to
	// Baseline in percent (0 when Baseline is 0, as in Rally).
	Diff        float64 `json:"diff"`
	DiffPercent float64 `json:"diff-percent"`
	Unit        string  `json:"unit"`
	Better      Better  `json:"better"`
	Change      Change  `json:"change"`

	// cells keep the summary's formatting of the values for the tables.
	baseline, contender cell
}

// Comparison is `rally compare`: every metric both races have, plus the
// tasks only one of them ran.
type Comparison struct {
	Baseline  RaceRef         `json:"baseline"`
	Contender RaceRef         `json:"contender"`
	Rows      []ComparisonRow `json:"rows"`
	// OnlyInBaseline and OnlyInContender are the tasks the other race did
	// not run (or did not report); they have no rows.
	OnlyInBaseline  []string `json:"only-in-baseline"`
	OnlyInContender []string `json:"only-in-contender"`
}

func refOf(r *Race) RaceRef {
	return RaceRef{ID: r.ID, Created: r.Created, Track: r.Track, Challenge: r.Challenge,
		Distribution: r.Distribution, DistributionVersion: r.DistributionVersion, UserTags: r.UserTags}
}

// Compare diffs contender against baseline metric by metric, in the
// baseline's order: the cluster figures when both races have them, the
// figures of each node both races had, then per task the rows of the
// summary report that both races have.
func Compare(baseline, contender *Race) Comparison {
	c := Comparison{Baseline: refOf(baseline), Contender: refOf(contender),
		OnlyInBaseline: []string{}, OnlyInContender: []string{}}
	c.Rows = append(c.Rows, compareFigures("",
		clusterFigures(baseline.Summary.Cluster), clusterFigures(contender.Summary.Cluster))...)
	// A node is compared when both races had a node of its name (against
	// the same cluster; the nodes of a from-distribution race are named
	// after the race).
	contenderNodes := map[string]NodeTelemetry{}
	for _, n := range contender.Nodes {
		contenderNodes[n.Name] = n
	}
	for _, bn := range baseline.Nodes {
		if cn, ok := contenderNodes[bn.Name]; ok {
			c.Rows = append(c.Rows, compareFigures(bn.Name, nodeFigures(bn), nodeFigures(cn))...)
		}
	}
	contenderTasks := map[string]metrics.TaskSummary{}
	for _, t := range contender.Summary.Tasks {
		contenderTasks[t.Task] = t
	}
	baselineTasks := map[string]bool{}
	for _, b := range baseline.Summary.Tasks {
		baselineTasks[b.Task] = true
		ct, ok := contenderTasks[b.Task]
		if !ok {
			c.OnlyInBaseline = append(c.OnlyInBaseline, b.Task)
			continue
		}
		c.Rows = append(c.Rows, compareTask(b, ct)...)
	}
	for _, t := range contender.Summary.Tasks {
		if !baselineTasks[t.Task] {
			c.OnlyInContender = append(c.OnlyInContender, t.Task)
		}
	}
	if c.Rows == nil {
		c.Rows = []ComparisonRow{}
	}
	return c
}

// compareFigures compares the cluster's figures (task "") or a node's
// (task is its name). A row is compared when both races have it: the
// index and the GC figures are read apart, so either group may be missing
// from one, and a node may lack a figure in one race.
func compareFigures(task string, baseline, contender []figure) []ComparisonRow {
	byMetric := map[string]figure{}
	for _, f := range contender {
		byMetric[f.metric] = f
	}
	var rows []ComparisonRow
	for _, bf := range baseline {
		if cf, ok := byMetric[bf.metric]; ok {
			rows = append(rows, newRow(bf.metric, task, bf.unit, bf.v, cf.v, LowerIsBetter, bf.value, cf.value))
		}
	}
	return rows
}

func compareTask(b, c metrics.TaskSummary) []ComparisonRow {
	var rows []ComparisonRow
	if b.Requests > 0 && c.Requests > 0 {
		for _, th := range []struct {
			metric string
			b, c   float64
		}{
			{"Min Throughput", b.Throughput.Min, c.Throughput.Min},
			{"Mean Throughput", b.Throughput.Mean, c.Throughput.Mean},
			{"Median Throughput", b.Throughput.Median, c.Throughput.Median},
			{"Max Throughput", b.Throughput.Max, c.Throughput.Max},
		} {
			rows = append(rows, newRow(th.metric, b.Task, b.ThroughputUnit, th.b, th.c, HigherIsBetter, fixed2(th.b), fixed2(th.c)))
		}
		// A percentile is compared when both races had samples enough to
		// report it.
		shared := percentilesFor(min(b.Requests, c.Requests))
		for _, kind := range percentileKinds {
			bv, cv := kind.of(b), kind.of(c)
			for _, p := range shared {
				key := metrics.PercentileKey(p)
				x, okb := bv[key]
				y, okc := cv[key]
				if okb && okc {
					rows = append(rows, newRow(percentileMetric(p, kind.name), b.Task, "ms", x, y, LowerIsBetter, num(x), num(y)))
				}
			}
		}
	}
	be, ce := finite(b.ErrorRate)*100, finite(c.ErrorRate)*100
	rows = append(rows, newRow("error rate", b.Task, "%", be, ce, LowerIsBetter, fixed2(be), fixed2(ce)))
	return rows
}

// Diffs smaller than these print as zero and count as unchanged, as in
// Rally (5 decimals for the difference, 2 for the percentage).
const (
	diffPrecision    = 5
	percentPrecision = 2
)

func newRow(metric, task, unit string, b, c float64, better Better, bc, cc cell) ComparisonRow {
	r := ComparisonRow{Metric: metric, Task: task, Unit: unit, Baseline: b, Contender: c,
		Diff: c - b, Better: better, baseline: bc, contender: cc}
	if b != 0 {
		r.DiffPercent = finite((c - b) / b * 100)
	}
	if rounded(r.Diff, diffPrecision) != 0 {
		if (r.Diff > 0) == (better == HigherIsBetter) {
			r.Change = Improved
		} else {
			r.Change = Regressed
		}
	}
	return r
}

// rounded returns v as printed with prec decimals, parsed back.
func rounded(v float64, prec int) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', prec, 64), 64)
	return f
}

// signed formats v with prec decimals and a '+' for positive values; a
// value that rounds to zero prints without sign.
func signed(v float64, prec int, suffix string) string {
	r := rounded(v, prec)
	s := strconv.FormatFloat(r, 'f', prec, 64) + suffix
	if r > 0 {
		return "+" + s
	}
	if r == 0 {
		return strings.TrimPrefix(s, "-")
	}
	return s
}

// WriteComparison writes c in format f: Rally's compare table (Metric |
// Task | Baseline | Contender | Diff | Unit | Diff %) without colours, and
// two more columns: "Better if" (higher for throughput, lower for everything
// else) and "Change" (better, worse, or empty when the difference rounds to
// zero). A row per task that only one race ran follows. Text also names the
// two races first; json is c itself.
func WriteComparison(w io.Writer, c Comparison, f Format) error {
	if f == JSON {
		return writeJSON(w, c)
	}
	if f == Text {
		if err := writeRaceRefs(w, c); err != nil {
			return err
		}
	}
	t := table{columns: []column{
		{header: "Metric"}, {header: "Task"},
		{header: "Baseline", numeric: true}, {header: "Contender", numeric: true},
		{header: "Diff", numeric: true}, {header: "Unit"}, {header: "Diff %", numeric: true},
		{header: "Better if"}, {header: "Change"},
	}}
	for _, r := range c.Rows {
		d := signed(r.Diff, diffPrecision, "")
		p := signed(r.DiffPercent, percentPrecision, "%")
		t.add(str(r.Metric), str(r.Task), r.baselineCell(), r.contenderCell(),
			cell{text: d, raw: d, number: true}, str(r.Unit), cell{text: p, raw: p, number: true}, str(string(r.Better)), str(string(r.Change)))
	}
	for _, task := range c.OnlyInBaseline {
		t.add(str("only in baseline"), str(task), cell{}, cell{}, cell{}, str(""), cell{}, str(""), str(""))
	}
	for _, task := range c.OnlyInContender {
		t.add(str("only in contender"), str(task), cell{}, cell{}, cell{}, str(""), cell{}, str(""), str(""))
	}
	if err := t.write(w, f); err != nil {
		return fmt.Errorf("write comparison of %s and %s: %w", c.Baseline.ID, c.Contender.ID, err)
	}
	return nil
}

// baselineCell and contenderCell return the values formatted as in the
// summary report; rows built outside Compare (decoded from JSON) fall back
// to plain numbers.
func (r ComparisonRow) baselineCell() cell {
	if r.baseline.text == "" {
		return num(r.Baseline)
	}
	return r.baseline
}

func (r ComparisonRow) contenderCell() cell {
	if r.contender.text == "" {
		return num(r.Contender)
	}
	return r.contender
}

func writeRaceRefs(w io.Writer, c Comparison) error {
	var b strings.Builder
	for _, side := range []struct {
		title string
		r     RaceRef
	}{{"Comparing baseline", c.Baseline}, {"with contender", c.Contender}} {
		fmt.Fprintf(&b, "%s\n  Race ID: %s\n  Created: %s\n  Track: %s\n", side.title, side.r.ID,
			side.r.Created.UTC().Format(time.RFC3339), side.r.Track)
		if side.r.Challenge != "" {
			fmt.Fprintf(&b, "  Challenge: %s\n", side.r.Challenge)
		}
		if v := strings.TrimSpace(side.r.Distribution + " " + side.r.DistributionVersion); v != "" {
			fmt.Fprintf(&b, "  Distribution: %s\n", v)
		}
		if len(side.r.UserTags) > 0 {
			fmt.Fprintf(&b, "  User tags: %s\n", userTags(side.r.UserTags))
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
