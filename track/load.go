package track

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"rally/spelling"
)

// LoadOptions say which track to load and how to render it.
type LoadOptions struct {
	// Path is the directory containing track.json, or a .json track file.
	Path string
	// Params are the track parameters (the template variables), e.g. from
	// ParseParams.
	Params map[string]any
	// TestMode applies Rally's --test-mode rewrite: 1000-document "-1k"
	// corpora, one iteration per client, no warmup, at most 10 s per task.
	TestMode bool

	// AllowUnusedParams turns the error for track parameters the track
	// never refers to into a warning (Track.Warnings), as Rally's track
	// setting params.ignore_unused does.
	AllowUnusedParams bool
	// BuildFlavor is the template global build_flavor; "default" when
	// empty ("serverless" makes Rally's tracks drop settings serverless
	// clusters reject).
	BuildFlavor string
	// ServerlessOperator is the template global serverless_operator.
	ServerlessOperator bool
	// Now is the template global now (Unix seconds as a float, used with
	// days_ago); the current time when zero. Tests pin it.
	Now time.Time
}

// Load reads, renders and validates a Rally track.
//
// Errors are *Error or ErrorList values naming file, line, column and JSON
// path; see Error.
func Load(opts LoadOptions) (*Track, error) {
	if opts.Path == "" {
		return nil, fmt.Errorf("load track: no track path given")
	}
	userDir, file, name, err := resolveTrackPath(opts.Path)
	if err != nil {
		return nil, err
	}
	absFile, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("load track %s: %w", opts.Path, err)
	}
	dir := filepath.Dir(absFile)
	display := func(abs string) string {
		rel, err := filepath.Rel(dir, abs)
		if err != nil {
			return abs
		}
		return filepath.Join(userDir, rel)
	}

	var reserved []string
	for _, k := range reservedParams {
		if _, ok := opts.Params[k]; ok {
			reserved = append(reserved, fmt.Sprintf("%q", k))
		}
	}
	if len(reserved) > 0 {
		return nil, &Error{File: display(absFile), Msg: fmt.Sprintf("track parameter(s) %s are defined by Rally and cannot be set", strings.Join(reserved, ", "))}
	}

	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	flavor := opts.BuildFlavor
	if flavor == "" {
		flavor = "default"
	}
	te := newTemplateEnv(dir, opts.Params, now, flavor, opts.ServerlessOperator, display)
	asm := newAssembler(display)
	used, declared := map[string]bool{}, map[string]bool{}

	src, err := asm.assemble(absFile)
	if err != nil {
		return nil, err
	}
	usedNames(src.text, te.cfg, used, declared)
	rendered, err := te.render(src)
	if err != nil {
		return nil, err
	}
	org := newOrigins(te, src, rendered)
	root, err := parseJSON(rendered)
	if err != nil {
		return nil, jsonError(display, rendered, src, org, err)
	}
	py, err := readTrackPy(dir)
	if err != nil {
		return nil, &Error{File: display(filepath.Join(dir, trackPyFile)), Msg: "cannot read track.py", Err: err}
	}

	t := &Track{
		Name:     name,
		Dir:      dir,
		File:     absFile,
		Params:   copyVars(opts.Params),
		Rendered: rendered,
		TrackPy:  py,
		origins:  org,
	}
	if len(t.Params) == 0 {
		t.Params = nil
	}
	d := &decoder{file: display(absFile), li: newLineIndex(rendered)}
	d.loadFile = func(rel string) (*jnode, string, error) {
		abs := filepath.Join(dir, rel)
		bsrc, err := newAssembler(display).assemble(abs)
		if err != nil {
			return nil, abs, err
		}
		usedNames(bsrc.text, te.cfg, used, declared)
		out, err := te.render(bsrc)
		if err != nil {
			return nil, abs, err
		}
		n, err := parseJSON(out)
		if err != nil {
			return nil, abs, jsonError(display, out, bsrc, newOrigins(te, bsrc, out), err)
		}
		return n, abs, nil
	}
	d.track(root, t)
	if err := d.errs.asError(); err != nil {
		locate(d.errs, org, display)
		return nil, err
	}
	t.Warnings = append(t.Warnings, asm.warnings...)

	if unused := unusedParams(opts.Params, used); len(unused) > 0 {
		msg := unusedParamsMessage(t.Name, unused, used, declared)
		if !opts.AllowUnusedParams {
			return nil, &Error{File: display(absFile), Msg: msg}
		}
		t.Warnings = append(t.Warnings, msg)
	}
	if opts.TestMode {
		applyTestMode(t)
	}
	return t, nil
}

