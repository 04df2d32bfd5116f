package tui

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"rally/control"
)

// ChallengeChoice is one challenge of the track `r` runs, as the Race
// tab's picker lists it. The caller reads the track; this package does not.
type ChallengeChoice struct {
	// Name is what RaceRequest.Challenge gets when this one is chosen.
	Name string
	// Description is the track's description of the challenge; the picker
	// cuts it at the width.
	Description string
	// Default marks the track's default challenge: the picker starts on it
	// unless Options.Race names another.
	Default bool
	// Tasks is how many tasks the challenge's schedule has.
	Tasks int
}

// raceView is the Race tab: what `r` would start (with a challenge picker
// when the track has several), the race in progress with a bar per task
// and its live figures, and the final report once it ended.
type raceView struct {
	// challenges are the picker's entries; the picker shows only with
	// more than one.
	challenges []ChallengeChoice
	// cursor is the chosen entry of challenges.
	cursor int
	// dismissed is set by `n` on a finished race: the start view (and
	// picker) shows again instead of its report, until another race comes.
	dismissed bool
	progress  *control.RaceProgress
	// report holds the report's lines, split once when it arrives.
	report []string
}

// newRaceView starts the picker on the challenge named chosen, else on
// the default one, else on the first.
func newRaceView(choices []ChallengeChoice, chosen string) raceView {
	r := raceView{challenges: slices.Clone(choices)}
	byName := slices.IndexFunc(r.challenges, func(c ChallengeChoice) bool { return chosen != "" && c.Name == chosen })
	byDefault := slices.IndexFunc(r.challenges, func(c ChallengeChoice) bool { return c.Default })
	switch {
	case byName >= 0:
		r.cursor = byName
	case byDefault >= 0:
		r.cursor = byDefault
	}
	return r
}

// apply takes a race event's progress. It returns whether the race's
// identity or state changed, which is worth a log line.
func (r *raceView) apply(p control.RaceProgress) (changed bool) {
	changed = r.progress == nil || r.progress.ID != p.ID || r.progress.State != p.State
	if r.progress == nil || r.progress.Report != p.Report {
		r.report = textLines(p.Report)
	}
	if r.progress == nil || r.progress.ID != p.ID {
		r.dismissed = false
	}
	r.progress = &p
	return changed
}

func (r *raceView) running() bool {
	return r.progress != nil && r.progress.State == control.RaceRunning
}

// finished says a race ended and its report is on show (not put away
// with `n`).
func (r *raceView) finished() bool {
	return r.progress != nil && !r.running() && !r.dismissed
}

// starting says the tab shows what `r` would start: no race has been
// seen, or the last one ended and was put away. Never while a race runs.
func (r *raceView) starting() bool {
	return r.progress == nil || (r.dismissed && !r.running())
}

// picking says the start view lists challenges to choose from.
func (r *raceView) picking() bool { return r.starting() && len(r.challenges) > 1 }

// chosen is the picker's challenge; ok is false without a picker, when
// `r` sends Options.Race as it is.
func (r *raceView) chosen() (c ChallengeChoice, ok bool) {
	if len(r.challenges) <= 1 {
		return ChallengeChoice{}, false
	}
	return r.challenges[r.cursor], true
}

// moveCursor moves the picker's cursor delta entries down (negative: up);
// it stops at the first and the last entry rather than wrapping.
func (r *raceView) moveCursor(delta int) {
	r.cursor = min(max(r.cursor+delta, 0), max(len(r.challenges)-1, 0))
}

// cursorLine is the line of lines(rc, req) the picker's cursor is on.
func (r *raceView) cursorLine(rc renderCtx, req control.RaceRequest) int {
	return len(r.startHead(rc, req)) + r.cursor
}

// lines is the tab's content; req is what `r` would send.
func (r *raceView) lines(rc renderCtx, req control.RaceRequest) []string {
	if r.starting() {
		return r.startLines(rc, req)
	}
	return r.raceLines(rc)
}

