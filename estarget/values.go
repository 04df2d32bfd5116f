package estarget

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// tokenize is the target's only analyzer: lower-case, split on anything
// that is not a letter or digit.
func tokenize(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// fieldValues returns the values at a dotted path, flattening arrays, and
// trying literal dotted keys. A ".keyword" multi-field resolves to its
// parent field, as the default dynamic mapping would have created it.
func fieldValues(src map[string]any, field string) []any {
	vals := lookup(src, field, nil)
	if len(vals) == 0 && strings.HasSuffix(field, ".keyword") {
		vals = lookup(src, strings.TrimSuffix(field, ".keyword"), nil)
	}
	return vals
}

func lookup(v any, field string, out []any) []any {
	switch t := v.(type) {
	case map[string]any:
		if x, ok := t[field]; ok {
			return appendFlat(out, x)
		}
		for i := 0; i < len(field); i++ {
			if field[i] != '.' {
				continue
			}
			if x, ok := t[field[:i]]; ok {
				out = lookup(x, field[i+1:], out)
			}
		}
	case []any:
		for _, x := range t {
			out = lookup(x, field, out)
		}
	}
	return out
}

func appendFlat(out []any, v any) []any {
	if list, ok := v.([]any); ok {
		for _, x := range list {
			out = appendFlat(out, x)
		}
		return out
	}
	return append(out, v)
}

// scalarString renders a scalar as the keyword Elasticsearch would index.
func scalarString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	case nil:
		return ""
	case time.Time:
		return t.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

func toFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case string:
		f, err := strconv.ParseFloat(t, 64)
		return f, err == nil
	case bool:
		return 0, false
	}
	return 0, false
}

func valueEqual(doc, want any) bool {
	if a, ok := doc.(float64); ok {
		if b, ok := toFloat(want); ok {
			return a == b
		}
	}
	if b, ok := want.(float64); ok {
		if a, ok := toFloat(doc); ok {
			return a == b
		}
	}
	return scalarString(doc) == scalarString(want)
}

