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

// matcher decides whether a decoded document matches a query. Scoring is
// not modelled: every match scores 1.0.
type matcher interface {
	match(src map[string]any, id string) bool
}

// needsSource reports whether m must see the decoded document; match_all
// and ids queries do not, which keeps the common cases cheap.
func needsSource(m matcher) bool {
	switch t := m.(type) {
	case matchAll, matchNone, idsQuery:
		return false
	case *boolQuery:
		for _, list := range [][]matcher{t.must, t.filter, t.should, t.mustNot} {
			for _, c := range list {
				if needsSource(c) {
					return true
				}
			}
		}
		return false
	}
	return true
}

type matchAll struct{}

func (matchAll) match(map[string]any, string) bool { return true }

type matchNone struct{}

func (matchNone) match(map[string]any, string) bool { return false }

type idsQuery map[string]bool

func (q idsQuery) match(_ map[string]any, id string) bool { return q[id] }

type termQuery struct {
	field  string
	values []any
}

func (q *termQuery) match(src map[string]any, _ string) bool {
	for _, v := range fieldValues(src, q.field) {
		for _, want := range q.values {
			if valueEqual(v, want) {
				return true
			}
		}
	}
	return false
}

type existsQuery struct{ field string }

func (q existsQuery) match(src map[string]any, _ string) bool {
	for _, v := range fieldValues(src, q.field) {
		if v != nil {
			return true
		}
	}
	return false
}

type prefixQuery struct {
	field, prefix string
	glob          bool // wildcard query: prefix holds the pattern
}

func (q *prefixQuery) match(src map[string]any, _ string) bool {
	for _, v := range fieldValues(src, q.field) {
		s := scalarString(v)
		if q.glob {
			if wildcardMatch(q.prefix, s, true) {
				return true
			}
		} else if strings.HasPrefix(s, q.prefix) {
			return true
		}
	}
	return false
}

// matchQuery is "match" (phrase=false: any/all query tokens among the
// field's lower-cased tokens) and "match_phrase" (phrase=true: the
// lower-cased query text occurs in the lower-cased field text).
type matchQuery struct {
	fields []string
	tokens []string
	text   string
	and    bool
	phrase bool
}

func (q *matchQuery) match(src map[string]any, _ string) bool {
	for _, f := range q.fields {
		for _, v := range fieldValues(src, f) {
			s := scalarString(v)
			if q.phrase {
				if strings.Contains(strings.ToLower(s), q.text) {
					return true
				}
				continue
			}
			have := tokenize(s)
			hits := 0
			for _, t := range q.tokens {
				for _, h := range have {
					if h == t {
						hits++
						break
					}
				}
			}
			if (q.and && hits == len(q.tokens)) || (!q.and && hits > 0) {
				return true
			}
		}
	}
	return false
}

type rangeQuery struct {
	field            string
	gt, gte, lt, lte any
	hasGt, hasGte    bool
	hasLt, hasLte    bool
}

func (q *rangeQuery) match(src map[string]any, _ string) bool {
	for _, v := range fieldValues(src, q.field) {
		if v == nil {
			continue
		}
		if q.hasGt && compareValues(v, q.gt) <= 0 {
			continue
		}
		if q.hasGte && compareValues(v, q.gte) < 0 {
			continue
		}
		if q.hasLt && compareValues(v, q.lt) >= 0 {
			continue
		}
		if q.hasLte && compareValues(v, q.lte) > 0 {
			continue
		}
		return true
	}
	return false
}

type boolQuery struct {
	must, filter, should, mustNot []matcher
	minShould                     int
}

func (q *boolQuery) match(src map[string]any, id string) bool {
	for _, m := range q.must {
		if !m.match(src, id) {
			return false
		}
	}
	for _, m := range q.filter {
		if !m.match(src, id) {
			return false
		}
	}
	for _, m := range q.mustNot {
		if m.match(src, id) {
			return false
		}
	}
	if q.minShould > 0 {
		n := 0
		for _, m := range q.should {
			if m.match(src, id) {
				n++
				if n >= q.minShould {
					return true
				}
			}
		}
		return false
	}
	return true
}

// compileQuery turns a query DSL object into a matcher. Queries it does not
// implement are a 400 parsing_exception naming them, never a silent
// match-all.
func compileQuery(v any) (matcher, *esError) {
	if v == nil {
		return matchAll{}, nil
	}
	obj, ok := v.(map[string]any)
	if !ok || len(obj) != 1 {
		return nil, parseError("[query] malformed query, expected a single query object")
	}
	for name, body := range obj {
		return compileOne(name, body)
	}
	return nil, nil
}

// fieldBody splits {"field": value-or-object} query bodies.
func fieldBody(name string, body any) (string, any, *esError) {
	m, ok := body.(map[string]any)
	if !ok {
		return "", nil, parseError("[%s] query malformed, no start_object after query name", name)
	}
	var field string
	var val any
	for k, v := range m {
		if k == "boost" || k == "_name" {
			continue
		}
		if field != "" {
			return "", nil, parseError("[%s] query doesn't support multiple fields, found [%s] and [%s]", name, field, k)
		}
		field, val = k, v
	}
	if field == "" {
		return "", nil, parseError("[%s] query malformed, no field", name)
	}
	return field, val, nil
}

// valueOf unwraps {"value": x} / {"query": x} forms.
func valueOf(v any, keys ...string) (any, map[string]any) {
	if m, ok := v.(map[string]any); ok {
		for _, k := range keys {
			if x, ok := m[k]; ok {
				return x, m
			}
		}
		return nil, m
	}
	return v, nil
}

