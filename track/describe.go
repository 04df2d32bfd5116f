package track

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Describe writes what `rally info` shows about a track: name, description,
// indices, templates, data streams, corpora with document counts and
// sizes, and the schedule of challenge c (of every challenge when c is
// nil). status says whether a challenge can run and why not (Check, with
// the load driver); each challenge then gets a status line with its
// problems under it, and the tasks are marked with theirs. Without status
// the tasks that need a track.py runner or parameter source are marked by
// the name they need. asJSON selects the stable machine form (see
// DescribeJSON) instead of aligned text.
func Describe(w io.Writer, t *Track, c *Challenge, status func(*Challenge) Status, asJSON bool) error {
	challenges := t.Challenges
	if c != nil {
		challenges = []Challenge{*c}
	}
	var statuses []*Status
	for i := range challenges {
		if status == nil {
			statuses = append(statuses, nil)
			continue
		}
		st := status(&challenges[i])
		statuses = append(statuses, &st)
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(describeJSON(t, challenges, statuses))
	}
	return describeText(w, t, challenges, statuses, c == nil)
}

// DescribeJSON is the JSON form of Describe. Field names are stable;
// durations are in seconds; sizes in bytes (null when the track does not
// say).
type DescribeJSON struct {
	Name              string              `json:"name"`
	Description       string              `json:"description"`
	Dir               string              `json:"dir"`
	Version           int                 `json:"version"`
	TestMode          bool                `json:"test_mode"`
	Params            map[string]any      `json:"params"`
	Documents         int64               `json:"documents"`
	CompressedBytes   *int64              `json:"compressed_bytes"`
	UncompressedBytes *int64              `json:"uncompressed_bytes"`
	Indices           []DescribeIndex     `json:"indices"`
	DataStreams       []string            `json:"data_streams"`
	Templates         []DescribeTemplate  `json:"templates"`
	Corpora           []DescribeCorpus    `json:"corpora"`
	Challenges        []DescribeChallenge `json:"challenges"`
	Warnings          []string            `json:"warnings"`
}

// DescribeIndex is an index in DescribeJSON.
type DescribeIndex struct {
	Name     string `json:"name"`
	BodyFile string `json:"body_file"` // relative to the track directory
}

// DescribeTemplate is a template in DescribeJSON.
type DescribeTemplate struct {
	Kind                  string `json:"kind"` // "legacy", "composable" or "component"
	Name                  string `json:"name"`
	IndexPattern          string `json:"index_pattern"`
	File                  string `json:"file"`
	DeleteMatchingIndices bool   `json:"delete_matching_indices"`
}

// DescribeCorpus is a corpus in DescribeJSON.
type DescribeCorpus struct {
	Name              string              `json:"name"`
	Documents         int64               `json:"documents"`
	CompressedBytes   *int64              `json:"compressed_bytes"`
	UncompressedBytes *int64              `json:"uncompressed_bytes"`
	Files             []DescribeDocuments `json:"files"`
}

// DescribeDocuments is a documents file in DescribeJSON.
type DescribeDocuments struct {
	SourceFile        string `json:"source_file"`
	DocumentFile      string `json:"document_file"`
	BaseURL           string `json:"base_url"`
	Documents         int64  `json:"documents"`
	CompressedBytes   *int64 `json:"compressed_bytes"`
	UncompressedBytes *int64 `json:"uncompressed_bytes"`
	Target            string `json:"target"` // index or data stream; "" when the file carries its own action lines
}

// DescribeChallenge is a challenge in DescribeJSON.
type DescribeChallenge struct {
	Name         string         `json:"name"`
	Description  string         `json:"description"`
	UserInfo     string         `json:"user_info"`
	Default      bool           `json:"default"`
	Schedule     []DescribeStep `json:"schedule"`
	Requirements []Requirement  `json:"requirements"`
	// Runnable says whether the challenge can run here (null when it was
	// not checked); Problems say why not.
	Runnable *bool     `json:"runnable"`
	Problems []Problem `json:"problems"`
}