// resolveTrackPath finds the track file: Path is a directory with a
// track.json, or a .json file. The track's name is the directory's name,
// or the file's name without .json (Rally's SimpleTrackRepository).
func resolveTrackPath(path string) (userDir, file, name string, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", "", "", fmt.Errorf("load track: %w", err)
	}
	if fi.IsDir() {
		file = filepath.Join(path, "track.json")
		if _, err := os.Stat(file); err != nil {
			return "", "", "", fmt.Errorf("load track: no track.json in %s", path)
		}
		abs, _ := filepath.Abs(path)
		return path, file, filepath.Base(abs), nil
	}
	if !strings.EqualFold(filepath.Ext(path), ".json") {
		return "", "", "", fmt.Errorf("load track: %s has to be a JSON file or a directory with a track.json", path)
	}
	return filepath.Dir(path), path, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), nil
}

// locate moves schema errors from their position in the rendered track to
// where their text is written.
func locate(errs ErrorList, org *origins, display func(string) string) {
	for _, e := range errs {
		if e.renderedPos == 0 {
			continue
		}
		if f, line, col, ok := org.position(e.renderedPos - 1); ok {
			e.File, e.Line, e.Col = display(f), line, col
		} else {
			e.Msg += " (at this line and column of the rendered track)"
		}
	}
}

