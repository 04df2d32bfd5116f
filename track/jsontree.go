package track

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// The track decoder needs the position of every value to say where a
// schema problem is, which encoding/json does not give. jsontree is a small
// strict JSON parser (RFC 8259, like Python's json.loads without NaN and
// Infinity) that keeps byte offsets.

type jkind uint8

const (
	jObject jkind = iota
	jArray
	jString
	jNumber
	jBool
	jNull
)

func (k jkind) String() string {
	switch k {
	case jObject:
		return "an object"
	case jArray:
		return "an array"
	case jString:
		return "a string"
	case jNumber:
		return "a number"
	case jBool:
		return "a boolean"
	default:
		return "null"
	}
}

// jnode is one JSON value with its byte offset in the source.
type jnode struct {
	kind jkind
	off  int
	// keys and vals hold an object's members in source order (keys[i] ->
	// vals[i]); vals alone holds an array's elements.
	keys []string
	vals []*jnode
	// str is a string's value or a number's text.
	str string
	b   bool
}

// get returns the value of key in an object (the last one when a key
// repeats, as Python's json does), or nil.
func (n *jnode) get(key string) *jnode {
	if n == nil || n.kind != jObject {
		return nil
	}
	for i := len(n.keys) - 1; i >= 0; i-- {
		if n.keys[i] == key {
			return n.vals[i]
		}
	}
	return nil
}

// has reports whether an object has key.
func (n *jnode) has(key string) bool { return n.get(key) != nil }

// value converts the node to plain Go values: map[string]any, []any,
// string, json.Number, bool, nil.
func (n *jnode) value() any {
	switch n.kind {
	case jObject:
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			m[k] = n.vals[i].value()
		}
		return m
	case jArray:
		a := make([]any, len(n.vals))
		for i, v := range n.vals {
			a[i] = v.value()
		}
		return a
	case jString:
		return n.str
	case jNumber:
		return json.Number(n.str)
	case jBool:
		return n.b
	default:
		return nil
	}
}

// raw re-encodes the node as compact JSON.
func (n *jnode) raw() json.RawMessage {
	b, err := json.Marshal(n.value())
	if err != nil {
		// Only valid values reach here; Marshal cannot fail on them.
		panic(fmt.Sprintf("track: re-encoding parsed JSON: %v", err))
	}
	return b
}

// jsonSyntaxError is a decode error at a byte offset.
type jsonSyntaxError struct {
	off int
	msg string
}

func (e *jsonSyntaxError) Error() string { return e.msg }

// maxJSONDepth bounds nesting so hostile input cannot exhaust the stack.
const maxJSONDepth = 10000

type jparser struct {
	src   string
	pos   int
	depth int
}

// parseJSON parses src as exactly one JSON value.
func parseJSON(src string) (*jnode, error) {
	p := &jparser{src: src}
	p.skipSpace()
	n, err := p.parseValue()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.src) {
		return nil, p.errorf("unexpected %s after the end of the JSON value", p.describe())
	}
	return n, nil
}

func (p *jparser) errorf(format string, args ...any) error {
	return &jsonSyntaxError{off: p.pos, msg: fmt.Sprintf(format, args...)}
}

// describe names the input at the current position for an error message.
func (p *jparser) describe() string {
	if p.pos >= len(p.src) {
		return "end of input"
	}
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return fmt.Sprintf("%q", r)
}

func (p *jparser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jparser) parseValue() (*jnode, error) {
	if p.pos >= len(p.src) {
		return nil, p.errorf("expecting a value, found end of input")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.parseObject()
	case c == '[':
		return p.parseArray()
	case c == '"':
		off := p.pos
		s, err := p.parseString()
		if err != nil {
			return nil, err
		}
		return &jnode{kind: jString, off: off, str: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.parseNumber()
	case strings.HasPrefix(p.src[p.pos:], "true"):
		p.pos += 4
		return &jnode{kind: jBool, off: p.pos - 4, b: true}, nil
	case strings.HasPrefix(p.src[p.pos:], "false"):
		p.pos += 5
		return &jnode{kind: jBool, off: p.pos - 5}, nil
	case strings.HasPrefix(p.src[p.pos:], "null"):
		p.pos += 4
		return &jnode{kind: jNull, off: p.pos - 4}, nil
	default:
		return nil, p.errorf("expecting a value, found %s", p.describe())
	}
}

func (p *jparser) enter() error {
	p.depth++
	if p.depth > maxJSONDepth {
		return p.errorf("JSON nested deeper than %d levels", maxJSONDepth)
	}
	return nil
}

func (p *jparser) parseObject() (*jnode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	n := &jnode{kind: jObject, off: p.pos}
	p.pos++ // {
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return n, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			if p.pos < len(p.src) && p.src[p.pos] == '}' {
				return nil, p.errorf("trailing comma before '}' (JSON allows none)")
			}
			return nil, p.errorf("expecting a property name in double quotes, found %s", p.describe())
		}
		key, err := p.parseString()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, p.errorf("expecting ':' after property name %q, found %s", key, p.describe())
		}
		p.pos++
		p.skipSpace()
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		n.keys = append(n.keys, key)
		n.vals = append(n.vals, v)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.errorf("expecting ',' or '}' after the value of %q, found end of input", key)
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return n, nil
		default:
			return nil, p.errorf("expecting ',' or '}' after the value of %q, found %s", key, p.describe())
		}
	}
}

