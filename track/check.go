package track

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Whether a challenge can run is decided per challenge, never for the
// whole track: a scheduler, runner or param source that only one
// challenge uses keeps that challenge (and its tasks) from running, not
// the others. Check is the one place that decides it; `rally info` shows
// its answer for every challenge and a race refuses with the same lines.
//
// What a challenge may need that rally cannot provide:
//   - code from the track's track.py (a runner, a param source, a
//     scheduler): rally does not run Python. It reads track.py as text
//     (TrackPy) to say which of these the track registers and where;
//   - a track processor registered by track.py: it may rewrite any
//     challenge after loading (http_logs renames fields in queries), and
//     which ones cannot be told without running it, so it refuses every
//     challenge rather than let a race run different requests than
//     esrally would;
//   - an operation type built into esrally that rally's load driver does
//     not implement;
//   - parameters the load driver refuses (Driver.CheckTask).

// Driver is what the checker needs to know of the load driver. Package
// race passes the real one (package driver imports track, so track cannot
// import it).
type Driver interface {
	// RunsOperationType reports whether the load driver implements this
	// operation type.
	RunsOperationType(typ string) bool
	// CheckTask returns why the load driver cannot run the task (its
	// parameters, its schedule), nil when it can. It is only asked about
	// tasks whose operation type it runs and that need nothing from a
	// track.py.
	CheckTask(t *Track, task *Task) error
}

// ProblemKind says what a Problem is about.
type ProblemKind string

// The kinds of Problem.
const (
	// ProblemRunner: the task's operation type needs a runner from
	// track.py (it is not built into esrally, or track.py replaces
	// esrally's own).
	ProblemRunner ProblemKind = "runner"
	// ProblemParamSource: the operation's param-source is not esrally's
	// own; track.py registers it, or nothing does.
	ProblemParamSource ProblemKind = "param-source"
	// ProblemScheduler: the task's schedule is not deterministic or
	// poisson.
	ProblemScheduler ProblemKind = "scheduler"
	// ProblemTrackProcessor: track.py registers a track processor, which
	// may change any challenge.
	ProblemTrackProcessor ProblemKind = "track-processor"
	// ProblemHiddenRegistry: track.py registers things rally cannot read.
	ProblemHiddenRegistry ProblemKind = "track.py"
	// ProblemNotInDriver: an operation type built into esrally that
	// rally's load driver does not implement.
	ProblemNotInDriver ProblemKind = "not-in-driver"
	// ProblemDriver: the load driver refuses the task (its parameters).
	ProblemDriver ProblemKind = "driver"
)

// Problem is one reason a challenge cannot run here.
type Problem struct {
	Kind ProblemKind `json:"kind"`
	// Task is the task it concerns; empty for a problem of the whole
	// challenge (a track processor).
	Task string `json:"task,omitempty"`
	// Name is what is missing: the runner's operation type, the param
	// source, the scheduler, the processor.
	Name string `json:"name,omitempty"`
	// Where is the file (relative to the track directory), line and
	// column where the construct is written, e.g.
	// "operations/default.json:12:7"; empty when unknown.
	Where string `json:"where,omitempty"`
	// Message says what is wrong, without the task's name.
	Message string `json:"message"`
}

// Note is the short form of a task's problem for the notes of `rally
// info`'s schedule table.
func (p Problem) Note() string {
	switch p.Kind {
	case ProblemRunner, ProblemParamSource, ProblemScheduler:
		return fmt.Sprintf("needs track.py %s: %s", p.Kind, p.Name)
	case ProblemNotInDriver:
		return "not in rally's load driver: " + p.Name
	case ProblemDriver:
		return "refused by the load driver"
	default:
		return string(p.Kind)
	}
}

// Status is Check's answer for one challenge.
type Status struct {
	Track     string    `json:"track"`
	Challenge string    `json:"challenge"`
	Problems  []Problem `json:"problems"`
}

// Runnable reports whether the challenge can run here.
func (s Status) Runnable() bool { return len(s.Problems) == 0 }

// MaxProblemLines bounds the problems shown for one challenge; Lines ends
// with "and N more" beyond it.
const MaxProblemLines = 10