// jsonError reports a JSON syntax error of a rendered template where its
// text is written, with that line and a caret, and the rendered line too
// when templating changed it. When that place cannot be told, it names the
// rendered text's line and column, with the line before, and where the
// line seems to come from.
func jsonError(display func(string) string, rendered string, src *source, org *origins, err error) error {
	se, ok := err.(*jsonSyntaxError)
	if !ok {
		return &Error{File: display(src.main), Msg: err.Error(), Err: err}
	}
	li := newLineIndex(rendered)
	rline, rcol := li.position(se.off)
	if f, line, col, ok := org.position(se.off); ok {
		var b strings.Builder
		b.WriteString("invalid JSON: " + se.msg)
		text := src.files[f].line(line)
		width := len(fmt.Sprint(max(line, rline)))
		fmt.Fprintf(&b, "\n  %*d | %s", width, line, text)
		fmt.Fprintf(&b, "\n  %*s | %s^", width, "", caretPad(text, col))
		if r := li.line(rline); strings.TrimSpace(r) != strings.TrimSpace(text) {
			fmt.Fprintf(&b, "\n  rendered by the template as:")
			fmt.Fprintf(&b, "\n  %*s | %s", width, "", r)
			fmt.Fprintf(&b, "\n  %*s | %s^", width, "", caretPad(r, rcol))
		}
		return &Error{File: display(f), Line: line, Col: col, Msg: b.String()}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid JSON in the rendered text (line %d, column %d after templating): %s", rline, rcol, se.msg)
	width := len(fmt.Sprint(rline))
	if rline > 1 {
		fmt.Fprintf(&b, "\n  %*d | %s", width, rline-1, li.line(rline-1))
	}
	text := li.line(rline)
	fmt.Fprintf(&b, "\n  %*d | %s", width, rline, text)
	fmt.Fprintf(&b, "\n  %*s | %s^", width, "", caretPad(text, rcol))
	for _, l := range []int{rline, rline - 1} {
		if f, n, ok := src.findLine(li.line(l)); ok {
			rel := f
			if r, err := filepath.Rel(filepath.Dir(src.main), f); err == nil {
				rel = r
			}
			fmt.Fprintf(&b, "\n  (rendered line %d comes from %s:%d)", l, rel, n)
			break
		}
	}
	return &Error{File: display(src.main), Line: rline, Col: rcol, Msg: b.String()}
}

// caretPad returns blanks (tabs kept) as wide as the first col-1
// characters of text.
func caretPad(text string, col int) string {
	var b strings.Builder
	i := 0
	for _, r := range text {
		if i >= col-1 {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
		i++
	}
	for ; i < col-1; i++ {
		b.WriteByte(' ')
	}
	return b.String()
}

// Challenge returns the challenge with this name; an empty name gives the
// default challenge (the only one when the track has one).
func (t *Track) Challenge(name string) (*Challenge, error) {
	if len(t.Challenges) == 0 {
		return nil, fmt.Errorf("track %s has no challenges", t.Name)
	}
	if name == "" {
		for i := range t.Challenges {
			if t.Challenges[i].Default {
				return &t.Challenges[i], nil
			}
		}
		if len(t.Challenges) == 1 {
			return &t.Challenges[0], nil
		}
		return nil, fmt.Errorf("track %s: no default challenge; choose one of: %s", t.Name, strings.Join(t.challengeNames(), ", "))
	}
	for i := range t.Challenges {
		if t.Challenges[i].Name == name {
			return &t.Challenges[i], nil
		}
	}
	return nil, fmt.Errorf("track %s: unknown challenge %q; available: %s", t.Name, name, strings.Join(t.challengeNames(), ", "))
}

func (t *Track) challengeNames() []string {
	names := make([]string, len(t.Challenges))
	for i, c := range t.Challenges {
		names[i] = c.Name
		if c.Default {
			names[i] += " (default)"
		}
	}
	return names
}

// Requirement is something a task needs from the track's track.py, which
// this project does not run.
type Requirement struct {
	Task      string `json:"task"`
	Operation string `json:"operation"`
	// Kind is "runner" (a custom operation type), "param-source" or
	// "scheduler".
	Kind string `json:"kind"`
	// Name is the runner's operation type, the param source's or the
	// scheduler's name.
	Name string `json:"name"`
}

// String reads like "task randomized-nested-queries needs track.py
// param-source: nested-query-source".
func (r Requirement) String() string {
	return fmt.Sprintf("task %s needs track.py %s: %s", r.Task, r.Kind, r.Name)
}

// CustomRequirements lists, in schedule order, what the challenge's tasks
// need from a track.py: runners for custom operation types, custom
// parameter sources and schedulers. Check says more: whether track.py
// registers them, and what else keeps a challenge from running.
func (t *Track) CustomRequirements(c *Challenge) []Requirement {
	var out []Requirement
	if c == nil {
		return nil
	}
	for _, s := range c.Schedule {
		for _, task := range s.Tasks {
			out = append(out, taskRequirements(task)...)
		}
	}
	return out
}

func taskRequirements(task Task) []Requirement {
	var out []Requirement
	if task.Operation.CustomRunner {
		out = append(out, Requirement{Task: task.Name, Operation: task.Operation.Name, Kind: "runner", Name: task.Operation.Type})
	}
	if task.Operation.ParamSource != "" && !IsBuiltinParamSource(task.Operation.ParamSource) {
		out = append(out, Requirement{Task: task.Name, Operation: task.Operation.Name, Kind: "param-source", Name: task.Operation.ParamSource})
	}
	if !IsBuiltinSchedule(task.Schedule) {
		out = append(out, Requirement{Task: task.Name, Operation: task.Operation.Name, Kind: "scheduler", Name: string(task.Schedule)})
	}
	return out
}

// --- unused track parameters

func unusedParams(params map[string]any, used map[string]bool) []string {
	var unused []string
	for k := range params {
		if !used[k] {
			unused = append(unused, k)
		}
	}
	slices.Sort(unused)
	return unused
}

// templateWords are names in template code that are not variables.
var templateWords = map[string]bool{
	"if": true, "elif": true, "else": true, "endif": true, "for": true, "endfor": true, "set": true, "endset": true,
	"import": true, "from": true, "as": true, "with": true, "without": true, "context": true, "include": true,
	"ignore": true, "missing": true, "macro": true, "endmacro": true, "call": true, "endcall": true, "raw": true,
	"endraw": true, "block": true, "endblock": true, "extends": true, "filter": true, "endfilter": true,
	"recursive": true, "loop": true, "true": true, "false": true, "none": true, "True": true, "False": true,
	"None": true, "rally": true, "range": true, "dict": true, "joiner": true, "cycler": true, "lipsum": true,
	"namespace": true, "build_flavor": true, "serverless_operator": true, "now": true, "glob": true,
	"do": true, "autoescape": true, "endautoescape": true, "endwith": true, "trans": true, "endtrans": true,
}

func unusedParamsMessage(track string, unused []string, used, declared map[string]bool) string {
	var exposed []string
	for k := range used {
		if !templateWords[k] && !declared[k] {
			exposed = append(exposed, k)
		}
	}
	slices.Sort(exposed)
	parts := make([]string, len(unused))
	for i, u := range unused {
		parts[i] = fmt.Sprintf("%q", u)
		if m := closestMatch(u, exposed); m != "" {
			parts[i] += fmt.Sprintf(" (did you mean %q?)", m)
		}
	}
	return fmt.Sprintf("track parameter(s) %s not used by track %s; names the track uses: %s",
		strings.Join(parts, ", "), track, strings.Join(exposed, ", "))
}

// closestMatch returns the candidate most similar to word (similarity at
// least 0.6, difflib's default cutoff, which Rally uses), or "".
func closestMatch(word string, candidates []string) string {
	best, bestScore := "", 0.6
	for _, c := range candidates {
		n := max(len(word), len(c))
		if n == 0 {
			continue
		}
		score := 1 - float64(spelling.Distance(word, c))/float64(n)
		if score >= bestScore && c != word {
			best, bestScore = c, score
		}
	}
	return best
}
