package track

import (
	"strings"
	"testing"
)

func TestDataRuns(t *testing.T) {
	text := "  {\"a\": 1,\n    \"b\": 2   \n\n  }"
	runs := dataRuns(text, 0, len(text))
	want := []verbatimRun{
		{src: 2, n: 8, end: 15},  // {"a": 1,
		{src: 15, n: 6, end: 28}, // "b": 2 (blanks and the empty line are no part of it)
		{src: 28, n: 1, end: 29}, // }
	}
	if len(runs) != len(want) {
		t.Fatalf("runs %+v, want %+v", runs, want)
	}
	for i := range want {
		if runs[i] != want[i] {
			t.Errorf("run %d = %+v, want %+v", i, runs[i], want[i])
		}
	}
}

func TestRenderMap(t *testing.T) {
	// "x: " is copied, then an expression writes "42", then ",\n" and "y" are copied.
	m := &renderMap{
		runs:  []verbatimRun{{src: 10, n: 3, end: 13}, {src: 30, n: 1, end: 31}},
		marks: []renderMark{{out: 0, run: 0}, {out: 7, run: 1}},
	}
	for _, tc := range []struct{ off, want int }{
		{0, 10}, {2, 12}, // inside the copied text
		{3, 13}, {4, 13}, // the expression's output: at the tag that wrote it
		{7, 30},
	} {
		if got, ok := m.sourceOffset(tc.off); !ok || got != tc.want {
			t.Errorf("sourceOffset(%d) = %d, %v; want %d", tc.off, got, ok, tc.want)
		}
	}
	if _, ok := (&renderMap{marks: []renderMark{{out: 5}}, runs: []verbatimRun{{}}}).sourceOffset(2); ok {
		t.Error("an offset before the first mark has no origin")
	}
}

func TestReadMarks(t *testing.T) {
	runs := make([]verbatimRun, 20)
	text := marked(0, "ab", 17, "cd")
	m, ok := readMarks(text, "abcd", runs)
	if !ok || len(m.marks) != 2 || m.marks[0] != (renderMark{out: 0, run: 0}) || m.marks[1] != (renderMark{out: 2, run: 17}) {
		t.Fatalf("marks %+v, %v", m, ok)
	}
	if _, ok := readMarks(text, "abXd", runs); ok {
		t.Error("a rendering that differs once the marks are out must give no map")
	}
	if _, ok := readMarks(string(markOpen)+"ab", "ab", runs); ok {
		t.Error("an unclosed mark must give no map")
	}
	if _, ok := readMarks(marked(99), "", runs); ok {
		t.Error("a mark of no run must give no map")
	}
}

// marked writes marks (ints) and text (strings).
func marked(parts ...any) string {
	var b strings.Builder
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			writeMark(&b, v)
		case string:
			b.WriteString(v)
		}
	}
	return b.String()
}