// Lines writes the problems for people, one line each, tasks with the same
// problem on one line, at most MaxProblemLines lines and then "and N
// more".
func (s Status) Lines() []string {
	groups := s.groups()
	var lines []string
	for i, g := range groups {
		if i == MaxProblemLines && len(groups) > MaxProblemLines+1 {
			lines = append(lines, fmt.Sprintf("and %d more", len(groups)-i))
			break
		}
		var b strings.Builder
		if g.p.Where != "" {
			b.WriteString(g.p.Where + ": ")
		}
		switch len(g.tasks) {
		case 0:
		case 1:
			b.WriteString("task " + g.tasks[0] + ": ")
		default:
			b.WriteString("tasks " + listSome(g.tasks, 2) + ": ")
		}
		b.WriteString(g.p.Message)
		lines = append(lines, b.String())
	}
	return lines
}

// Count is the number of distinct problems (the same problem of several
// tasks counts once), as Lines shows them.
func (s Status) Count() int { return len(s.groups()) }

// problemGroup is a problem and the tasks that have it.
type problemGroup struct {
	p     Problem
	tasks []string
}

// groups gathers the tasks with the same problem, in the order of first
// appearance.
func (s Status) groups() []*problemGroup {
	type group = problemGroup
	var groups []*group
	index := map[Problem]*group{}
	for _, p := range s.Problems {
		key := p
		key.Task, key.Where = "", ""
		if g, ok := index[key]; ok && p.Task != "" {
			if !slices.Contains(g.tasks, p.Task) {
				g.tasks = append(g.tasks, p.Task)
			}
			continue
		}
		g := &group{p: p}
		if p.Task != "" {
			g.tasks = []string{p.Task}
		}
		groups = append(groups, g)
		index[key] = g
	}
	return groups
}

// listSome lists at most n names, then "and N more".
func listSome(names []string, n int) string {
	if len(names) <= n+1 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + " and " + strconv.Itoa(len(names)-n) + " more"
}

// Err is nil when the challenge can run, else a *CannotRunError.
func (s Status) Err() error {
	if s.Runnable() {
		return nil
	}
	return &CannotRunError{Track: s.Track, Challenge: s.Challenge, Lines: s.Lines()}
}

// CannotRunError refuses a challenge: what `rally race` says, and `rally
// info --challenge` too, one line per problem.
type CannotRunError struct {
	Track, Challenge string
	Lines            []string
}

func (e *CannotRunError) Error() string {
	return fmt.Sprintf("challenge %s of track %s cannot run here:\n  %s", e.Challenge, e.Track, strings.Join(e.Lines, "\n  "))
}

// builtinSchedulers are the schedulers esrally registers itself
// (esrally/driver/scheduler.py); a track.py cannot replace them (esrally
// refuses a second registration of a name).
var builtinSchedulers = []Schedule{ScheduleDeterministic, SchedulePoisson}

// IsBuiltinSchedule reports whether esrally runs this schedule without a
// track.py.
func IsBuiltinSchedule(s Schedule) bool { return s == "" || slices.Contains(builtinSchedulers, s) }

// Check says whether challenge c of t can run here, with driver d, and if
// not, why: every problem of every task, and of the challenge as a whole.
func Check(t *Track, c *Challenge, d Driver) Status {
	st := Status{Track: t.Name, Challenge: c.Name, Problems: []Problem{}}
	if py := t.TrackPy; py != nil {
		for _, r := range py.customProcessors() {
			st.Problems = append(st.Problems, Problem{Kind: ProblemTrackProcessor, Name: processorClass(r.Name), Where: py.at(r),
				Message: fmt.Sprintf("track processor %s may change any challenge before it runs; rally does not run track.py "+
					"and cannot tell which challenges it changes, so it refuses them all", processorClass(r.Name))})
		}
		for _, r := range py.Hidden {
			st.Problems = append(st.Problems, Problem{Kind: ProblemHiddenRegistry, Name: r.Name, Where: py.at(r),
				Message: fmt.Sprintf("track.py hands its registry to %s, which rally cannot read (it does not run track.py); "+
					"a track processor registered there could change any challenge, so rally refuses them all", r.Name)})
		}
		if py.NoRegister {
			st.Problems = append(st.Problems, Problem{Kind: ProblemHiddenRegistry, Where: trackPyFile,
				Message: "track.py defines no register function (it may import one), so rally cannot read what it registers; " +
					"a track processor registered there could change any challenge, so rally refuses them all"})
		}
	}
	for si := range c.Schedule {
		for ti := range c.Schedule[si].Tasks {
			st.Problems = append(st.Problems, checkTask(t, &c.Schedule[si].Tasks[ti], d)...)
		}
	}
	return st
}

