package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"rally/control"
)

func TestLogs(t *testing.T) {
	rc := renderCtx{width: 80, at: testNow, th: newTheme(true)}
	line := func(i int, host string) logLine {
		return logLine{time: testNow.Add(time.Duration(i) * time.Millisecond), host: host, kind: control.EventLog, text: fmt.Sprintf("line %d", i)}
	}

	t.Run("the_buffer_keeps_the_newest_lines", func(t *testing.T) {
		l := newLogsView(defaultLogLines)
		for i := range 2500 {
			l.add(line(i, "h1"))
		}
		if n := l.count(); n != defaultLogLines {
			t.Fatalf("%d lines kept, want %d", n, defaultLogLines)
		}
		if got := l.at(0).text; got != "line 500" {
			t.Errorf("oldest line is %q, want line 500", got)
		}
		out := l.render(rc, 4)
		if len(out) != 4 || !strings.HasSuffix(out[3], "line 2499") || !strings.HasSuffix(out[1], "line 2497") {
			t.Errorf("render shows %q, want the three newest lines, newest at the bottom", out)
		}
	})

	t.Run("the_filter_shows_one_host", func(t *testing.T) {
		l := newLogsView(100)
		for i := range 30 {
			l.add(line(i, []string{"h1", "h2", "h3"}[i%3]))
		}
		l.cycleFilter()
		l.cycleFilter()
		if l.filter != "h2" || l.count() != 10 {
			t.Fatalf("filter %q with %d lines, want h2 with 10", l.filter, l.count())
		}
		for _, s := range l.render(rc, 20)[1:] {
			if !strings.Contains(s, " h2 ") {
				t.Errorf("filtered view shows %q", s)
			}
		}
	})

	t.Run("a_view_scrolled_back_stays_put", func(t *testing.T) {
		l := newLogsView(100)
		for i := range 50 {
			l.add(line(i, "h1"))
		}
		l.scroll(10, 6)
		before := l.render(rc, 6)
		for i := 50; i < 55; i++ {
			l.add(line(i, "h1"))
		}
		after := l.render(rc, 6)
		if strings.Join(before[1:], "\n") != strings.Join(after[1:], "\n") {
			t.Errorf("new lines moved a scrolled-back view:\nbefore %q\nafter  %q", before, after)
		}
		l.scroll(-1000, 6)
		if l.back != 0 || !strings.HasSuffix(l.render(rc, 6)[5], "line 54") {
			t.Error("scrolling down to the end does not follow the newest line again")
		}
		l.scroll(1000, 6)
		if got := l.render(rc, 6)[1]; !strings.HasSuffix(got, "line 0") {
			t.Errorf("scrolling back to the top shows %q first, want line 0", got)
		}
	})
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                "plain",
		"\x1b[2J\x1b[H":        "?[2J?[H",
		"tab\there\r\n":        "tab here  ",
		"bell\a and \u009b31m": "bell? and ?31m",
		"ünïcödé ✓":            "ünïcödé ✓",
		"bad \xff byte":        "bad \uFFFD byte",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{shortDuration(350 * time.Microsecond), "350µs"},
		{shortDuration(1200 * time.Microsecond), "1.20ms"},
		{shortDuration(45300 * time.Microsecond), "45.3ms"},
		{shortDuration(400 * time.Millisecond), "400ms"},
		{shortDuration(83 * time.Second), "1m23s"},
		{signedDuration(-1200 * time.Microsecond), "-1.20ms"},
		{humanBytes(512), "512 B"},
		{humanBytes(16 << 30), "16.0 GiB"},
		{thousands(12034), "12,034"},
		{thousands(-1234567), "-1,234,567"},
		{throughput(84231.4), "84,231"},
		{throughput(1.5), "1.5"},
		{fitLine("abcdef", 0, 4), "abc…"},
		{fitLine("abcdef", 2, 10), "cdef"},
		{fitLine("abcdef", 2, 3), "cd…"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
