package track

import (
	"sort"
	"strings"
	"sync"

	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// Rendering moves text: a for loop repeats lines, an if drops them, a
// macro writes its body where it is called. A problem found in the rendered
// JSON (a syntax error, a bad value) is reported where its text is written
// in the track's files, found this way: the template's text (what is not
// a tag, an expression or a comment) is marked before every run of it,
// with marks no template writes (characters of Unicode's private use
// area); the marked template is rendered, and the marks, taken out again,
// say which rendered bytes were copied from which template bytes. A
// rendered byte that lies in the output of an expression is reported at
// the tag that wrote it ({{ ... }}).
//
// Marks could change what a template renders (a macro's output compared
// to a string, text captured by {% set %}...{% endset %}): the rendering
// without marks must equal the marked one with its marks taken out, or no
// map is made and positions stay in the rendered text. A second try leaves
// the bodies of macros, set blocks, filter and call blocks unmarked.
//
// The marked rendering costs a second rendering: it is made only when a
// position is needed (an error, or a challenge that cannot run).

// Mark characters: markOpen, the run's number in hexadecimal digits
// markDigit..markDigit+15, markClose.
const (
	markOpen  = '\uE000'
	markClose = '\uE001'
	markDigit = '\uE010'
)

// verbatimRun is a run of template text that rendering copies as it is.
type verbatimRun struct {
	src int // offset in the assembled template
	n   int // bytes up to and with the run's last non-blank byte
	end int // offset where the run ends: the next tag, or the next line's run
}

// renderMark says that the rendered text at out is a copy of run.
type renderMark struct {
	out int
	run int
}

// renderMap maps offsets of a rendered text to offsets of its assembled
// template.
type renderMap struct {
	runs  []verbatimRun
	marks []renderMark // by out
}

// sourceOffset maps an offset of the rendered text to the assembled
// template: exactly inside copied text, else the tag that follows the
// last copied text (the expression whose output it is).
func (m *renderMap) sourceOffset(off int) (int, bool) {
	i := sort.Search(len(m.marks), func(i int) bool { return m.marks[i].out > off }) - 1
	if i < 0 {
		return 0, false
	}
	mk := m.marks[i]
	r := m.runs[mk.run]
	if d := off - mk.out; d < r.n {
		return r.src + d, true
	}
	return r.end, true
}

// origins finds where text of one rendered template is written; made
// lazily, once (see the comment at the top of this file).
type origins struct {
	te       *templateEnv
	src      *source
	rendered string

	once sync.Once
	m    *renderMap
}

func newOrigins(te *templateEnv, src *source, rendered string) *origins {
	return &origins{te: te, src: src, rendered: rendered}
}

// position returns the file (absolute), line and column of the template
// text that produced offset off of the rendered text.
func (o *origins) position(off int) (file string, line, col int, ok bool) {
	if o == nil {
		return "", 0, 0, false
	}
	o.once.Do(func() { o.m = buildRenderMap(o.te, o.src, o.rendered) })
	if o.m == nil {
		return "", 0, 0, false
	}
	srcOff, ok := o.m.sourceOffset(off)
	if !ok {
		return "", 0, 0, false
	}
	return o.src.origin(srcOff)
}

// buildRenderMap renders the marked template and reads the marks back; nil
// when marks change what the template renders.
func buildRenderMap(te *templateEnv, src *source, rendered string) *renderMap {
	for _, skipBlocks := range []bool{false, true} {
		runs := verbatimRuns(src.text, te.cfg, skipBlocks)
		if len(runs) == 0 {
			return nil
		}
		out, err := te.render(&source{text: markText(src.text, runs), spans: src.spans, files: src.files, main: src.main})
		if err != nil {
			continue
		}
		if m, ok := readMarks(out, rendered, runs); ok {
			return m
		}
	}
	return nil
}

// verbatimRuns finds the runs of template text to mark: from the first
// non-blank byte of every data token, and of every line in it, to the next
// such byte or the token's end. Comments are not output; with skipBlocks,
// neither are the bodies of macros, call, filter and set blocks.
func verbatimRuns(text string, cfg *config.Config, skipBlocks bool) (runs []verbatimRun) {
	defer func() {
		if recover() != nil { // the lexer is third-party; no map rather than a failed load
			runs = nil
		}
	}()
	var toks []*tokens.Token
	for stream := tokens.LexAll(text, cfg); !stream.End(); {
		toks = append(toks, stream.Next())
	}
	inComment := false
	var blocks []string
	for i, tok := range toks {
		switch tok.Type {
		case tokens.CommentBegin:
			inComment = true
		case tokens.CommentEnd:
			inComment = false
		case tokens.Name:
			if i > 0 && toks[i-1].Type == tokens.BlockBegin {
				blocks = trackBlocks(blocks, tok.Val, toks[i+1:])
			}
		case tokens.Data:
			if inComment || (skipBlocks && len(blocks) > 0) {
				break
			}
			if tok.Pos < 0 || tok.Pos+len(tok.Val) > len(text) || text[tok.Pos:tok.Pos+len(tok.Val)] != tok.Val {
				break // normalized data: leave it unmarked
			}
			runs = append(runs, dataRuns(text, tok.Pos, tok.Pos+len(tok.Val))...)
		}
	}
	return runs
}

// trackBlocks keeps the stack of open blocks whose bodies are not output
// where they are written; rest are the tokens after the tag's name.
func trackBlocks(blocks []string, name string, rest []*tokens.Token) []string {
	switch name {
	case "macro", "call", "filter":
		return append(blocks, name)
	case "set":
		// {% set x %}...{% endset %} is a block; {% set x = 1 %} is not.
		if !setAssigns(rest) {
			return append(blocks, name)
		}
	case "endmacro", "endcall", "endfilter", "endset":
		if len(blocks) > 0 && blocks[len(blocks)-1] == strings.TrimPrefix(name, "end") {
			return blocks[:len(blocks)-1]
		}
	}
	return blocks
}

// setAssigns looks in a {% set %} tag for its "=".
func setAssigns(rest []*tokens.Token) bool {
	for _, t := range rest {
		switch t.Type {
		case tokens.BlockEnd, tokens.EOF:
			return false
		case tokens.Assign:
			return true
		}
	}
	return false
}

// isBlank is what gonja's whitespace control strips.
func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// dataRuns splits text[start:end] (a data token) into runs.
func dataRuns(text string, start, end int) []verbatimRun {
	var begins []int
	lineStart := true
	for i := start; i < end; i++ {
		c := text[i]
		if c == '\n' {
			lineStart = true
			continue
		}
		if lineStart && !isBlank(c) {
			begins = append(begins, i)
			lineStart = false
		}
	}
	runs := make([]verbatimRun, len(begins))
	for k, b := range begins {
		e := end
		if k+1 < len(begins) {
			e = begins[k+1]
		}
		last := e
		for last > b && isBlank(text[last-1]) {
			last--
		}
		runs[k] = verbatimRun{src: b, n: last - b, end: e}
	}
	return runs
}

// markText inserts the mark of every run before its first byte.
func markText(text string, runs []verbatimRun) string {
	var b strings.Builder
	b.Grow(len(text) + len(runs)*24)
	last := 0
	for i, r := range runs {
		b.WriteString(text[last:r.src])
		writeMark(&b, i)
		last = r.src
	}
	b.WriteString(text[last:])
	return b.String()
}

func writeMark(b *strings.Builder, n int) {
	b.WriteRune(markOpen)
	var digits [16]rune
	k := len(digits)
	for {
		k--
		digits[k] = markDigit + rune(n%16)
		n /= 16
		if n == 0 {
			break
		}
	}
	for _, d := range digits[k:] {
		b.WriteRune(d)
	}
	b.WriteRune(markClose)
}

// readMarks takes the marks out of a marked rendering; ok only when what
// is left is the plain rendering.
func readMarks(marked, plain string, runs []verbatimRun) (*renderMap, bool) {
	m := &renderMap{runs: runs}
	var b strings.Builder
	b.Grow(len(plain))
	const open, closing = string(markOpen), string(markClose)
	for {
		i := strings.Index(marked, open)
		if i < 0 {
			b.WriteString(marked)
			break
		}
		b.WriteString(marked[:i])
		marked = marked[i+len(open):]
		j := strings.Index(marked, closing)
		if j < 0 {
			return nil, false
		}
		n := 0
		for _, d := range marked[:j] {
			if d < markDigit || d > markDigit+15 {
				return nil, false
			}
			n = n*16 + int(d-markDigit)
		}
		if n >= len(runs) {
			return nil, false
		}
		m.marks = append(m.marks, renderMark{out: b.Len(), run: n})
		marked = marked[j+len(closing):]
	}
	if b.String() != plain {
		return nil, false
	}
	return m, true
}
