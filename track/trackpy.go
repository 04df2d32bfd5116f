package track

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// TrackPy is what a track's track.py registers with esrally, as far as
// rally can read it: rally does not run Python, it reads track.py as text
// and finds the calls esrally's plugin registry offers to a track's
// register(registry) function (register_runner, register_param_source,
// register_scheduler, register_track_processor).
//
// What is registered under a computed name, or by code track.py hands its
// registry to, cannot be read; Hidden says where that happens, so that the
// checker (Check) can say so instead of guessing.
type TrackPy struct {
	// File is the absolute path of track.py.
	File         string         `json:"file"`
	Runners      []Registration `json:"runners,omitempty"`
	ParamSources []Registration `json:"param-sources,omitempty"`
	Schedulers   []Registration `json:"schedulers,omitempty"`
	Processors   []Registration `json:"track-processors,omitempty"`
	// Hidden are the places where track.py hands its registry to code
	// outside it, whose registrations rally cannot read; Name is the
	// function called.
	Hidden []Registration `json:"hidden,omitempty"`
	// NoRegister is true when track.py defines no register function (it
	// imports one from elsewhere, or has none): what it registers cannot
	// be read.
	NoRegister bool `json:"no-register-function,omitempty"`
}

// Registration is one registration call found in track.py.
type Registration struct {
	// Name is the registered name for runners, param sources and
	// schedulers given as a string literal; otherwise (a computed name, a
	// track processor, a hidden registration) the expression as written,
	// e.g. "RuntimeFieldResolver()".
	Name string `json:"name"`
	// Literal is true when Name is a string literal of track.py.
	Literal bool `json:"literal,omitempty"`
	// Line is the 1-based line of track.py.
	Line int `json:"line"`
}

// trackPyFile is the name esrally loads a track's plugin code from (the
// track directory's track.py, esrally's TrackPluginReader).
const trackPyFile = "track.py"

// readTrackPy reads dir/track.py; nil when the track has none.
func readTrackPy(dir string) (*TrackPy, error) {
	file := filepath.Join(dir, trackPyFile)
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	py := scanTrackPy(string(b))
	py.File = file
	return py, nil
}

// at names where a registration is: "track.py:52".
func (py *TrackPy) at(r Registration) string {
	return fmt.Sprintf("%s:%d", trackPyFile, r.Line)
}

// find returns the literal registration of name in list.
func find(list []Registration, name string) (Registration, bool) {
	for _, r := range list {
		if r.Literal && r.Name == name {
			return r, true
		}
	}
	return Registration{}, false
}

// computed returns the first registration in list under a name rally
// cannot read.
func computed(list []Registration) (Registration, bool) {
	for _, r := range list {
		if !r.Literal {
			return r, true
		}
	}
	return Registration{}, false
}

// defaultPreparator is esrally's own track processor (it downloads and
// decompresses corpora, what rally's corpus preparation does). Tracks
// register it next to their own processors, because registering any
// processor replaces esrally's default list; it changes no challenge.
const defaultPreparator = "DefaultTrackPreparator"

// customProcessors are the track processors that are not esrally's own.
func (py *TrackPy) customProcessors() []Registration {
	var out []Registration
	for _, r := range py.Processors {
		if processorClass(r.Name) != defaultPreparator {
			out = append(out, r)
		}
	}
	return out
}

// processorClass reads the class of a processor expression:
// "loader.DefaultTrackPreparator()" gives "DefaultTrackPreparator".
func processorClass(expr string) string {
	if i := strings.IndexByte(expr, '('); i >= 0 {
		expr = expr[:i]
	}
	expr = strings.TrimSpace(expr)
	if i := strings.LastIndexByte(expr, '.'); i >= 0 {
		expr = expr[i+1:]
	}
	return expr
}

// --- reading track.py

// pyToken is a token of Python source, as far as scanTrackPy needs: names,
// strings (with their value), and single punctuation characters.
type pyToken struct {
	kind  byte // 'n' name, 's' string, 'p' punctuation
	text  string
	value string // a string's value (escapes kept as written)
	fstr  bool   // an f-string: its value is not a constant
	line  int
	first bool // the first token of a logical line
	col   int  // its column when first (the line's indentation)
}

// tokenizePy splits Python source into tokens, skipping comments and
// keeping string literals whole (also triple-quoted ones). It never fails:
// an unterminated string runs to the end of the text.
func tokenizePy(src string) []pyToken {
	var toks []pyToken
	line, depth := 1, 0
	lineStart, atLineStart := 0, true
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
			lineStart = i
			if depth == 0 {
				atLineStart = true
			}
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			i++
			continue
		case c == '\\' && i+1 < len(src) && src[i+1] == '\n':
			// An explicit line continuation.
			i += 2
			line++
			lineStart = i
			continue
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		}
		tok := pyToken{line: line, first: atLineStart, col: i - lineStart}
		atLineStart = false
		if n, q := stringPrefix(src[i:]); q != 0 {
			prefix := strings.ToLower(src[i : i+n])
			start := i
			i += n
			quote := string(q)
			if strings.HasPrefix(src[i:], strings.Repeat(quote, 3)) {
				quote = strings.Repeat(quote, 3)
			}
			i += len(quote)
			body := i
			closed := false
			for i < len(src) {
				if strings.HasPrefix(src[i:], quote) {
					closed = true
					break
				}
				if src[i] == '\n' && len(quote) == 1 {
					break // an unterminated one-line string ends with its line
				}
				if src[i] == '\\' && i+1 < len(src) {
					i++
				}
				if src[i] == '\n' {
					line++
					lineStart = i + 1
				}
				i++
			}
			tok.kind, tok.value = 's', src[body:i]
			tok.fstr = strings.Contains(prefix, "f")
			if closed {
				i += len(quote)
			}
			tok.text = src[start:i]
			toks = append(toks, tok)
			continue
		}
		if isPyNameStart(c) {
			start := i
			for i < len(src) && (isPyNameStart(src[i]) || (src[i] >= '0' && src[i] <= '9')) {
				i++
			}
			tok.kind, tok.text = 'n', src[start:i]
			toks = append(toks, tok)
			continue
		}
		switch c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth = max(depth-1, 0)
		}
		tok.kind, tok.text = 'p', string(c)
		toks = append(toks, tok)
		i++
	}
	return toks
}