// compareValues orders a document value against a bound or another value:
// dates as instants, numbers numerically, everything else as strings.
func compareValues(a, b any) int {
	if tb, ok := b.(time.Time); ok {
		if ta, ok := toTime(a); ok {
			return ta.Compare(tb)
		}
	}
	if ta, ok := a.(time.Time); ok {
		if tb, ok := toTime(b); ok {
			return ta.Compare(tb)
		}
	}
	fa, aok := toFloat(a)
	fb, bok := toFloat(b)
	if aok && bok {
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	return strings.Compare(scalarString(a), scalarString(b))
}

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02", "2006/01/02 15:04:05", "2006/01/02"}

// toTime reads ISO dates and epoch milliseconds.
func toTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case float64:
		return time.UnixMilli(int64(t)), true
	case string:
		for _, l := range dateLayouts {
			if x, err := time.Parse(l, t); err == nil {
				return x, true
			}
		}
		if t, ok := parseDateMath(t, time.Now()); ok {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseDateMath understands "now", "now-1d", "now+2h/d" and absolute ISO
// dates followed by "||" and math; rounding ("/d") truncates to the unit.
func parseDateMath(s string, now time.Time) (time.Time, bool) {
	var base time.Time
	var rest string
	switch {
	case strings.HasPrefix(s, "now"):
		base, rest = now, s[3:]
	case strings.Contains(s, "||"):
		i := strings.Index(s, "||")
		t, ok := toTime(s[:i])
		if !ok {
			return time.Time{}, false
		}
		base, rest = t, s[i+2:]
	default:
		for _, l := range dateLayouts {
			if x, err := time.Parse(l, s); err == nil {
				return x, true
			}
		}
		return time.Time{}, false
	}
	for rest != "" {
		switch rest[0] {
		case '+', '-':
			sign := 1
			if rest[0] == '-' {
				sign = -1
			}
			i := 1
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
				i++
			}
			n := 1
			if i > 1 {
				n, _ = strconv.Atoi(rest[1:i])
			}
			if i >= len(rest) {
				return time.Time{}, false
			}
			base = addUnit(base, rest[i], sign*n)
			rest = rest[i+1:]
		case '/':
			if len(rest) < 2 {
				return time.Time{}, false
			}
			base = roundUnit(base, rest[1])
			rest = rest[2:]
		default:
			return time.Time{}, false
		}
	}
	return base, true
}

func addUnit(t time.Time, unit byte, n int) time.Time {
	switch unit {
	case 'y':
		return t.AddDate(n, 0, 0)
	case 'M':
		return t.AddDate(0, n, 0)
	case 'w':
		return t.AddDate(0, 0, 7*n)
	case 'd':
		return t.AddDate(0, 0, n)
	case 'h', 'H':
		return t.Add(time.Duration(n) * time.Hour)
	case 'm':
		return t.Add(time.Duration(n) * time.Minute)
	case 's':
		return t.Add(time.Duration(n) * time.Second)
	}
	return t
}

func roundUnit(t time.Time, unit byte) time.Time {
	t = t.UTC()
	switch unit {
	case 'y':
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	case 'M':
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	case 'd':
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case 'h', 'H':
		return t.Truncate(time.Hour)
	case 'm':
		return t.Truncate(time.Minute)
	case 's':
		return t.Truncate(time.Second)
	}
	return t
}

// sortKey is one parsed sort clause.
type sortKey struct {
	field string // "_score", "_doc" or a field
	desc  bool
}

// parseSort reads the forms "f", {"f":"desc"}, {"f":{"order":"desc"}} and
// lists of them.
func parseSort(v any) ([]sortKey, *esError) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	var keys []sortKey
	for _, item := range list {
		switch t := item.(type) {
		case string:
			k := sortKey{field: t}
			if t == "_score" {
				k.desc = true
			}
			if f, dir, ok := strings.Cut(t, ":"); ok {
				k = sortKey{field: f, desc: dir == "desc"}
			}
			keys = append(keys, k)
		case map[string]any:
			for f, spec := range t {
				k := sortKey{field: f, desc: f == "_score"}
				switch sv := spec.(type) {
				case string:
					k.desc = sv == "desc"
				case map[string]any:
					if o, ok := sv["order"].(string); ok {
						k.desc = o == "desc"
					}
				}
				keys = append(keys, k)
			}
		default:
			return nil, parseError("[sort] malformed sort clause")
		}
	}
	return keys, nil
}

// sortValue is the value a document sorts by for one key: the smallest
// value for ascending and the largest for descending, as Elasticsearch's
// default sort mode does.
func sortValue(src map[string]any, k sortKey) any {
	vals := fieldValues(src, k.field)
	var best any
	for _, v := range vals {
		if v == nil {
			continue
		}
		if _, isObj := v.(map[string]any); isObj {
			continue
		}
		if best == nil || (k.desc && compareValues(v, best) > 0) || (!k.desc && compareValues(v, best) < 0) {
			best = v
		}
	}
	return best
}

// compareSort orders two rows of sort values; missing values sort last in
// either direction, as Elasticsearch's default "_last".
func compareSort(a, b []any, keys []sortKey) int {
	for i, k := range keys {
		x, y := a[i], b[i]
		switch {
		case x == nil && y == nil:
			continue
		case x == nil:
			return 1
		case y == nil:
			return -1
		}
		c := compareValues(x, y)
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// sortJSONValue renders a sort value the way hits carry it: numbers as
// numbers (dates as epoch millis), strings as strings.
func sortJSONValue(e *enc, v any) {
	switch t := v.(type) {
	case nil:
		e.null()
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			e.int(int64(t))
		} else {
			e.float(t)
		}
	case time.Time:
		e.int(t.UnixMilli())
	case bool:
		e.boolean(t)
	default:
		e.str(scalarString(t))
	}
}

// sortRows sorts rows stably by their keys.
func sortRows[T any](rows []T, vals func(T) []any, keys []sortKey) {
	sort.SliceStable(rows, func(i, j int) bool { return compareSort(vals(rows[i]), vals(rows[j]), keys) < 0 })
}