func (p *jparser) parseArray() (*jnode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	n := &jnode{kind: jArray, off: p.pos}
	p.pos++ // [
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return n, nil
	}
	for {
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == ']' {
			return nil, p.errorf("trailing comma before ']' (JSON allows none)")
		}
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		n.vals = append(n.vals, v)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.errorf("expecting ',' or ']' after array element, found end of input")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return n, nil
		default:
			return nil, p.errorf("expecting ',' or ']' after array element, found %s", p.describe())
		}
	}
}

func (p *jparser) parseString() (string, error) {
	start := p.pos
	p.pos++ // opening quote
	escaped := false
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			raw := p.src[start:p.pos]
			if !escaped && utf8.ValidString(raw) {
				return raw[1 : len(raw)-1], nil
			}
			var s string
			if err := json.Unmarshal([]byte(raw), &s); err != nil {
				p.pos = start
				return "", p.errorf("invalid string: %v", err)
			}
			return s, nil
		case c == '\\':
			escaped = true
			if p.pos+1 >= len(p.src) {
				p.pos++
				return "", p.errorf("unterminated string")
			}
			if p.src[p.pos+1] == 'u' {
				if p.pos+6 > len(p.src) || !isHex4(p.src[p.pos+2:p.pos+6]) {
					return "", p.errorf(`invalid \u escape in string`)
				}
				p.pos += 6
				continue
			}
			if !strings.ContainsRune(`"\/bfnrt`, rune(p.src[p.pos+1])) {
				return "", p.errorf("invalid escape %q in string", p.src[p.pos:p.pos+2])
			}
			p.pos += 2
		case c < 0x20:
			return "", p.errorf("invalid control character %q in string (a line break inside a string?)", c)
		default:
			p.pos++
		}
	}
	p.pos = start
	return "", p.errorf("unterminated string")
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func (p *jparser) parseNumber() (*jnode, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.src[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.src) && p.src[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return nil, p.errorf("invalid number: expecting a digit, found %s", p.describe())
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.errorf("invalid number: expecting a digit after '.', found %s", p.describe())
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errorf("invalid number: expecting a digit in the exponent, found %s", p.describe())
		}
	}
	return &jnode{kind: jNumber, off: start, str: p.src[start:p.pos]}, nil
}

// lineIndex maps byte offsets of a text to 1-based lines and columns
// (columns count characters, not bytes).
type lineIndex struct {
	src    string
	starts []int
}

func newLineIndex(src string) *lineIndex {
	starts := []int{0}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &lineIndex{src: src, starts: starts}
}

// position returns the line and column of byte offset off.
func (li *lineIndex) position(off int) (line, col int) {
	if off < 0 {
		off = 0
	}
	if off > len(li.src) {
		off = len(li.src)
	}
	i := sort.Search(len(li.starts), func(i int) bool { return li.starts[i] > off }) - 1
	return i + 1, utf8.RuneCountInString(li.src[li.starts[i]:off]) + 1
}

// offset returns the byte offset of a 1-based line and byte column, or -1.
func (li *lineIndex) offset(line, byteCol int) int {
	if line < 1 || line > len(li.starts) {
		return -1
	}
	off := li.starts[line-1] + max(byteCol, 1) - 1
	return min(off, len(li.src))
}

// line returns the text of a 1-based line without its newline.
func (li *lineIndex) line(n int) string {
	if n < 1 || n > len(li.starts) {
		return ""
	}
	end := len(li.src)
	if n < len(li.starts) {
		end = li.starts[n] - 1
	}
	return strings.TrimSuffix(li.src[li.starts[n-1]:end], "\r")
}

// lines returns the number of lines.
func (li *lineIndex) lines() int { return len(li.starts) }