// startHead is the start view down to the picker's first entry.
func (r *raceView) startHead(rc renderCtx, req control.RaceRequest) []string {
	th := rc.th
	out := []string{"no race yet"}
	if p := r.progress; p != nil {
		out[0] = fmt.Sprintf("no race running (the last one, %s, %s)", printable(p.ID), printable(string(p.State)))
	}
	if req.TrackPath == "" {
		return append(out, "", "r would start one, but no track path is set: give the UI a track to run")
	}
	out = append(out, "", "r starts one:", "  track         "+printable(req.TrackPath),
		"  target hosts  "+printable(dash(req.TargetHosts)))
	if req.Challenge != "" {
		out = append(out, "  challenge     "+printable(req.Challenge))
	}
	if len(r.challenges) > 1 {
		out = append(out, "", th.paint(th.header, "CHALLENGES")+th.paint(th.dim, "  ↑↓ choose · r or enter starts the one marked >"))
	}
	return out
}

// startLines is the start view: the request `r` would send and, with
// several challenges, the picker, one line per challenge.
func (r *raceView) startLines(rc renderCtx, req control.RaceRequest) []string {
	out := r.startHead(rc, req)
	if req.TrackPath == "" || len(r.challenges) <= 1 {
		return out
	}
	th := rc.th
	nameW, anyDefault, tasksW := 0, false, 0
	for _, c := range r.challenges {
		nameW = max(nameW, ansi.StringWidth(printable(dash(c.Name))))
		anyDefault = anyDefault || c.Default
		tasksW = max(tasksW, len(plural(c.Tasks, "task")))
	}
	nameW = min(nameW, 32)
	for i, c := range r.challenges {
		name := ansi.Truncate(printable(dash(c.Name)), nameW, "…")
		name += strings.Repeat(" ", nameW-ansi.StringWidth(name))
		mark := "  "
		if i == r.cursor {
			mark = "> "
			name = th.paint(th.active, name)
		}
		line := mark + name
		if anyDefault {
			def := "       "
			if c.Default {
				def = th.paint(th.ok, "default")
			}
			line += "  " + def
		}
		line += "  " + fmt.Sprintf("%*s", tasksW, plural(c.Tasks, "task"))
		if d := strings.Join(strings.Fields(printable(c.Description)), " "); d != "" {
			if room := rc.width - ansi.StringWidth(line) - 2; room > 0 {
				line += "  " + th.paint(th.dim, ansi.Truncate(d, room, "…"))
			}
		}
		out = append(out, line)
	}
	return out
}

// raceLines is the race in progress, or finished with its report.
func (r *raceView) raceLines(rc renderCtx) []string {
	th := rc.th
	p := r.progress
	head := fmt.Sprintf("race %s · track %s", printable(p.ID), printable(dash(p.Track)))
	if p.Challenge != "" {
		head += " · challenge " + printable(p.Challenge)
	}
	state := string(p.State)
	if p.State == control.RaceRunning && !p.Started.IsZero() {
		state += " for " + shortDuration(rc.at.Sub(p.Started))
	}
	out := []string{th.paint(th.title, head) + " · " + th.paint(raceStyle(th, p.State), printable(state))}
	if p.Error != "" {
		out = append(out, th.paint(th.bad, "error: "+printable(p.Error)))
	}
	out = append(out, "")
	if len(p.CorpusPush) > 0 {
		out = append(out, corpusPushLines(rc, p)...)
	}

	nameW := 0
	for _, t := range p.Tasks {
		nameW = max(nameW, ansi.StringWidth(printable(t.Task)))
	}
	nameW = min(nameW, 30)
	for _, t := range p.Tasks {
		out = append(out, taskLines(rc, t, nameW)...)
	}
	if len(p.Tasks) == 0 {
		out = append(out, "no tasks reported yet")
	}
	if len(r.report) > 0 {
		out = append(out, "", th.paint(th.header, "REPORT"))
		out = append(out, r.report...)
	}
	return out
}

