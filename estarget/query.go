package estarget

import (
	"strconv"
	"strings"
	"time"
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
