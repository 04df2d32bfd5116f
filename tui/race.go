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

// raceView is the Race tab: the race in progress with a bar per task and
// its live figures, and the final report once it ended.
type raceView struct {
	// defaults is what `r` starts.
	defaults control.RaceRequest
	progress *control.RaceProgress
	// report holds the report's lines, split once when it arrives.
	report []string
}

// apply takes a "race" event's progress. It returns whether the race's
// identity or state changed, which is worth a log line.
func (r *raceView) apply(p control.RaceProgress) (changed bool) {
	changed = r.progress == nil || r.progress.ID != p.ID || r.progress.State != p.State
	if r.progress == nil || r.progress.Report != p.Report {
		r.report = textLines(p.Report)
	}
	r.progress = &p
	return changed
}

func (r *raceView) running() bool {
	return r.progress != nil && r.progress.State == control.RaceRunning
}

func (r *raceView) lines(rc renderCtx) []string {
	th := rc.th
	if r.progress == nil {
		out := []string{"no race yet"}
		if r.defaults.TrackPath == "" {
			return append(out, "", "r would start one, but no track path is set: give the UI a track to run")
		}
		return append(out, "", "r starts one:", "  track         "+printable(r.defaults.TrackPath),
			"  target hosts  "+printable(dash(r.defaults.TargetHosts)))
	}
	p := r.progress
	head := fmt.Sprintf("race %s · track %s", printable(p.ID), printable(dash(p.Track)))
	if p.Challenge != "" {
		head += " · challenge " + printable(p.Challenge)
	}
	state := p.State
	if p.State == control.RaceRunning && !p.Started.IsZero() {
		state += " for " + shortDuration(rc.at.Sub(p.Started))
	}
	out := []string{th.paint(th.title, head) + " · " + th.paint(raceStyle(th, p.State), printable(state))}
	if p.Error != "" {
		out = append(out, th.paint(th.bad, "error: "+printable(p.Error)))
	}
	out = append(out, "")

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

func raceStyle(th theme, state string) lipgloss.Style {
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
	state := fmt.Sprintf("%-7s", printable(t.State))
	barW := min(max(rc.width-nameW-len(state)-2-2-5, 10), 50)
	frac := t.Done
	if t.State == "done" {
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

	if t.Requests == 0 && t.State == "waiting" {
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

func taskStyle(th theme, state string) lipgloss.Style {
	switch state {
	case "done":
		return th.ok
	case "running":
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