func compileOne(name string, body any) (matcher, *esError) {
	switch name {
	case "match_all":
		return matchAll{}, nil
	case "match_none":
		return matchNone{}, nil
	case "ids":
		m, _ := body.(map[string]any)
		vals, _ := m["values"].([]any)
		q := idsQuery{}
		for _, v := range vals {
			q[scalarString(v)] = true
		}
		return q, nil
	case "term":
		field, val, e := fieldBody(name, body)
		if e != nil {
			return nil, e
		}
		v, _ := valueOf(val, "value")
		return &termQuery{field: field, values: []any{v}}, nil
	case "terms":
		m, ok := body.(map[string]any)
		if !ok {
			return nil, parseError("[terms] query malformed")
		}
		for k, v := range m {
			if k == "boost" || k == "_name" {
				continue
			}
			list, ok := v.([]any)
			if !ok {
				return nil, parseError("[terms] query does not support [%s] as a lookup: estarget only takes a list of values", k)
			}
			return &termQuery{field: k, values: list}, nil
		}
		return nil, parseError("[terms] query malformed, no field")
	case "exists":
		m, _ := body.(map[string]any)
		f, ok := m["field"].(string)
		if !ok {
			return nil, parseError("[exists] must be provided with a [field]")
		}
		return existsQuery{field: f}, nil
	case "prefix", "wildcard":
		field, val, e := fieldBody(name, body)
		if e != nil {
			return nil, e
		}
		v, _ := valueOf(val, "value", "wildcard")
		return &prefixQuery{field: field, prefix: scalarString(v), glob: name == "wildcard"}, nil
	case "match", "match_phrase":
		field, val, e := fieldBody(name, body)
		if e != nil {
			return nil, e
		}
		v, opts := valueOf(val, "query")
		text := scalarString(v)
		q := &matchQuery{fields: []string{field}, text: strings.ToLower(text), tokens: tokenize(text), phrase: name == "match_phrase"}
		if op, _ := opts["operator"].(string); strings.EqualFold(op, "and") {
			q.and = true
		}
		return q, nil
	case "multi_match":
		m, _ := body.(map[string]any)
		text := scalarString(m["query"])
		fields, _ := stringList(m["fields"])
		if len(fields) == 0 {
			return nil, parseError("[multi_match] estarget needs explicit [fields]")
		}
		for i, f := range fields {
			if j := strings.IndexByte(f, '^'); j >= 0 {
				fields[i] = f[:j]
			}
		}
		q := &matchQuery{fields: fields, text: strings.ToLower(text), tokens: tokenize(text)}
		if op, _ := m["operator"].(string); strings.EqualFold(op, "and") {
			q.and = true
		}
		if t, _ := m["type"].(string); t == "phrase" {
			q.phrase = true
		}
		return q, nil
	case "range":
		field, val, e := fieldBody(name, body)
		if e != nil {
			return nil, e
		}
		m, ok := val.(map[string]any)
		if !ok {
			return nil, parseError("[range] query malformed, no start_object after field")
		}
		q := &rangeQuery{field: field}
		for k, v := range m {
			switch k {
			case "gt":
				q.gt, q.hasGt = v, true
			case "gte", "from":
				q.gte, q.hasGte = v, v != nil
			case "lt":
				q.lt, q.hasLt = v, true
			case "lte", "to":
				q.lte, q.hasLte = v, v != nil
			case "format", "time_zone", "boost", "relation", "include_lower", "include_upper", "_name":
			default:
				return nil, parseError("[range] query does not support [%s]", k)
			}
		}
		for _, b := range []*any{&q.gt, &q.gte, &q.lt, &q.lte} {
			if s, ok := (*b).(string); ok {
				if t, ok := parseDateMath(s, time.Now()); ok {
					*b = t
				}
			}
		}
		return q, nil
	case "bool":
		m, ok := body.(map[string]any)
		if !ok {
			return nil, parseError("[bool] query malformed")
		}
		q := &boolQuery{}
		for k, v := range m {
			var dst *[]matcher
			switch k {
			case "must":
				dst = &q.must
			case "filter":
				dst = &q.filter
			case "should":
				dst = &q.should
			case "must_not":
				dst = &q.mustNot
			case "minimum_should_match", "boost", "_name", "adjust_pure_negative":
				continue
			default:
				return nil, parseError("[bool] query does not support [%s]", k)
			}
			list, isList := v.([]any)
			if !isList {
				list = []any{v}
			}
			for _, c := range list {
				cm, e := compileQuery(c)
				if e != nil {
					return nil, e
				}
				*dst = append(*dst, cm)
			}
		}
		if len(q.should) > 0 {
			if len(q.must) == 0 && len(q.filter) == 0 {
				q.minShould = 1
			}
			if msm, ok := m["minimum_should_match"]; ok {
				q.minShould = minimumShouldMatch(msm, len(q.should))
			}
		}
		return q, nil
	case "constant_score":
		m, _ := body.(map[string]any)
		f, ok := m["filter"]
		if !ok {
			return nil, parseError("[constant_score] requires a 'filter' element")
		}
		return compileQuery(f)
	}
	return nil, parseError("unknown query [%s]: the estarget test target does not implement it", name)
}

// minimumShouldMatch understands integers, negative integers and
// percentages.
func minimumShouldMatch(v any, n int) int {
	s := scalarString(v)
	pct := strings.HasSuffix(s, "%")
	s = strings.TrimSuffix(s, "%")
	x, err := strconv.Atoi(s)
	if err != nil {
		return 1
	}
	if pct {
		x = x * n / 100
	}
	if x < 0 {
		x += n
	}
	return max(0, min(x, n))
}

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
