package track

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is a problem in a track: where it is (file, line, column, JSON
// path) and what is wrong. Its text reads like a compiler's:
//
//	nested/track.json:42:17: challenges[0].schedule[3].clients: want a positive integer, got "four"
//
// Errors name the file, line and column where the offending text is
// written: operations/default.json rather than track.json when the text
// was inlined by rally.collect, the {{ ... }} that wrote a bad value, the
// line of a macro or loop that produced it (see origin.go). When that
// cannot be told, JSON decode and schema errors name track.json with the
// line and column in the rendered text (Track.Rendered) and say so.
type Error struct {
	File string
	Line int // 1-based; 0 when unknown
	Col  int // 1-based, in characters; 0 when unknown
	// Path is the JSON path of the offending value, e.g.
	// "challenges[0].schedule[3].clients"; empty for template and syntax
	// errors.
	Path string
	Msg  string
	// Err is the underlying error, if any (a gonja or file-system error).
	Err error

	// renderedPos is the offset plus one, in the rendered track, of a
	// schema error's value (0: none); Load turns it into a file position.
	renderedPos int
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
			if e.Col > 0 {
				b.WriteString(":" + strconv.Itoa(e.Col))
			}
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrorList is several problems found in one pass over a track (schema
// problems are collected rather than reported one at a time).
type ErrorList []*Error

func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap lets errors.As find each *Error.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// asError returns nil for an empty list, the single *Error for one, the
// list otherwise.
func (l ErrorList) asError() error {
	switch len(l) {
	case 0:
		return nil
	case 1:
		return l[0]
	default:
		return l
	}
}

// describeValue renders a JSON value for an error message: strings quoted,
// long values shortened.
func describeValue(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = strconv.Quote(x)
	case nil:
		s = "null"
	case map[string]any:
		s = "an object"
	case []any:
		s = "an array"
	default:
		s = fmt.Sprint(x)
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
