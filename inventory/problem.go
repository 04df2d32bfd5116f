package inventory

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Problem is one thing wrong with an inventory file, located as precisely as
// the input allows. Line and Col are 1-based; zero means unknown (a file that
// cannot be read has neither, a YAML syntax error has a line only).
type Problem struct {
	File  string // the inventory file as the user named it
	Line  int
	Col   int
	Field string // the path of the offending value, e.g. hosts[1].roles[0]
	Msg   string
	// Err is the underlying cause when there is one (e.g. an fs error), so
	// that errors.Is(err, fs.ErrNotExist) works through Problems.
	Err error
}

// Error formats the problem the way compilers do, e.g.
// hosts.yaml:12:5: hosts[1].roles[0]: unknown role "loaddriver" (want load-driver or provisioner).
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
		if p.Col > 0 {
			b.WriteString(":" + strconv.Itoa(p.Col))
		}
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Unwrap returns the underlying cause, if any.
func (p Problem) Unwrap() error { return p.Err }

// Problems is every problem found in one inventory file. It is the error
// type Load and Parse return; its Error is one line per problem.
type Problems []Problem

// Error returns one line per problem, in file order.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (ps Problems) Unwrap() []error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errs
}

// sortByPosition orders problems as they appear in the file; problems
// without a position keep their relative order and come first.
func (ps Problems) sortByPosition() {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if c := cmp.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		return cmp.Compare(a.Col, b.Col)
	})
}
