package track

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Rally inlines rally.collect(parts="...") calls textually before it
// renders anything (esrally TemplateSource.replace_includes): every file
// matching the glob, relative to the file doing the collect, is read,
// the contents are joined with ",\n", and collect calls inside them are
// expanded the same way relative to their own directory. The whole text is
// then rendered as one template, so a {% set %} in track.json is visible in
// the inlined challenge files. We do the same and remember where each byte
// came from, so a template error on line 1041 of the assembled text is
// reported as operations/default.json:12.
//
// Only the exact spelling Rally's regular expression matches is inlined
// (double quotes, at least one space inside the braces); other spellings
// fall through to the rally.collect macro at render time, as in Rally.
var collectRE = regexp.MustCompile(`\{\{ +?rally\.collect\(parts="(.+?)"\) +?\}\}`)

// maxCollectDepth stops a file that (indirectly) collects itself.
const maxCollectDepth = 16

// span says that text[off:off+n] of an assembled source is
// file[fileOff:fileOff+n].
type span struct {
	file         string // absolute path
	fileOff, off int
	n            int
}

// mtext is text with the origin of its bytes.
type mtext struct {
	b     strings.Builder
	spans []span
}

func (m *mtext) len() int { return m.b.Len() }

func (m *mtext) appendText(s string) { m.b.WriteString(s) }

func (m *mtext) appendFile(file, content string) {
	m.spans = append(m.spans, span{file: file, off: m.b.Len(), n: len(content)})
	m.b.WriteString(content)
}

// appendFrom copies src.text[start:end] with its origins.
func (m *mtext) appendFrom(src *mtext, text string, start, end int) {
	base := m.b.Len()
	m.b.WriteString(text[start:end])
	for _, s := range src.spans {
		lo, hi := max(s.off, start), min(s.off+s.n, end)
		if lo >= hi {
			continue
		}
		m.spans = append(m.spans, span{file: s.file, fileOff: s.fileOff + lo - s.off, off: base + lo - start, n: hi - lo})
	}
}

// appendMapped appends all of other.
func (m *mtext) appendMapped(other *mtext) {
	text := other.b.String()
	m.appendFrom(other, text, 0, len(text))
}

// source is an assembled template: its text and where each part came from.
type source struct {
	text  string
	spans []span
	// files holds the line index of every file that contributed.
	files map[string]*lineIndex
	// main is the file the assembly started from.
	main string
}

// origin maps a byte offset of the assembled text to a file and a 1-based
// line and column in it.
func (s *source) origin(off int) (file string, line, col int, ok bool) {
	i := sort.Search(len(s.spans), func(i int) bool { return s.spans[i].off+s.spans[i].n > off })
	if i == len(s.spans) || s.spans[i].off > off {
		return "", 0, 0, false
	}
	sp := s.spans[i]
	li := s.files[sp.file]
	line, col = li.position(sp.fileOff + off - sp.off)
	return sp.file, line, col, true
}

// originOfLine maps a 1-based line of the assembled text (and a byte
// column, 0 for unknown) to a file position.
func (s *source) originOfLine(line, byteCol int) (file string, l, c int, ok bool) {
	li := newLineIndex(s.text)
	off := li.offset(line, max(byteCol, 1))
	if off < 0 {
		return "", 0, 0, false
	}
	file, l, c, ok = s.origin(off)
	if byteCol == 0 {
		c = 0
	}
	return file, l, c, ok
}

// findLine looks for a line of a contributing file whose text equals line
// (ignoring surrounding blanks). It returns the file and line when exactly
// one line matches; used to point from the rendered text back to a source.
func (s *source) findLine(line string) (file string, n int, ok bool) {
	want := strings.TrimSpace(line)
	if len(want) < 6 || strings.Trim(want, "{}[],: ") == "" {
		return "", 0, false
	}
	found := 0
	names := make([]string, 0, len(s.files))
	for f := range s.files {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		li := s.files[f]
		for i := 1; i <= li.lines(); i++ {
			if strings.TrimSpace(li.line(i)) == want {
				found++
				file, n = f, i
			}
		}
	}
	return file, n, found == 1
}

