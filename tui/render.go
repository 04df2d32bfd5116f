package tui

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// theme paints text. A plain theme (NoColor) returns text unchanged, so
// views then hold no escape sequence at all: structure (brackets, symbols)
// carries the meaning, colour only repeats it.
type theme struct {
	plain                            bool
	title, header, active, key, rule lipgloss.Style
	ok, warn, bad, dim               lipgloss.Style
}

func newTheme(noColor bool) theme {
	if noColor {
		return theme{plain: true}
	}
	s := lipgloss.NewStyle()
	return theme{
		title:  s.Bold(true),
		header: s.Bold(true).Foreground(lipgloss.Color("12")),
		active: s.Bold(true).Foreground(lipgloss.Color("0")).Background(lipgloss.Color("12")),
		key:    s.Foreground(lipgloss.Color("12")),
		rule:   s.Foreground(lipgloss.Color("8")),
		ok:     s.Foreground(lipgloss.Color("2")),
		warn:   s.Foreground(lipgloss.Color("3")),
		bad:    s.Foreground(lipgloss.Color("1")),
		dim:    s.Foreground(lipgloss.Color("8")),
	}
}

// paint renders text in style unless the theme is plain.
func (t theme) paint(st lipgloss.Style, text string) string {
	if t.plain || text == "" {
		return text
	}
	return st.Render(text)
}

// renderCtx is what every view needs to draw itself.
type renderCtx struct {
	width int
	at    time.Time // the model's clock: ages are measured against it
	th    theme
}

// fitLine shows the columns [x, x+width) of line: it never returns a line
// wider than width, and marks a cut on the right with an ellipsis.
func fitLine(line string, x, width int) string {
	if width <= 0 {
		return ""
	}
	if x > 0 {
		line = ansi.TruncateLeft(line, x, "")
	}
	if ansi.StringWidth(line) > width {
		line = ansi.Truncate(line, width, "…")
	}
	return line
}

// printable makes text from a host or the coordinator safe to put on a
// terminal: one line, no control characters (a worker's log line must not
// be able to move our cursor or change colours).
func printable(s string) string {
	clean := true
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unicode.IsControl(r):
			return '?'
		}
		return r
	}, s)
}

// textLines splits multi-line text (a report) into printable lines, with
// tabs expanded to 8-column stops.
func textLines(s string) []string {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = printable(expandTabs(l))
	}
	return lines
}

func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		if r == '\t' {
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		}
		b.WriteRune(r)
		col++
	}
	return b.String()
}

// column is one column of a table.
type column struct {
	title string
	right bool // numbers align right
}

// row is one row of a table. A row with a tail shows it from column
// spanFrom on, in place of the remaining cells (a host's error sits where
// its phase would be); tails do not widen the columns.
type row struct {
	cells    []string
	spanFrom int
	tail     string
	// paint styles a cell (col) or the tail (col == -1); nil leaves it plain.
	paint func(col int, s string) string
}

// renderTable lays out a table with columns as wide as their widest cell,
// two spaces apart. Cells must already be printable.
func renderTable(th theme, cols []column, rows []row) []string {
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = ansi.StringWidth(c.title)
	}
	for _, r := range rows {
		n := len(r.cells)
		if r.tail != "" {
			n = min(n, r.spanFrom)
		}
		for i := 0; i < n && i < len(cols); i++ {
			widths[i] = max(widths[i], ansi.StringWidth(r.cells[i]))
		}
	}
	pad := func(s string, w int, right bool) string {
		gap := w - ansi.StringWidth(s)
		if gap <= 0 {
			return s
		}
		if right {
			return strings.Repeat(" ", gap) + s
		}
		return s + strings.Repeat(" ", gap)
	}
	out := make([]string, 0, len(rows)+1)
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString("  ")
		}
		b.WriteString(pad(c.title, widths[i], c.right))
	}
	out = append(out, th.paint(th.header, strings.TrimRight(b.String(), " ")))
	for _, r := range rows {
		b.Reset()
		n := len(cols)
		if r.tail != "" {
			n = r.spanFrom
		}
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString("  ")
			}
			cell := ""
			if i < len(r.cells) {
				cell = r.cells[i]
			}
			cell = pad(cell, widths[i], cols[i].right)
			if r.paint != nil {
				cell = r.paint(i, cell)
			}
			b.WriteString(cell)
		}
		if r.tail != "" {
			if n > 0 {
				b.WriteString("  ")
			}
			tail := r.tail
			if r.paint != nil {
				tail = r.paint(-1, tail)
			}
			b.WriteString(tail)
		}
		out = append(out, strings.TrimRight(b.String(), " "))
	}
	return out
}

// shortDuration shortens a duration for a table: 1h2m3s, 4.2s, 350ms,
// 1.20ms, 351µs.
func shortDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0fms", ms(d))
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", ms(d))
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", ms(d))
	case d >= time.Microsecond:
		return d.Round(time.Microsecond).String()
	}
	return d.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// signedDuration is shortDuration with an explicit sign, for clock offsets.
func signedDuration(d time.Duration) string {
	if d < 0 {
		return "-" + shortDuration(-d)
	}
	return "+" + shortDuration(d)
}

// age says how long ago t was, or "-" when it never happened.
func age(at, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return shortDuration(at.Sub(t)) + " ago"
}

// humanBytes prints a byte count with a binary unit: 512 B, 12.0 KiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// thousands prints an integer with thousands separators: 12,034.
func thousands(n int64) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := fmt.Sprint(n)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func dashInt(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