// stringPrefix says whether s starts a string literal: the length of its
// prefix (r, b, u, f and their pairs) and its quote character.
func stringPrefix(s string) (int, byte) {
	for n := 0; n <= 2 && n < len(s); n++ {
		if s[n] == '\'' || s[n] == '"' {
			return n, s[n]
		}
		if !strings.ContainsRune("rRbBuUfF", rune(s[n])) {
			return 0, 0
		}
	}
	return 0, 0
}

func isPyNameStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

// registryMethods are the methods of esrally's plugin registry
// (TrackPluginReader) a track's register function calls.
var registryMethods = []string{"register_runner", "register_param_source", "register_scheduler", "register_track_processor"}

// scanTrackPy finds the registrations in the text of a track.py.
func scanTrackPy(src string) *TrackPy {
	toks := tokenizePy(src)
	py := &TrackPy{}
	defined := map[string]bool{} // functions defined in track.py
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].kind == 'n' && toks[i].text == "def" && toks[i+1].kind == 'n' {
			defined[toks[i+1].text] = true
		}
	}
	for i := 0; i+1 < len(toks); i++ {
		tok := toks[i]
		if tok.kind != 'n' || !slices.Contains(registryMethods, tok.text) || toks[i+1].text != "(" ||
			(i > 0 && toks[i-1].text == "def") {
			continue
		}
		arg := firstArgument(toks, i+2)
		r := Registration{Line: tok.line, Name: tokensText(arg)}
		if len(arg) == 1 && arg[0].kind == 's' && !arg[0].fstr {
			r.Name, r.Literal = arg[0].value, true
		}
		switch tok.text {
		case "register_runner":
			py.Runners = append(py.Runners, r)
		case "register_param_source":
			py.ParamSources = append(py.ParamSources, r)
		case "register_scheduler":
			py.Schedulers = append(py.Schedulers, r)
		case "register_track_processor":
			r.Literal = false
			py.Processors = append(py.Processors, r)
		}
	}
	py.Hidden, py.NoRegister = hiddenRegistrations(toks, defined)
	return py
}

// firstArgument returns the tokens of a call's first argument, from the
// token after "(" to the first comma or closing parenthesis at its level.
func firstArgument(toks []pyToken, from int) []pyToken {
	depth := 0
	for j := from; j < len(toks); j++ {
		switch toks[j].text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			if depth == 0 {
				return toks[from:j]
			}
			depth--
		case ",":
			if depth == 0 && toks[j].kind == 'p' {
				return toks[from:j]
			}
		}
	}
	return toks[from:]
}

// tokensText writes tokens back as compact source text.
func tokensText(toks []pyToken) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 && t.kind != 'p' && toks[i-1].kind != 'p' {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
	}
	s := b.String()
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// hiddenRegistrations finds where track.py's register function hands its
// registry to code rally cannot read: a call of a function not defined in
// track.py with the registry as an argument. noRegister is true when
// track.py has no register function at module level (esrally calls the
// register of track.py's module, which may be imported from elsewhere).
func hiddenRegistrations(toks []pyToken, defined map[string]bool) (hidden []Registration, noRegister bool) {
	def := -1
	for i := 0; i+3 < len(toks); i++ {
		if toks[i].first && toks[i].col == 0 && toks[i].text == "def" && toks[i+1].text == "register" && toks[i+2].text == "(" {
			def = i
			break
		}
	}
	if def < 0 {
		return nil, true
	}
	if toks[def+3].kind != 'n' {
		return nil, false // register() without a parameter: it registers nothing
	}
	param := toks[def+3].text
	// The function's body: the lines indented deeper than its def.
	indent := toks[def].col
	end := len(toks)
	for j := def + 1; j < len(toks); j++ {
		if toks[j].first && toks[j].col <= indent && toks[j].line > toks[def].line {
			end = j
			break
		}
	}
	for j := def + 4; j < end; j++ {
		if toks[j].kind != 'n' || toks[j].text != param || (j+1 < len(toks) && toks[j+1].text == ".") {
			continue
		}
		callee := enclosingCall(toks, def+4, j)
		if callee == "" || defined[callee] {
			continue // not a call argument, or a function of track.py (its registrations were read)
		}
		hidden = append(hidden, Registration{Name: callee, Line: toks[j].line})
	}
	return hidden, false
}

// enclosingCall returns the function called with the argument at toks[at]
// ("helpers.register"), or "" when it is no call's argument.
func enclosingCall(toks []pyToken, from, at int) string {
	depth := 0
	for j := at - 1; j >= from; j-- {
		switch toks[j].text {
		case ")", "]", "}":
			depth++
		case "[", "{":
			if depth == 0 {
				return ""
			}
			depth--
		case "(":
			if depth > 0 {
				depth--
				continue
			}
			// The dotted name before the parenthesis.
			k := j - 1
			var parts []string
			for k >= from && toks[k].kind == 'n' {
				parts = append([]string{toks[k].text}, parts...)
				if k-1 >= from && toks[k-1].text == "." {
					k -= 2
					continue
				}
				break
			}
			return strings.Join(parts, ".")
		}
	}
	return ""
}