// assembler reads template files and expands rally.collect calls.
type assembler struct {
	display  func(abs string) string
	files    map[string]*lineIndex
	warnings []string
}

func newAssembler(display func(string) string) *assembler {
	return &assembler{display: display, files: map[string]*lineIndex{}}
}

// readFile reads a template file the way Python's text mode does (\r\n and
// \r become \n).
func (a *assembler) readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	a.files[path] = newLineIndex(s)
	return s, nil
}

// assemble reads file and expands every collect call in it.
func (a *assembler) assemble(file string) (*source, error) {
	content, err := a.readFile(file)
	if err != nil {
		return nil, &Error{File: a.display(file), Msg: "cannot read template", Err: err}
	}
	var m mtext
	m.appendFile(file, content)
	out, err := a.expand(filepath.Dir(file), &m, 0)
	if err != nil {
		return nil, err
	}
	return &source{text: out.b.String(), spans: out.spans, files: a.files, main: file}, nil
}

func (a *assembler) expand(base string, frag *mtext, depth int) (*mtext, error) {
	text := frag.b.String()
	matches := collectRE.FindAllStringSubmatchIndex(text, -1)
	if len(matches) == 0 {
		return frag, nil
	}
	where := func(off int) *Error {
		e := &Error{}
		src := &source{text: text, spans: frag.spans, files: a.files}
		if f, l, c, ok := src.origin(off); ok {
			e.File, e.Line, e.Col = a.display(f), l, c
		}
		return e
	}
	if depth >= maxCollectDepth {
		e := where(matches[0][0])
		e.Msg = fmt.Sprintf("rally.collect nested more than %d levels deep (does a file collect itself?)", maxCollectDepth)
		return nil, e
	}
	// Expand each distinct pattern once, as Rally does.
	expanded := map[string]*mtext{}
	out := &mtext{}
	last := 0
	for _, mt := range matches {
		pattern := text[mt[2]:mt[3]]
		sub, ok := expanded[pattern]
		if !ok {
			full := filepath.Join(base, pattern)
			files, err := globFiles(full)
			if err != nil {
				e := where(mt[0])
				e.Msg, e.Err = fmt.Sprintf("rally.collect(parts=%q): %v", pattern, err), err
				return nil, e
			}
			if len(files) == 0 {
				e := where(mt[0])
				e.Msg = fmt.Sprintf("rally.collect(parts=%q) matched no file", pattern)
				a.warnings = append(a.warnings, e.Error())
			}
			joined := &mtext{}
			for i, f := range files {
				content, err := a.readFile(f)
				if err != nil {
					e := where(mt[0])
					e.Msg, e.Err = fmt.Sprintf("rally.collect(parts=%q): cannot read %s", pattern, a.display(f)), err
					return nil, e
				}
				if i > 0 {
					joined.appendText(",\n")
				}
				joined.appendFile(f, content)
			}
			sub, err = a.expand(filepath.Dir(full), joined, depth+1)
			if err != nil {
				return nil, err
			}
			expanded[pattern] = sub
		}
		out.appendFrom(frag, text, last, mt[0])
		out.appendMapped(sub)
		last = mt[1]
	}
	out.appendFrom(frag, text, last, len(text))
	return out, nil
}

// globFiles is Python's glob.glob for the patterns tracks use: sorted,
// regular files only, and "*" does not match names starting with a dot.
func globFiles(pattern string) ([]string, error) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	hiddenOK := strings.HasPrefix(filepath.Base(pattern), ".")
	var files []string
	for _, m := range matches {
		if !hiddenOK && strings.HasPrefix(filepath.Base(m), ".") {
			continue
		}
		if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
			files = append(files, m)
		}
	}
	sort.Strings(files)
	return files, nil
}