// checkTask lists the problems of one task.
func checkTask(t *Track, task *Task, d Driver) []Problem {
	var out []Problem
	add := func(kind ProblemKind, name string, pos int, format string, args ...any) {
		out = append(out, Problem{Kind: kind, Task: task.Name, Name: name, Where: t.where(pos), Message: fmt.Sprintf(format, args...)})
	}
	py := t.TrackPy
	notRun := ", which rally does not run"
	// unknown says that name is not esrally's own and track.py does not
	// register it (what registers lists; whatKind names it).
	unknown := func(name, esrallys string, list func(*TrackPy) []Registration, whatKind string) string {
		if py == nil {
			return fmt.Sprintf("%s is not %s, and the track has no track.py that could register it", name, esrallys)
		}
		return fmt.Sprintf("%s is neither %s nor registered by track.py%s", name, esrallys, computedNote(py, list, whatKind))
	}
	schedulers := func(p *TrackPy) []Registration { return p.Schedulers }
	runners := func(p *TrackPy) []Registration { return p.Runners }
	paramSources := func(p *TrackPy) []Registration { return p.ParamSources }

	if s := task.Schedule; !IsBuiltinSchedule(s) {
		if r, ok := registered(py, schedulers, string(s)); ok {
			add(ProblemScheduler, string(s), task.schedulePos, "schedule %q is a scheduler from %s%s", s, py.at(r), notRun)
		} else {
			add(ProblemScheduler, string(s), task.schedulePos, "%s",
				unknown(fmt.Sprintf("schedule %q", s), "one of esrally's (deterministic, poisson)", schedulers, "schedulers"))
		}
	}

	op := &task.Operation
	typ := op.Type
	runnerReg, byPy := registered(py, runners, typ)
	switch {
	case byPy && IsBuiltinOperationType(typ):
		add(ProblemRunner, typ, op.typePos, "operation type %q has its own runner in %s, which esrally runs instead of its built-in one and rally does not run",
			typ, py.at(runnerReg))
	case byPy:
		add(ProblemRunner, typ, op.typePos, "operation type %q is a runner from %s%s", typ, py.at(runnerReg), notRun)
	case !IsBuiltinOperationType(typ):
		add(ProblemRunner, typ, op.typePos, "%s", unknown(fmt.Sprintf("operation type %q", typ), "built into esrally", runners, "runners"))
	case !d.RunsOperationType(typ):
		add(ProblemNotInDriver, typ, op.typePos, "operation type %q is built into esrally, but rally's load driver does not run it yet", typ)
	}

	if ps := op.ParamSource; ps != "" {
		if r, ok := registered(py, paramSources, ps); ok {
			add(ProblemParamSource, ps, op.paramSourcePos, "param-source %q comes from %s%s", ps, py.at(r), notRun)
		} else if !IsBuiltinParamSource(ps) {
			add(ProblemParamSource, ps, op.paramSourcePos, "%s", unknown(fmt.Sprintf("param-source %q", ps),
				"esrally's own ("+strings.Join(BuiltinParamSources, ", ")+")", paramSources, "param sources"))
		}
	}

	if len(out) == 0 {
		if err := d.CheckTask(t, task); err != nil {
			add(ProblemDriver, "", task.pos, "%v", err)
		}
	}
	return out
}

// registered finds name among what track.py registers (list picks which).
func registered(py *TrackPy, list func(*TrackPy) []Registration, name string) (Registration, bool) {
	if py == nil {
		return Registration{}, false
	}
	return find(list(py), name)
}

// computedNote mentions registrations under names rally cannot read,
// which may be the missing one.
func computedNote(py *TrackPy, list func(*TrackPy) []Registration, what string) string {
	if py == nil {
		return ""
	}
	if r, ok := computed(list(py)); ok {
		return fmt.Sprintf(" (%s registers %s under a name computed when it runs: %s)", py.at(r), what, r.Name)
	}
	return ""
}

// where names the file, line and column (relative to the track
// directory) of the rendered text at pos (an offset plus one; 0 is
// unknown).
func (t *Track) where(pos int) string {
	if pos <= 0 || t.origins == nil {
		return ""
	}
	file, line, col, ok := t.origins.position(pos - 1)
	if !ok {
		return ""
	}
	if rel, err := filepath.Rel(t.Dir, file); err == nil {
		file = rel
	}
	return fmt.Sprintf("%s:%d:%d", file, line, col)
}