// corpusPushLines are the corpus push before the race, a line per host:
// its phase and bytes sent of those it lacked.
func corpusPushLines(rc renderCtx, p *control.RaceProgress) []string {
	th := rc.th
	hosts := slices.Sorted(maps.Keys(p.CorpusPush))
	w := 0
	for _, h := range hosts {
		w = max(w, ansi.StringWidth(printable(h)))
	}
	out := []string{th.paint(th.header, "CORPUS PUSH")}
	for _, h := range hosts {
		cp := p.CorpusPush[h]
		style := th.warn
		switch {
		case cp.Done():
			style = th.ok
		case cp.Failed():
			style = th.bad
		}
		name := printable(h) + strings.Repeat(" ", w-ansi.StringWidth(printable(h)))
		out = append(out, ansi.Truncate("  "+name+"  "+th.paint(style, printable(cp.String())), rc.width, "…"))
	}
	return append(out, "")
}

func raceStyle(th theme, state control.RaceState) lipgloss.Style {
	switch state {
	case control.RaceCompleted:
		return th.ok
	case control.RaceFailed, control.RaceAborted:
		return th.bad
	}
	return th.warn
}

// taskLines draws a task in three lines: name, state and bar; throughput
// and percentiles; requests, errors and requests per load-driver host. A
// task still waiting gets the first line only.
func taskLines(rc renderCtx, t control.TaskProgress, nameW int) []string {
	th := rc.th
	name := ansi.Truncate(printable(t.Task), nameW, "…")
	name += strings.Repeat(" ", nameW-ansi.StringWidth(name))
	state := fmt.Sprintf("%-7s", printable(string(t.State)))
	barW := min(max(rc.width-nameW-len(state)-2-2-5, 10), 50)
	frac := t.Done
	if t.State == control.TaskDone {
		frac = 1
	}
	pct := "   ?"
	bar := strings.Repeat("·", barW)
	if frac >= 0 {
		frac = min(frac, 1)
		full := int(frac*float64(barW) + 0.5)
		bar = th.paint(th.ok, strings.Repeat("█", full)) + th.paint(th.dim, strings.Repeat("░", barW-full))
		pct = fmt.Sprintf("%3.0f%%", frac*100)
	}
	first := name + "  " + th.paint(taskStyle(th, t.State), state) + "  " + bar + " " + pct

	unit := t.Unit
	if unit == "" {
		unit = "ops/s"
	}
	second := fmt.Sprintf("  %s %s · p50/p99 latency %s/%s · service time %s/%s",
		throughput(t.Throughput), printable(unit), shortDuration(t.LatencyP50), shortDuration(t.LatencyP99),
		shortDuration(t.ServiceTimeP50), shortDuration(t.ServiceTimeP99))

	if t.Requests == 0 && t.State == control.TaskWaiting {
		return []string{first}
	}
	errs := plural(int(t.Errors), "error")
	if t.Errors > 0 {
		errs = th.paint(th.bad, errs)
	}
	third := "  " + thousands(t.Requests) + " request"
	if t.Requests != 1 {
		third += "s"
	}
	third += " · " + errs
	for _, h := range slices.Sorted(maps.Keys(t.PerHost)) {
		third += " · " + printable(h) + " " + thousands(t.PerHost[h])
	}
	return []string{first, second, third}
}

func taskStyle(th theme, state control.TaskState) lipgloss.Style {
	switch state {
	case control.TaskDone:
		return th.ok
	case control.TaskRunning:
		return th.warn
	}
	return th.dim
}

// throughput prints a rate with thousands separators above 100, one
// decimal below.
func throughput(v float64) string {
	if v >= 100 {
		return thousands(int64(v + 0.5))
	}
	return fmt.Sprintf("%.1f", v)
}
