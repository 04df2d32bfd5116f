package track

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// decoder turns the parsed, rendered track.json into a Track. Schema
// problems are collected (several per run) with their JSON path and
// position; loading body files may add errors of their own files.
type decoder struct {
	file string     // track.json as shown in messages
	li   *lineIndex // of the rendered text
	errs ErrorList
	// loadFile renders a track-relative JSON template file (index bodies,
	// templates) and parses it.
	loadFile func(rel string) (*jnode, string, error)
}

// errorf records a schema problem at node n (or at the position of its
// parent when n is nil).
func (d *decoder) errorf(n *jnode, path, format string, args ...any) {
	e := &Error{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = d.li.position(n.off)
		e.renderedPos = n.off + 1
	}
	d.errs = append(d.errs, e)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// got describes a node's value for "want X, got Y" messages.
func got(n *jnode) string {
	switch n.kind {
	case jString, jNumber, jBool, jNull:
		return describeValue(n.value())
	default:
		return n.kind.String()
	}
}

// --- typed field readers. Each returns the value and whether the key was
// present with a valid value; a present but invalid value is reported.

func (d *decoder) object(obj *jnode, key, path string, required bool) *jnode {
	n := obj.get(key)
	if n == nil {
		if required {
			d.errorf(obj, path, "missing %q", key)
		}
		return nil
	}
	if n.kind != jObject {
		d.errorf(n, join(path, key), "want an object, got %s", got(n))
		return nil
	}
	return n
}

func (d *decoder) array(obj *jnode, key, path string, required bool) *jnode {
	n := obj.get(key)
	if n == nil {
		if required {
			d.errorf(obj, path, "missing %q", key)
		}
		return nil
	}
	if n.kind != jArray {
		d.errorf(n, join(path, key), "want an array, got %s", got(n))
		return nil
	}
	return n
}

func (d *decoder) str(obj *jnode, key, path string, required bool) (string, bool) {
	n := obj.get(key)
	if n == nil {
		if required {
			d.errorf(obj, path, "missing %q", key)
		}
		return "", false
	}
	if n.kind != jString {
		d.errorf(n, join(path, key), "want a string, got %s", got(n))
		return "", false
	}
	return n.str, true
}

func (d *decoder) boolean(obj *jnode, key, path string) (bool, bool) {
	n := obj.get(key)
	if n == nil {
		return false, false
	}
	if n.kind != jBool {
		d.errorf(n, join(path, key), "want true or false, got %s", got(n))
		return false, false
	}
	return n.b, true
}

// number reads a JSON number (not a boolean, not a string).
func numberOf(n *jnode) (float64, bool) {
	if n.kind != jNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(n.str, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// integer reads an integer >= min. Integral floats such as 4.0 are
// accepted, as Python's int() would.
func (d *decoder) integer(obj *jnode, key, path string, min int64) (int64, bool) {
	n := obj.get(key)
	if n == nil {
		return 0, false
	}
	f, ok := numberOf(n)
	if !ok || f != math.Trunc(f) || f < float64(min) || f > math.MaxInt64 {
		d.errorf(n, join(path, key), "want %s, got %s", intWant(min), got(n))
		return 0, false
	}
	if i, err := strconv.ParseInt(n.str, 10, 64); err == nil {
		return i, true
	}
	return int64(f), true
}

func intWant(min int64) string {
	switch min {
	case 0:
		return "a non-negative integer"
	case 1:
		return "a positive integer"
	default:
		return fmt.Sprintf("an integer >= %d", min)
	}
}

// seconds reads a non-negative number of seconds.
func (d *decoder) seconds(obj *jnode, key, path string) (time.Duration, bool) {
	n := obj.get(key)
	if n == nil {
		return 0, false
	}
	f, ok := numberOf(n)
	if !ok || f < 0 || f > float64(math.MaxInt64)/float64(time.Second) {
		d.errorf(n, join(path, key), "want a number of seconds >= 0, got %s", got(n))
		return 0, false
	}
	return time.Duration(math.Round(f * float64(time.Second))), true
}

func (d *decoder) anyMap(obj *jnode, key, path string) map[string]any {
	n := d.object(obj, key, path, false)
	if n == nil {
		return nil
	}
	return n.value().(map[string]any)
}

func (d *decoder) strings(obj *jnode, key, path string) []string {
	n := d.array(obj, key, path, false)
	if n == nil {
		return nil
	}
	out := make([]string, 0, len(n.vals))
	for i, e := range n.vals {
		if e.kind != jString {
			d.errorf(e, index(join(path, key), i), "want a string, got %s", got(e))
			continue
		}
		out = append(out, e.str)
	}
	return out
}

// --- the track

// minTrackVersion and maxTrackVersion are the schema versions Rally loads.
const (
	minTrackVersion = 2
	maxTrackVersion = 2
)

func (d *decoder) track(root *jnode, t *Track) {
	if root.kind != jObject {
		d.errorf(root, "", "the track must be a JSON object, got %s", got(root))
		return
	}
	t.SchemaVersion = maxTrackVersion
	if v := root.get("version"); v != nil {
		version, ok := trackVersion(v)
		switch {
		case !ok:
			d.errorf(v, "version", "want a number, got %s", got(v))
			return
		case version < minTrackVersion:
			d.errorf(v, "version", "track is on version %d but needs to be updated to at least version %d to work with Rally", version, minTrackVersion)
			return
		case version > maxTrackVersion:
			d.errorf(v, "version", "track requires a newer version of Rally (supported track version: %d, required: %d)", maxTrackVersion, version)
			return
		}
		t.SchemaVersion = version
	}
	t.Description, _ = d.str(root, "description", "", false)
	t.Meta = d.anyMap(root, "meta", "")
	t.Dependencies = d.strings(root, "dependencies", "")

	if arr := d.array(root, "indices", "", false); arr != nil {
		for i, n := range arr.vals {
			if idx, ok := d.index(n, index("indices", i)); ok {
				t.Indices = append(t.Indices, idx)
			}
		}
	}
	if arr := d.array(root, "data-streams", "", false); arr != nil {
		for i, n := range arr.vals {
			p := index("data-streams", i)
			if n.kind != jObject {
				d.errorf(n, p, "want an object, got %s", got(n))
				continue
			}
			if name, ok := d.str(n, "name", p, true); ok {
				t.DataStreams = append(t.DataStreams, DataStream{Name: name})
			}
		}
	}
	if len(t.Indices) > 0 && len(t.DataStreams) > 0 {
		d.errorf(root.get("data-streams"), "data-streams", "indices and data-streams cannot both be specified")
	}
	t.Templates = d.templates(root, "templates", true)
	t.ComposableTemplates = d.templates(root, "composable-templates", true)
	t.ComponentTemplates = d.templates(root, "component-templates", false)
	t.Corpora = d.corpora(root, t.Indices, t.DataStreams)

	ops := map[string]Operation{}
	if arr := d.array(root, "operations", "", false); arr != nil {
		for i, n := range arr.vals {
			p := index("operations", i)
			if n.kind != jObject {
				d.errorf(n, p, "want an operation object, got %s", got(n))
				continue
			}
			op, ok := d.operation(n, p)
			if !ok {
				continue
			}
			if _, dup := ops[op.Name]; dup {
				d.errorf(n, p, "duplicate operation name %q", op.Name)
				continue
			}
			ops[op.Name] = op
			t.Operations = append(t.Operations, op)
		}
	}
	t.Challenges = d.challenges(root, ops)
}

func trackVersion(n *jnode) (int, bool) {
	switch n.kind {
	case jNumber:
		f, ok := numberOf(n)
		if !ok || f < math.MinInt32 || f > math.MaxInt32 {
			return 0, false
		}
		return int(f), true // Python's int() truncates
	case jString:
		i, err := strconv.Atoi(strings.TrimSpace(n.str))
		return i, err == nil
	}
	return 0, false
}

func (d *decoder) index(n *jnode, path string) (Index, bool) {
	if n.kind != jObject {
		d.errorf(n, path, "want an object, got %s", got(n))
		return Index{}, false
	}
	name, ok := d.str(n, "name", path, true)
	if !ok {
		return Index{}, false
	}
	idx := Index{Name: name, Types: d.strings(n, "types", path)}
	if bodyNode := n.get("body"); bodyNode != nil {
		body, ok := d.str(n, "body", path, false)
		if ok && body != "" {
			if root, abs, err := d.loadFile(body); err != nil {
				d.fileError(bodyNode, join(path, "body"), err)
			} else {
				idx.Body, idx.BodyFile = root.raw(), abs
			}
		}
	}
	return idx, true
}

// fileError records the error of a body or template file; errors that
// already carry their own file and position stay as they are.
func (d *decoder) fileError(n *jnode, path string, err error) {
	if te, ok := err.(*Error); ok && te.Line > 0 {
		d.errs = append(d.errs, te)
		return
	}
	d.errorf(n, path, "%v", err)
}

func (d *decoder) templates(root *jnode, key string, indexTemplate bool) []Template {
	arr := d.array(root, key, "", false)
	if arr == nil {
		return nil
	}
	var out []Template
	for i, n := range arr.vals {
		p := index(key, i)
		if n.kind != jObject {
			d.errorf(n, p, "want an object, got %s", got(n))
			continue
		}
		name, okName := d.str(n, "name", p, true)
		file, okFile := d.str(n, "template", p, true)
		tpl := Template{Name: name}
		var okPattern = true
		if indexTemplate {
			tpl.IndexPattern, okPattern = d.str(n, "index-pattern", p, true)
			tpl.DeleteMatchingIndices = true
			if v, set := d.boolean(n, "delete-matching-indices", p); set {
				tpl.DeleteMatchingIndices = v
			}
		}
		tplPath, _ := d.str(n, "template-path", p, false)
		if !okName || !okFile || !okPattern {
			continue
		}
		body, abs, err := d.loadFile(file)
		if err != nil {
			d.fileError(n.get("template"), join(p, "template"), err)
			continue
		}
		if tplPath != "" {
			for _, field := range strings.Split(tplPath, ".") {
				if body = body.get(field); body == nil {
					break
				}
			}
			if body == nil {
				d.errorf(n.get("template-path"), join(p, "template-path"), "%s has no %q", file, tplPath)
				continue
			}
		}
		tpl.Body, tpl.File = body.raw(), abs
		out = append(out, tpl)
	}
	return out
}

func (d *decoder) corpora(root *jnode, indices []Index, dataStreams []DataStream) []Corpus {
	arr := d.array(root, "corpora", "", false)
	if arr == nil {
		return nil
	}
	var out []Corpus
	seen := map[string]bool{}
	for i, n := range arr.vals {
		p := index("corpora", i)
		if n.kind != jObject {
			d.errorf(n, p, "want an object, got %s", got(n))
			continue
		}
		name, ok := d.str(n, "name", p, true)
		if !ok {
			continue
		}
		if seen[name] {
			d.errorf(n, p, "duplicate document corpus name %q", name)
			continue
		}
		seen[name] = true
		c := Corpus{Name: name, Meta: d.anyMap(n, "meta", p)}
		c.BaseURL, _ = d.str(n, "base-url", p, false)
		sourceFormat := "bulk"
		if f, ok := d.str(n, "source-format", p, false); ok {
			sourceFormat = f
		}
		actionAndMeta, _ := d.boolean(n, "includes-action-and-meta-data", p)

		// Corpus-level targets and their defaults, exactly as Rally derives
		// them: a single index (data stream) is the default target.
		var corpusIdx, corpusDS, corpusType string
		if v, ok := d.str(n, "target-index", p, false); ok {
			corpusIdx = v
		} else if len(indices) == 1 {
			corpusIdx = indices[0].Name
		}
		if v, ok := d.str(n, "target-data-stream", p, false); ok {
			corpusDS = v
		} else if len(dataStreams) == 1 {
			corpusDS = dataStreams[0].Name
		}
		if v, ok := d.str(n, "target-type", p, false); ok {
			corpusType = v
		} else if len(indices) == 1 && len(indices[0].Types) == 1 {
			corpusType = indices[0].Types[0]
		}

		docs := d.array(n, "documents", p, true)
		if docs == nil {
			continue
		}
		for j, dn := range docs.vals {
			dp := index(join(p, "documents"), j)
			if doc, ok := d.documents(dn, dp, c.BaseURL, sourceFormat, actionAndMeta, corpusIdx, corpusDS, corpusType, indices, dataStreams); ok {
				c.Documents = append(c.Documents, doc)
			}
		}
		out = append(out, c)
	}
	return out
}

func (d *decoder) documents(n *jnode, p, baseURL, sourceFormat string, actionAndMeta bool, corpusIdx, corpusDS, corpusType string, indices []Index, dataStreams []DataStream) (Documents, bool) {
	if n.kind != jObject {
		d.errorf(n, p, "want an object, got %s", got(n))
		return Documents{}, false
	}
	doc := Documents{BaseURL: baseURL, SourceFormat: sourceFormat, Meta: d.anyMap(n, "meta", p)}
	if v, ok := d.str(n, "base-url", p, false); ok {
		doc.BaseURL = v
	}
	if v, ok := d.str(n, "source-format", p, false); ok {
		doc.SourceFormat = v
	}
	if doc.SourceFormat != "bulk" {
		d.errorf(n, join(p, "source-format"), "unknown source-format %q (Rally knows only \"bulk\")", doc.SourceFormat)
		return Documents{}, false
	}
	src, okSrc := d.str(n, "source-file", p, true)
	count, okCount := d.integer(n, "document-count", p, 1)
	if n.get("document-count") == nil {
		d.errorf(n, p, "missing %q", "document-count")
	}
	doc.CompressedBytes, _ = d.integer(n, "compressed-bytes", p, 0)
	doc.UncompressedBytes, _ = d.integer(n, "uncompressed-bytes", p, 0)
	if !okSrc || !okCount {
		return Documents{}, false
	}
	doc.SourceFile, doc.DocumentCount = src, count
	doc.DocumentFile = src
	if isArchive(src) {
		doc.DocumentArchive = src
		doc.DocumentFile, _ = splitExt(src)
	}
	doc.IncludesActionAndMetaData = actionAndMeta
	if v, set := d.boolean(n, "includes-action-and-meta-data", p); set {
		doc.IncludesActionAndMetaData = v
	}
	if doc.IncludesActionAndMetaData {
		// The source file names its targets itself.
		return doc, true
	}
	doc.TargetType = corpusType
	if v, ok := d.str(n, "target-type", p, false); ok {
		doc.TargetType = v
	}
	doc.TargetDataStream = corpusDS
	if v, ok := d.str(n, "target-data-stream", p, false); ok {
		doc.TargetDataStream = v
	}
	doc.TargetIndex = corpusIdx
	if v, ok := d.str(n, "target-index", p, false); ok {
		doc.TargetIndex = v
	}
	switch {
	case doc.TargetDataStream != "" && len(indices) > 0:
		d.errorf(n, join(p, "target-data-stream"), "target-data-stream cannot be used when using indices")
		return Documents{}, false
	case doc.TargetDataStream != "" && doc.TargetType != "":
		d.errorf(n, join(p, "target-type"), "target-type cannot be used when using data-streams")
		return Documents{}, false
	case doc.TargetIndex != "" && len(dataStreams) > 0:
		d.errorf(n, join(p, "target-index"), "target-index cannot be used when using data-streams")
		return Documents{}, false
	case doc.TargetIndex == "" && doc.TargetDataStream == "":
		want := "target-data-stream"
		if len(indices) > 0 || len(dataStreams) == 0 {
			want = "target-index"
		}
		d.errorf(n, p, "a %s is required for %s (or set includes-action-and-meta-data)", want, src)
		return Documents{}, false
	}
	return doc, true
}

// --- operations and challenges

// operation decodes an operation object.
func (d *decoder) operation(n *jnode, path string) (Operation, bool) {
	typ, ok := d.str(n, "operation-type", path, true)
	if !ok {
		return Operation{}, false
	}
	op := Operation{Name: typ, Type: typ, Meta: d.anyMap(n, "meta", path)}
	if name, ok := d.str(n, "name", path, false); ok {
		op.Name = name
	}
	op.ParamSource, _ = d.str(n, "param-source", path, false)
	op.typePos = n.get("operation-type").off + 1
	if ps := n.get("param-source"); ps != nil {
		op.paramSourcePos = ps.off + 1
	}
	d.boolean(n, "include-in-reporting", path) // validated here, read by the task
	op.Params = map[string]any{}
	for i, k := range n.keys {
		if k == "name" || k == "operation-type" {
			continue
		}
		op.Params[k] = n.vals[i].value()
	}
	if len(op.Params) == 0 {
		op.Params = nil
	}
	op.CustomRunner = !IsBuiltinOperationType(op.Type)
	op.Admin = IsAdminOperationType(op.Type)
	return op, true
}

func (d *decoder) challenges(root *jnode, ops map[string]Operation) []Challenge {
	var specs []*jnode
	var specPaths []string
	autoGenerated := false
	defined := 0
	for _, k := range []string{"schedule", "challenge", "challenges"} {
		if root.has(k) {
			defined++
		}
	}
	switch {
	case defined == 0:
		d.errorf(root, "", "you must define 'challenge', 'challenges' or 'schedule' but none is specified")
		return nil
	case defined > 1:
		d.errorf(root, "", "only one of 'challenge', 'challenges' or 'schedule' may be defined")
		return nil
	case root.has("challenge"):
		if c := d.object(root, "challenge", "", false); c != nil {
			specs, specPaths = []*jnode{c}, []string{"challenge"}
		}
	case root.has("challenges"):
		if arr := d.array(root, "challenges", "", false); arr != nil {
			for i, c := range arr.vals {
				specs = append(specs, c)
				specPaths = append(specPaths, index("challenges", i))
			}
		}
	default:
		if arr := d.array(root, "schedule", "", false); arr != nil {
			// A track with only a schedule gets one challenge, "default".
			specs = []*jnode{{kind: jObject, off: arr.off, keys: []string{"name", "schedule"},
				vals: []*jnode{{kind: jString, off: arr.off, str: "default"}, arr}}}
			specPaths = []string{""}
			autoGenerated = true
		}
	}

	trackParams := d.anyMap(root, "parameters", "")
	var out []Challenge
	names := map[string]bool{}
	defaultName := ""
	for i, spec := range specs {
		p := specPaths[i]
		if spec.kind != jObject {
			d.errorf(spec, p, "want a challenge object, got %s", got(spec))
			continue
		}
		name, ok := d.str(spec, "name", p, true)
		if !ok {
			continue
		}
		c := Challenge{Name: name, AutoGenerated: autoGenerated}
		c.Description, _ = d.str(spec, "description", p, false)
		c.UserInfo, _ = d.str(spec, "user-info", p, false)
		c.Meta = d.anyMap(spec, "meta", p)
		c.Parameters = mergeMaps(trackParams, d.anyMap(spec, "parameters", p))
		isDefault, _ := d.boolean(spec, "default", p)
		c.Default = len(specs) == 1 || isDefault
		if c.Default && defaultName != "" {
			d.errorf(spec, join(p, "default"), "both %q and %q are defined as default challenges; define only one of them as default", defaultName, name)
		}
		if c.Default {
			defaultName = name
		}
		if names[name] {
			d.errorf(spec, join(p, "name"), "duplicate challenge name %q", name)
		}
		names[name] = true

		schedPath := join(p, "schedule")
		sched := d.array(spec, "schedule", p, true)
		if sched != nil && len(sched.vals) == 0 {
			d.errorf(sched, schedPath, "the schedule is empty")
		}
		if sched != nil {
			for j, sn := range sched.vals {
				if step, ok := d.step(sn, index(schedPath, j), ops); ok {
					c.Schedule = append(c.Schedule, step)
				}
			}
		}
		d.checkTaskNames(spec, schedPath, &c)
		out = append(out, c)
	}
	if len(out) > 0 && defaultName == "" && len(specs) > 1 {
		names := make([]string, len(out))
		for i, c := range out {
			names[i] = c.Name
		}
		d.errorf(root.get("challenges"), "challenges", `no default challenge: add "default": true to one of %s`, strings.Join(names, ", "))
	}
	return out
}

func mergeMaps(a, b map[string]any) map[string]any {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	m := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// checkTaskNames enforces Rally's rule that task names are unique within
// a challenge (they identify results).
func (d *decoder) checkTaskNames(spec *jnode, path string, c *Challenge) {
	seen := map[string]bool{}
	for _, s := range c.Schedule {
		for _, t := range s.Tasks {
			if seen[t.Name] {
				d.errorf(spec.get("schedule"), path, "challenge %q contains more than one task named %q; give each task a unique \"name\"", c.Name, t.Name)
			}
			seen[t.Name] = true
		}
	}
}

// taskDefaults are the values a parallel block gives its tasks.
type taskDefaults struct {
	warmupIterations, iterations       int64
	warmupIterationsSet, iterationsSet bool
	warmupTime, time, rampUp           time.Duration
	warmupTimeSet, timeSet, rampUpSet  bool
	completedBy                        string
	inParallel                         bool
}

func (d *decoder) step(n *jnode, path string, ops map[string]Operation) (Step, bool) {
	if n.kind != jObject {
		d.errorf(n, path, "want a task object, got %s", got(n))
		return Step{}, false
	}
	pn := n.get("parallel")
	if pn == nil {
		t, ok := d.task(n, path, ops, taskDefaults{})
		if !ok {
			return Step{}, false
		}
		return Step{Tasks: []Task{t}}, true
	}
	path = join(path, "parallel")
	if pn.kind != jObject {
		d.errorf(pn, path, "want an object with \"tasks\", got %s", got(pn))
		return Step{}, false
	}
	var def taskDefaults
	def.inParallel = true
	def.warmupIterations, def.warmupIterationsSet = d.integer(pn, "warmup-iterations", path, 0)
	def.iterations, def.iterationsSet = d.integer(pn, "iterations", path, 1)
	def.warmupTime, def.warmupTimeSet = d.seconds(pn, "warmup-time-period", path)
	def.time, def.timeSet = d.seconds(pn, "time-period", path)
	def.rampUp, def.rampUpSet = d.seconds(pn, "ramp-up-time-period", path)
	def.completedBy, _ = d.str(pn, "completed-by", path, false)
	step := Step{Parallel: true, CompletedBy: def.completedBy}
	if c, ok := d.integer(pn, "clients", path, 1); ok {
		step.Clients = int(min(c, math.MaxInt32))
	}
	tasks := d.array(pn, "tasks", path, true)
	if tasks == nil {
		return Step{}, false
	}
	if len(tasks.vals) == 0 {
		d.errorf(tasks, join(path, "tasks"), "a parallel block needs at least one task")
		return Step{}, false
	}
	for i, tn := range tasks.vals {
		tp := index(join(path, "tasks"), i)
		if tn.kind == jObject && tn.has("parallel") {
			d.errorf(tn, tp, "parallel blocks cannot be nested")
			continue
		}
		if t, ok := d.task(tn, tp, ops, def); ok {
			step.Tasks = append(step.Tasks, t)
		}
	}
	if def.completedBy != "" && def.completedBy != "any" {
		matches := 0
		for _, t := range step.Tasks {
			if t.CompletesParent {
				matches++
			}
		}
		if matches == 0 {
			d.errorf(pn.get("completed-by"), join(path, "completed-by"), "no task named %q in this parallel block", def.completedBy)
		}
	}
	return step, true
}

// taskKeys are the task keys decoded into Task fields; all others go to
// Task.Params.
var taskKeys = map[string]bool{
	"operation": true, "name": true, "clients": true, "warmup-iterations": true, "iterations": true,
	"warmup-time-period": true, "time-period": true, "ramp-up-time-period": true,
	"target-throughput": true, "target-interval": true, "schedule": true, "tags": true, "meta": true,
	"ignore-response-error-level": true, "include-in-reporting": true,
}

func (d *decoder) task(n *jnode, path string, ops map[string]Operation, def taskDefaults) (Task, bool) {
	if n.kind != jObject {
		d.errorf(n, path, "want a task object, got %s", got(n))
		return Task{}, false
	}
	on := n.get("operation")
	if on == nil {
		d.errorf(n, path, "missing %q", "operation")
		return Task{}, false
	}
	var op Operation
	switch on.kind {
	case jString:
		if known, ok := ops[on.str]; ok {
			op = known
		} else {
			// Rally takes an unknown name as an operation of that type
			// without parameters ("operation": "refresh").
			op = Operation{Name: on.str, Type: on.str, CustomRunner: !IsBuiltinOperationType(on.str), Admin: IsAdminOperationType(on.str),
				typePos: on.off + 1}
		}
	case jObject:
		var ok bool
		if op, ok = d.operation(on, join(path, "operation")); !ok {
			return Task{}, false
		}
	default:
		d.errorf(on, join(path, "operation"), "want an operation name or an operation object, got %s", got(on))
		return Task{}, false
	}

	t := Task{Name: op.Name, Operation: op, Clients: 1, Schedule: ScheduleDeterministic, TargetThroughputUnit: "ops/s", pos: n.off + 1}
	if name, ok := d.str(n, "name", path, false); ok {
		t.Name = name
	}
	if c, ok := d.integer(n, "clients", path, 1); ok {
		t.Clients = int(min(c, math.MaxInt32))
	}

	wi, wiSet := d.integer(n, "warmup-iterations", path, 0)
	if !wiSet && n.get("warmup-iterations") == nil {
		wi, wiSet = def.warmupIterations, def.warmupIterationsSet
	}
	it, itSet := d.integer(n, "iterations", path, 1)
	if !itSet && n.get("iterations") == nil {
		it, itSet = def.iterations, def.iterationsSet
	}
	wt, wtSet := d.seconds(n, "warmup-time-period", path)
	if !wtSet && n.get("warmup-time-period") == nil {
		wt, wtSet = def.warmupTime, def.warmupTimeSet
	}
	tp, tpSet := d.seconds(n, "time-period", path)
	if !tpSet && n.get("time-period") == nil {
		tp, tpSet = def.time, def.timeSet
	}
	ru, ruSet := d.seconds(n, "ramp-up-time-period", path)
	if n.get("ramp-up-time-period") != nil && def.inParallel {
		if !def.rampUpSet {
			d.errorf(n.get("ramp-up-time-period"), join(path, "ramp-up-time-period"), "task %q in a parallel block specifies a ramp-up-time-period but it is only allowed on the parallel element", t.Name)
		} else if ru != def.rampUp {
			d.errorf(n.get("ramp-up-time-period"), join(path, "ramp-up-time-period"), "task %q specifies a different ramp-up-time-period than its enclosing parallel element", t.Name)
		}
	}
	if n.get("ramp-up-time-period") == nil {
		ru, ruSet = def.rampUp, def.rampUpSet
	}
	t.WarmupIterations, t.Iterations = int(min(wi, math.MaxInt32)), int(min(it, math.MaxInt32))
	t.WarmupTimePeriod, t.TimePeriod, t.RampUpTimePeriod = wt, tp, ru

	// Rally's rules on mixing iterations and time periods.
	switch {
	case wiSet && tpSet:
		d.errorf(n, path, "task %q defines %d warmup iterations and a time period of %v but mixing time periods and iterations is not allowed", t.Name, wi, tp)
	case wtSet && itSet:
		d.errorf(n, path, "task %q defines a warmup time period of %v and %d iterations but mixing time periods and iterations is not allowed", t.Name, wt, it)
	}
	if ruSet {
		switch {
		case wiSet || itSet:
			d.errorf(n, path, "task %q defines a ramp-up time period as well as iterations but mixing time periods and iterations is not allowed", t.Name)
		case !wtSet:
			d.errorf(n, path, "task %q defines a ramp-up time period of %v but no warmup-time-period", t.Name, ru)
		case wt < ru:
			d.errorf(n, path, "the warmup-time-period of task %q is %v but must be greater than or equal to the ramp-up-time-period of %v", t.Name, wt, ru)
		}
	}

	d.throughput(n, path, &t)

	if s, ok := d.str(n, "schedule", path, false); ok && s != "" {
		// Any name loads: a custom scheduler of a track.py only keeps the
		// challenges that use it from running (Check), as in esrally,
		// where it fails when the task starts.
		t.Schedule = Schedule(s)
		t.schedulePos = n.get("schedule").off + 1
	}
	if def.completedBy != "" && t.Name == def.completedBy {
		t.CompletesParent = true
	}
	if lvl, ok := d.str(n, "ignore-response-error-level", path, false); ok {
		if lvl != "" && lvl != "non-fatal" {
			d.errorf(n.get("ignore-response-error-level"), join(path, "ignore-response-error-level"), "want \"non-fatal\", got %q", lvl)
		} else {
			t.IgnoreResponseErrorLevel = lvl
		}
	}
	t.IncludeInReporting = !op.Admin
	if v, ok := op.Params["include-in-reporting"].(bool); ok {
		t.IncludeInReporting = v
	}
	if v, ok := d.boolean(n, "include-in-reporting", path); ok {
		t.IncludeInReporting = v
	}
	if tn := n.get("tags"); tn != nil {
		switch tn.kind {
		case jString:
			t.Tags = []string{tn.str}
		case jArray:
			t.Tags = d.strings(n, "tags", path)
		default:
			d.errorf(tn, join(path, "tags"), "want a string or an array of strings, got %s", got(tn))
		}
	}
	t.Meta = d.anyMap(n, "meta", path)
	for i, k := range n.keys {
		if taskKeys[k] {
			continue
		}
		if t.Params == nil {
			t.Params = map[string]any{}
		}
		t.Params[k] = n.vals[i].value()
	}
	return t, true
}

// throughput decodes target-throughput / target-interval with Rally's
// rules (track.Task.target_throughput).
func (d *decoder) throughput(n *jnode, path string, t *Task) {
	tt, ti := n.get("target-throughput"), n.get("target-interval")
	if tt != nil && ti != nil && tt.kind != jNull && ti.kind != jNull {
		d.errorf(ti, path, "task %q specifies both target-interval and target-throughput but only one of them is allowed", t.Name)
		return
	}
	if ti != nil && ti.kind != jNull {
		f, ok := numberOf(ti)
		if !ok || f < 0 {
			d.errorf(ti, join(path, "target-interval"), "want a number of seconds >= 0, got %s", got(ti))
			return
		}
		if f > 0 {
			t.TargetThroughput = 1 / f
			t.TargetInterval = time.Duration(math.Round(f * float64(time.Second)))
		}
		return
	}
	if tt == nil || tt.kind == jNull {
		return
	}
	switch tt.kind {
	case jNumber:
		f, ok := numberOf(tt)
		if !ok || f < 0 {
			d.errorf(tt, join(path, "target-throughput"), "want a number >= 0 or a string like \"100 ops/s\", got %s", got(tt))
			return
		}
		t.TargetThroughput = f
	case jString:
		v, unit, ok := parseThroughput(tt.str)
		if !ok {
			d.errorf(tt, join(path, "target-throughput"), "invalid target throughput %q: want a number or a string like \"100 ops/s\" or \"50 docs/s\"", tt.str)
			return
		}
		t.TargetThroughput = v
		if v > 0 {
			t.TargetThroughputUnit = unit
		}
	default:
		d.errorf(tt, join(path, "target-throughput"), "want a number or a string like \"100 ops/s\", got %s", got(tt))
	}
}

var throughputRE = regexp.MustCompile(`^((?:\d*\.)?\d+)\s(\w+/s)`)

// parseThroughput is Rally's THROUGHPUT_PATTERN, matched at the start of
// the text: `(\d*\.)?\d+\s\w+/s`.
func parseThroughput(s string) (float64, string, bool) {
	m := throughputRE.FindStringSubmatch(s)
	if m == nil {
		return 0, "", false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, "", false
	}
	return v, m[2], true
}

// --- file names

// archiveExts are the archive formats Rally decompresses
// (esrally utils/io.SUPPORTED_ARCHIVE_FORMATS).
var archiveExts = []string{".zip", ".bz2", ".gz", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".zst"}

func isArchive(name string) bool {
	_, ext := splitExt(name)
	for _, a := range archiveExts {
		if ext == a {
			return true
		}
	}
	return false
}

// splitExt is esrally's io.splitext: Python's os.path.splitext, except
// that .tar.gz and .tar.bz2 count as one extension.
func splitExt(name string) (string, string) {
	for _, double := range []string{".tar.gz", ".tar.bz2"} {
		if strings.HasSuffix(name, double) {
			return name[:len(name)-len(double)], double
		}
	}
	base := filepath.Base(name)
	dot := strings.LastIndex(base, ".")
	// Leading dots of the base name do not start an extension.
	if dot <= 0 || strings.Trim(base[:dot], ".") == "" {
		return name, ""
	}
	cut := len(name) - (len(base) - dot)
	return name[:cut], name[cut:]
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
