package report

import (
	"fmt"
	"strings"
)

// Format is an output format of the report commands.
type Format string

// The formats: Text is aligned for a terminal, Markdown and CSV are Rally's
// --report-format outputs, JSON is for scripts.
const (
	Text     Format = "text"
	Markdown Format = "markdown"
	CSV      Format = "csv"
	JSON     Format = "json"
)

// Formats lists every format, in the order help texts show them.
var Formats = []Format{Text, Markdown, CSV, JSON}

// ParseFormat returns the format named s (case-insensitive).
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Formats {
		if f == known {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, k := range Formats {
		names[i] = string(k)
	}
	return "", fmt.Errorf("report format %q: unknown, want one of %s", s, strings.Join(names, ", "))
}
