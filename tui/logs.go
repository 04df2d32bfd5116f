package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"rally/control"
)

// defaultLogLines bounds the log buffer: older lines are dropped.
const defaultLogLines = 2000

// logLine is one line of the Logs view.
type logLine struct {
	time time.Time
	host string // "" for the coordinator itself
	// kind is the event the line comes from; empty for the UI's own lines.
	kind control.EventKind
	text string // printable, one line
}

// logsView is the Logs tab: a bounded ring of lines, newest at the bottom,
// optionally filtered to one host.
type logsView struct {
	buf   []logLine // ring of capacity cap(buf)
	start int       // index of the oldest line once the ring is full
	hosts []string  // hosts seen, sorted, for the filter cycle
	// filter is the host shown, "" for all.
	filter string
	// back is how many (filtered) lines the view is scrolled up from the
	// newest; 0 follows new lines.
	back int
}

func newLogsView(capacity int) logsView {
	return logsView{buf: make([]logLine, 0, max(capacity, 1))}
}

// add appends a line, dropping the oldest when full. A view scrolled back
// stays on the same lines.
func (l *logsView) add(line logLine) {
	line.text = strings.TrimRight(printable(line.text), " ")
	line.host = printable(line.host)
	if len(l.buf) < cap(l.buf) {
		l.buf = append(l.buf, line)
	} else {
		l.buf[l.start] = line
		l.start = (l.start + 1) % len(l.buf)
	}
	if line.host != "" {
		l.addHost(line.host)
	}
	if l.back > 0 && l.matches(line) {
		l.back++
	}
}

// addHost makes a host part of the filter cycle.
func (l *logsView) addHost(h string) {
	if i, found := slices.BinarySearch(l.hosts, h); !found {
		l.hosts = slices.Insert(l.hosts, i, h)
	}
}

func (l *logsView) matches(line logLine) bool { return l.filter == "" || line.host == l.filter }

// at returns the i-th line, oldest first.
func (l *logsView) at(i int) logLine { return l.buf[(l.start+i)%len(l.buf)] }

// count is the number of lines the filter lets through.
func (l *logsView) count() int {
	if l.filter == "" {
		return len(l.buf)
	}
	n := 0
	for i := range l.buf {
		if l.buf[i].host == l.filter {
			n++
		}
	}
	return n
}

// cycleFilter moves the filter: all → first host → ... → last host → all.
func (l *logsView) cycleFilter() {
	l.back = 0
	if len(l.hosts) == 0 {
		l.filter = ""
		return
	}
	if l.filter == "" {
		l.filter = l.hosts[0]
		return
	}
	i, found := slices.BinarySearch(l.hosts, l.filter)
	if found {
		i++
	}
	if i >= len(l.hosts) {
		l.filter = ""
		return
	}
	l.filter = l.hosts[i]
}

// scroll moves the view by delta lines (positive is back in time).
func (l *logsView) scroll(delta, height int) {
	l.back = min(max(l.back+delta, 0), max(l.count()-max(height-1, 1), 0))
}

// render draws height lines: a heading, then the newest lines that fit
// (scrolled back by l.back). It walks back from the newest line, so its
// cost is the height, not the buffer.
func (l *logsView) render(rc renderCtx, height int) []string {
	if height <= 0 {
		return nil
	}
	th := rc.th
	filter := "all hosts"
	if l.filter != "" {
		filter = "host " + l.filter
	}
	head := fmt.Sprintf("showing %s (f cycles) · %s", filter, plural(l.count(), "line"))
	if l.back > 0 {
		head += fmt.Sprintf(" · scrolled back %d (end follows)", l.back)
	}
	out := []string{th.paint(th.dim, head)}
	room := height - 1
	if room <= 0 {
		return out
	}
	if len(l.buf) == 0 {
		return append(out, "no log lines yet")
	}
	picked := make([]logLine, 0, room)
	// A terminal grown taller may hold more than was scrolled back over.
	skip := min(l.back, max(l.count()-room, 0))
	for i := len(l.buf) - 1; i >= 0 && len(picked) < room; i-- {
		line := l.at(i)
		if !l.matches(line) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		picked = append(picked, line)
	}
	hostW := 0
	for _, h := range l.hosts {
		hostW = max(hostW, ansi.StringWidth(h))
	}
	hostW = min(hostW, 16)
	for i := len(picked) - 1; i >= 0; i-- {
		out = append(out, l.format(th, picked[i], hostW))
	}
	return out
}

func (l *logsView) format(th theme, line logLine, hostW int) string {
	host := line.host
	if host == "" {
		host = "-"
	}
	if w := ansi.StringWidth(host); w < hostW {
		host += strings.Repeat(" ", hostW-w)
	}
	ts := line.time.Format("15:04:05.000")
	text := line.text
	switch line.kind {
	case control.EventLog:
	case "":
		text = th.paint(th.warn, text)
	default:
		text = th.paint(th.key, string(line.kind)) + " " + text
	}
	return th.paint(th.dim, ts) + " " + host + "  " + text
}