// DescribeStep is a schedule step in DescribeJSON.
type DescribeStep struct {
	Parallel    bool           `json:"parallel"`
	CompletedBy string         `json:"completed_by"`
	Clients     int            `json:"clients"` // total clients of the step
	Tasks       []DescribeTask `json:"tasks"`
}

// DescribeTask is a task in DescribeJSON.
type DescribeTask struct {
	Name                 string        `json:"name"`
	Operation            string        `json:"operation"`
	OperationType        string        `json:"operation_type"`
	Clients              int           `json:"clients"`
	WarmupIterations     int           `json:"warmup_iterations"`
	Iterations           int           `json:"iterations"`
	WarmupTimePeriod     float64       `json:"warmup_time_period_s"`
	TimePeriod           float64       `json:"time_period_s"`
	RampUpTimePeriod     float64       `json:"ramp_up_time_period_s"`
	TargetThroughput     float64       `json:"target_throughput"`
	TargetThroughputUnit string        `json:"target_throughput_unit"`
	TargetInterval       float64       `json:"target_interval_s"`
	Schedule             string        `json:"schedule"`
	IncludeInReporting   bool          `json:"include_in_reporting"`
	Tags                 []string      `json:"tags"`
	Needs                []Requirement `json:"needs"`
}

func describeJSON(t *Track, challenges []Challenge, statuses []*Status) DescribeJSON {
	docs, comp, uncomp := totals(t.Corpora)
	out := DescribeJSON{
		Name: t.Name, Description: t.Description, Dir: t.Dir, Version: t.SchemaVersion, TestMode: t.TestMode,
		Params: t.Params, Documents: docs, CompressedBytes: comp, UncompressedBytes: uncomp,
		Indices: []DescribeIndex{}, DataStreams: []string{}, Templates: []DescribeTemplate{},
		Corpora: []DescribeCorpus{}, Challenges: []DescribeChallenge{}, Warnings: t.Warnings,
	}
	if out.Params == nil {
		out.Params = map[string]any{}
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	for _, idx := range t.Indices {
		out.Indices = append(out.Indices, DescribeIndex{Name: idx.Name, BodyFile: relTo(t.Dir, idx.BodyFile)})
	}
	for _, ds := range t.DataStreams {
		out.DataStreams = append(out.DataStreams, ds.Name)
	}
	for _, kt := range templateKinds(t) {
		for _, tpl := range kt.list {
			out.Templates = append(out.Templates, DescribeTemplate{Kind: kt.kind, Name: tpl.Name, IndexPattern: tpl.IndexPattern,
				File: relTo(t.Dir, tpl.File), DeleteMatchingIndices: tpl.DeleteMatchingIndices})
		}
	}
	for _, c := range t.Corpora {
		d, cb, ub := totals([]Corpus{c})
		dc := DescribeCorpus{Name: c.Name, Documents: d, CompressedBytes: cb, UncompressedBytes: ub, Files: []DescribeDocuments{}}
		for _, f := range c.Documents {
			dc.Files = append(dc.Files, DescribeDocuments{SourceFile: f.SourceFile, DocumentFile: f.DocumentFile, BaseURL: f.BaseURL,
				Documents: f.DocumentCount, CompressedBytes: knownSize(f.CompressedBytes), UncompressedBytes: knownSize(f.UncompressedBytes),
				Target: target(f)})
		}
		out.Corpora = append(out.Corpora, dc)
	}
	for ci, c := range challenges {
		dc := DescribeChallenge{Name: c.Name, Description: c.Description, UserInfo: c.UserInfo, Default: c.Default,
			Schedule: []DescribeStep{}, Requirements: t.CustomRequirements(&c), Problems: []Problem{}}
		if dc.Requirements == nil {
			dc.Requirements = []Requirement{}
		}
		if st := statuses[ci]; st != nil {
			runnable := st.Runnable()
			dc.Runnable = &runnable
			dc.Problems = append(dc.Problems, st.Problems...)
		}
		for _, s := range c.Schedule {
			ds := DescribeStep{Parallel: s.Parallel, CompletedBy: s.CompletedBy, Clients: stepClients(s), Tasks: []DescribeTask{}}
			for _, task := range s.Tasks {
				needs := taskRequirements(task)
				if needs == nil {
					needs = []Requirement{}
				}
				tags := task.Tags
				if tags == nil {
					tags = []string{}
				}
				ds.Tasks = append(ds.Tasks, DescribeTask{
					Name: task.Name, Operation: task.Operation.Name, OperationType: task.Operation.Type, Clients: task.Clients,
					WarmupIterations: task.WarmupIterations, Iterations: task.Iterations,
					WarmupTimePeriod: task.WarmupTimePeriod.Seconds(), TimePeriod: task.TimePeriod.Seconds(),
					RampUpTimePeriod: task.RampUpTimePeriod.Seconds(), TargetThroughput: task.TargetThroughput,
					TargetThroughputUnit: throughputUnit(task), TargetInterval: task.TargetInterval.Seconds(),
					Schedule: string(task.Schedule), IncludeInReporting: task.IncludeInReporting, Tags: tags, Needs: needs,
				})
			}
			dc.Schedule = append(dc.Schedule, ds)
		}
		out.Challenges = append(out.Challenges, dc)
	}
	return out
}

// stepClients is the number of clients a step runs with: the parallel
// block's own "clients" when set, else the sum of its tasks' clients.
func stepClients(s Step) int {
	if s.Clients > 0 {
		return s.Clients
	}
	n := 0
	for _, t := range s.Tasks {
		n += t.Clients
	}
	return n
}

func throughputUnit(t Task) string {
	if t.TargetThroughput == 0 {
		return ""
	}
	if t.TargetThroughputUnit == "" {
		return "ops/s"
	}
	return t.TargetThroughputUnit
}

type kindTemplates struct {
	kind string
	list []Template
}

func templateKinds(t *Track) []kindTemplates {
	return []kindTemplates{{"legacy", t.Templates}, {"composable", t.ComposableTemplates}, {"component", t.ComponentTemplates}}
}

func target(d Documents) string {
	if d.TargetDataStream != "" {
		return d.TargetDataStream
	}
	return d.TargetIndex
}

func knownSize(n int64) *int64 {
	if n <= 0 {
		return nil
	}
	return &n
}

// totals sums document counts and sizes; a size is unknown (nil) as soon as
// one file does not declare it, as in Rally.
func totals(corpora []Corpus) (docs int64, compressed, uncompressed *int64) {
	var c, u int64
	cOK, uOK := true, true
	for _, corpus := range corpora {
		for _, d := range corpus.Documents {
			docs += d.DocumentCount
			c += d.CompressedBytes
			u += d.UncompressedBytes
			cOK = cOK && d.CompressedBytes > 0
			uOK = uOK && d.UncompressedBytes > 0
		}
	}
	if cOK && c > 0 {
		compressed = &c
	}
	if uOK && u > 0 {
		uncompressed = &u
	}
	return docs, compressed, uncompressed
}

func relTo(dir, path string) string {
	if path == "" {
		return ""
	}
	if r, err := filepath.Rel(dir, path); err == nil {
		return r
	}
	return path
}

// --- text form

func describeText(w io.Writer, t *Track, challenges []Challenge, statuses []*Status, all bool) error {
	var buf bytes.Buffer
	ew := &buf
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	docs, comp, uncomp := totals(t.Corpora)
	fmt.Fprintf(tw, "Track\t%s\n", t.Name)
	if t.Description != "" {
		fmt.Fprintf(tw, "Description\t%s\n", t.Description)
	}
	fmt.Fprintf(tw, "Path\t%s\n", t.Dir)
	if docs > 0 {
		var sizes []string
		if comp != nil {
			sizes = append(sizes, size(*comp)+" compressed")
		}
		if uncomp != nil {
			sizes = append(sizes, size(*uncomp)+" uncompressed")
		}
		if len(sizes) == 0 {
			sizes = []string{"sizes unknown"}
		}
		fmt.Fprintf(tw, "Documents\t%s (%s)\n", number(docs), strings.Join(sizes, ", "))
	}
	if len(t.Params) > 0 {
		fmt.Fprintf(tw, "Parameters\t%s\n", formatParams(t.Params))
	}
	if t.TestMode {
		fmt.Fprintf(tw, "Test mode\ton (1000-document corpora, shortened tasks)\n")
	}
	if all && len(statuses) > 0 && statuses[0] != nil {
		runnable := 0
		for _, st := range statuses {
			if st.Runnable() {
				runnable++
			}
		}
		can := strconv.Itoa(runnable)
		switch runnable {
		case 0:
			can = "none"
		case len(challenges):
			can = "all"
		}
		fmt.Fprintf(tw, "Challenges\t%d (%s can run here)\n", len(challenges), can)
	}
	tw.Flush()

	if len(t.Indices) > 0 {
		fmt.Fprintf(ew, "\nIndices\n")
		for _, idx := range t.Indices {
			body := "no body"
			if idx.BodyFile != "" {
				body = "body " + relTo(t.Dir, idx.BodyFile)
			}
			fmt.Fprintf(tw, "  %s\t%s\n", idx.Name, body)
		}
		tw.Flush()
	}
	if len(t.DataStreams) > 0 {
		fmt.Fprintf(ew, "\nData streams\n")
		for _, ds := range t.DataStreams {
			fmt.Fprintf(tw, "  %s\n", ds.Name)
		}
		tw.Flush()
	}
	if len(t.Templates)+len(t.ComposableTemplates)+len(t.ComponentTemplates) > 0 {
		fmt.Fprintf(ew, "\nTemplates\n")
		for _, kt := range templateKinds(t) {
			for _, tpl := range kt.list {
				pattern := "-"
				if tpl.IndexPattern != "" {
					pattern = tpl.IndexPattern
				}
				extra := ""
				if tpl.DeleteMatchingIndices {
					extra = "deletes matching indices"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", tpl.Name, kt.kind, pattern, relTo(t.Dir, tpl.File), extra)
			}
		}
		tw.Flush()
	}
	if len(t.Corpora) > 0 {
		fmt.Fprintf(ew, "\nCorpora\n")
		fmt.Fprintf(tw, "  Corpus / file\tDocuments\tCompressed\tUncompressed\tTarget\n")
		for _, c := range t.Corpora {
			d, cb, ub := totals([]Corpus{c})
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.Name, number(d), sizeOrNA(cb), sizeOrNA(ub), plural(len(c.Documents), "file"))
			for _, f := range c.Documents {
				tgt := "-> " + target(f)
				if f.IncludesActionAndMetaData {
					tgt = "(action lines in file)"
				}
				fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", f.SourceFile, number(f.DocumentCount),
					sizeOrNA(knownSize(f.CompressedBytes)), sizeOrNA(knownSize(f.UncompressedBytes)), tgt)
			}
		}
		tw.Flush()
	}

	for ci, c := range challenges {
		st := statuses[ci]
		title := "Challenge " + c.Name
		if c.AutoGenerated {
			title = "Schedule"
		} else if c.Default {
			title += " (default)"
		}
		fmt.Fprintf(ew, "\n%s\n", title)
		if c.Description != "" {
			fmt.Fprintf(ew, "  %s\n", c.Description)
		}
		if c.UserInfo != "" {
			fmt.Fprintf(ew, "  Note: %s\n", c.UserInfo)
		}
		writeStatus(ew, st)
		fmt.Fprintf(ew, "\n")
		fmt.Fprintf(tw, "  #\tTask\tType\tClients\tWarmup\tMeasure\tTarget\tNotes\n")
		for i, s := range c.Schedule {
			num := strconv.Itoa(i + 1)
			if !s.Parallel {
				writeTaskRow(tw, "  "+num, s.Tasks[0], st)
				continue
			}
			head := fmt.Sprintf("parallel, %s", plural(stepClients(s), "client"))
			if s.CompletedBy != "" {
				head += ", completed by " + s.CompletedBy
			}
			fmt.Fprintf(tw, "  %s\t%s\t\t\t\t\t\t\n", num, head)
			for j, task := range s.Tasks {
				writeTaskRow(tw, fmt.Sprintf("    %s.%d", num, j+1), task, st)
			}
		}
		tw.Flush()
		if reqs := t.CustomRequirements(&c); len(reqs) > 0 && st == nil {
			var names []string
			for _, r := range reqs {
				n := r.Kind + " " + r.Name
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
			fmt.Fprintf(ew, "\n  Needs the track's track.py, which this tool does not run: %s\n", strings.Join(names, ", "))
		}
	}
	if len(t.Warnings) > 0 {
		fmt.Fprintf(ew, "\nWarnings\n")
		for _, warning := range t.Warnings {
			fmt.Fprintf(ew, "  %s\n", strings.ReplaceAll(warning, "\n", "\n  "))
		}
	}
	// tabwriter pads the last filled column; drop the trailing blanks.
	lines := strings.SplitAfter(buf.String(), "\n")
	var out strings.Builder
	for _, l := range lines {
		out.WriteString(strings.TrimRight(l, " \n"))
		if strings.HasSuffix(l, "\n") {
			out.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// writeStatus writes whether a challenge can run, and its problems
// indented under it.
func writeStatus(w io.Writer, st *Status) {
	if st == nil {
		return
	}
	if st.Runnable() {
		fmt.Fprintf(w, "  Can run here: yes\n")
		return
	}
	fmt.Fprintf(w, "  Can run here: no, %s\n", plural(st.Count(), "problem"))
	for _, l := range st.Lines() {
		fmt.Fprintf(w, "    %s\n", l)
	}
}

func writeTaskRow(w io.Writer, num string, t Task, st *Status) {
	op := t.Operation.Type
	warmup, measure := "-", "-"
	switch {
	case t.WarmupTimePeriod > 0:
		warmup = seconds(t.WarmupTimePeriod)
	case t.WarmupIterations > 0:
		warmup = plural(t.WarmupIterations, "iter")
	}
	if t.RampUpTimePeriod > 0 {
		warmup += " (ramp-up " + seconds(t.RampUpTimePeriod) + ")"
	}
	switch {
	case t.TimePeriod > 0:
		measure = seconds(t.TimePeriod)
	case t.Iterations > 0:
		measure = plural(t.Iterations, "iter")
	}
	tgt := "-"
	if t.TargetThroughput >= testModeThroughput {
		tgt = "unthrottled (test mode)"
	} else if t.TargetThroughput > 0 {
		tgt = strconv.FormatFloat(roundTo(t.TargetThroughput, 3), 'f', -1, 64) + " " + throughputUnit(t)
		if t.TargetInterval > 0 {
			tgt += " (every " + seconds(t.TargetInterval) + ")"
		}
		if t.Schedule != "" && t.Schedule != ScheduleDeterministic {
			tgt += " " + string(t.Schedule)
		}
	}
	var notes []string
	if t.Operation.Name != t.Name && t.Operation.Name != t.Operation.Type {
		notes = append(notes, "operation "+t.Operation.Name)
	}
	if st == nil {
		for _, r := range taskRequirements(t) {
			notes = append(notes, fmt.Sprintf("needs track.py %s: %s", r.Kind, r.Name))
		}
	} else {
		for _, p := range st.Problems {
			if p.Task == t.Name && !slices.Contains(notes, p.Note()) {
				notes = append(notes, p.Note())
			}
		}
	}
	if t.CompletesParent {
		notes = append(notes, "ends the block")
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", num, t.Name, op, t.Clients, warmup, measure, tgt, strings.Join(notes, "; "))
}

func roundTo(f float64, digits int) float64 {
	s := strconv.FormatFloat(f, 'f', digits, 64)
	r, _ := strconv.ParseFloat(s, 64)
	if r == 0 {
		return f
	}
	return r
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// number formats like Rally's pretty.number: 11,203,029.
func number(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// size formats bytes like Rally's pretty.size (1024-based, one decimal).
func size(n int64) string {
	units := []string{"bytes", "kB", "MB", "GB", "TB", "PB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}

func sizeOrNA(n *int64) string {
	if n == nil {
		return "-"
	}
	return size(*n)
}

func formatParams(p map[string]any) string {
	parts := make([]string, 0, len(p))
	for _, k := range sortedKeys(p) {
		v, err := json.Marshal(p[k])
		if err != nil {
			v = []byte(fmt.Sprint(p[k]))
		}
		parts = append(parts, k+"="+string(v))
	}
	return strings.Join(parts, ", ")
}
