package estarget

import (
	"math"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// aggSpec is one top-level aggregation the target computes.
type aggSpec struct {
	name     string
	typ      string
	field    string
	size     int
	interval float64       // histogram
	fixed    time.Duration // date_histogram fixed_interval
	calendar byte          // date_histogram calendar unit: y q M w d h m s
	minCount int
}

// maxBuckets mirrors search.max_buckets.
const maxBuckets = 65536

// parseAggs reads the "aggs" object. Aggregation types the target does not
// compute are returned by name in unsupported (and left out of the
// response) rather than failing the search.
func parseAggs(v any) ([]*aggSpec, []string, *esError) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, parseError("[aggs] must be an object")
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	var specs []*aggSpec
	var unsupported []string
	for _, name := range names {
		body, ok := m[name].(map[string]any)
		if !ok {
			return nil, nil, parseError("Expected [START_OBJECT] under [%s], but got a [VALUE]", name)
		}
		var spec *aggSpec
		for typ, params := range body {
			if typ == "aggs" || typ == "aggregations" || typ == "meta" {
				continue
			}
			p, _ := params.(map[string]any)
			field, _ := p["field"].(string)
			switch typ {
			case "terms", "min", "max", "avg", "sum", "value_count", "cardinality", "histogram", "date_histogram":
				if field == "" {
					return nil, nil, parseError("[%s] aggregation [%s]: estarget needs a [field] (scripts are not supported)", typ, name)
				}
				spec = &aggSpec{name: name, typ: typ, field: field, size: 10}
			default:
				unsupported = append(unsupported, "aggregation ["+name+"] of type ["+typ+"] is not computed")
				continue
			}
			if n, ok := p["size"].(float64); ok {
				spec.size = int(n)
			}
			if n, ok := p["min_doc_count"].(float64); ok {
				spec.minCount = int(n)
			} else if typ == "terms" {
				spec.minCount = 1
			}
			switch typ {
			case "histogram":
				iv, _ := p["interval"].(float64)
				if iv <= 0 {
					return nil, nil, badRequest("[interval] must be >0 for histogram aggregation [%s]", name)
				}
				spec.interval = iv
			case "date_histogram":
				if e := spec.parseDateInterval(p); e != nil {
					return nil, nil, e
				}
			}
			if _, sub := body["aggs"]; sub {
				unsupported = append(unsupported, "sub-aggregations of ["+name+"] are not computed")
			} else if _, sub := body["aggregations"]; sub {
				unsupported = append(unsupported, "sub-aggregations of ["+name+"] are not computed")
			}
		}
		if spec != nil {
			specs = append(specs, spec)
		}
	}
	return specs, unsupported, nil
}

func (a *aggSpec) parseDateInterval(p map[string]any) *esError {
	if s, ok := p["fixed_interval"].(string); ok {
		d, err := parseESDuration(s)
		if err != nil || d <= 0 {
			return badRequest("failed to parse setting [date_histogram.fixedInterval] with value [%s] as a time value", s)
		}
		a.fixed = d
		return nil
	}
	s, ok := p["calendar_interval"].(string)
	if !ok {
		s, ok = p["interval"].(string)
	}
	if !ok {
		return badRequest("Required one of fields [fixed_interval, calendar_interval], but none were specified for [%s]", a.name)
	}
	units := map[string]byte{
		"1y": 'y', "year": 'y', "1q": 'q', "quarter": 'q', "1M": 'M', "month": 'M', "1w": 'w', "week": 'w',
		"1d": 'd', "day": 'd', "1h": 'h', "hour": 'h', "1m": 'm', "minute": 'm', "1s": 's', "second": 's',
	}
	if u, ok := units[s]; ok {
		a.calendar = u
		return nil
	}
	if d, err := parseESDuration(s); err == nil && d > 0 {
		a.fixed = d
		return nil
	}
	return badRequest("The supplied interval [%s] could not be parsed as a calendar interval.", s)
}

// aggState accumulates one aggregation over the matching documents.
type aggState interface {
	name() string
	add(src map[string]any)
	write(e *enc)
}

func (a *aggSpec) newState() aggState {
	switch a.typ {
	case "terms":
		return &termsAgg{spec: a, counts: map[string]*termBucket{}}
	case "histogram", "date_histogram":
		return &histAgg{spec: a, counts: map[int64]int64{}}
	case "cardinality":
		return &metricAgg{spec: a, distinct: map[string]struct{}{}}
	}
	return &metricAgg{spec: a, min: math.Inf(1), max: math.Inf(-1)}
}

type termBucket struct {
	key   any
	count int64
}

type termsAgg struct {
	spec   *aggSpec
	counts map[string]*termBucket
}

func (t *termsAgg) name() string { return t.spec.name }

func (t *termsAgg) add(src map[string]any) {
	seen := map[string]bool{}
	for _, v := range fieldValues(src, t.spec.field) {
		if v == nil {
			continue
		}
		if _, isObj := v.(map[string]any); isObj {
			continue
		}
		k := scalarString(v)
		if seen[k] {
			continue
		}
		seen[k] = true
		b, ok := t.counts[k]
		if !ok {
			b = &termBucket{key: v}
			t.counts[k] = b
		}
		b.count++
	}
}

func (t *termsAgg) write(e *enc) {
	buckets := make([]*termBucket, 0, len(t.counts))
	for _, b := range t.counts {
		if b.count >= int64(t.spec.minCount) {
			buckets = append(buckets, b)
		}
	}
	sort.Slice(buckets, func(i, j int) bool {
		if buckets[i].count != buckets[j].count {
			return buckets[i].count > buckets[j].count
		}
		return compareValues(buckets[i].key, buckets[j].key) < 0
	})
	var other int64
	if len(buckets) > t.spec.size {
		for _, b := range buckets[t.spec.size:] {
			other += b.count
		}
		buckets = buckets[:t.spec.size]
	}
	e.obj()
	e.kint("doc_count_error_upper_bound", 0)
	e.kint("sum_other_doc_count", other)
	e.karr("buckets")
	for _, b := range buckets {
		e.obj()
		e.key("key")
		switch k := b.key.(type) {
		case float64:
			sortJSONValue(e, k)
		case bool:
			if k {
				e.int(1)
			} else {
				e.int(0)
			}
			e.kstr("key_as_string", strconv.FormatBool(k))
		default:
			e.str(scalarString(k))
		}
		e.kint("doc_count", b.count)
		e.end()
	}
	e.endArr()
	e.end()
}

type metricAgg struct {
	spec     *aggSpec
	count    int64
	sum      float64
	min, max float64
	distinct map[string]struct{}
}

func (m *metricAgg) name() string { return m.spec.name }

func (m *metricAgg) add(src map[string]any) {
	for _, v := range fieldValues(src, m.spec.field) {
		if v == nil {
			continue
		}
		if m.distinct != nil {
			m.distinct[scalarString(v)] = struct{}{}
			continue
		}
		if m.spec.typ == "value_count" {
			m.count++
			continue
		}
		f, ok := toFloat(v)
		if !ok {
			if t, isTime := toTime(v); isTime {
				f, ok = float64(t.UnixMilli()), true
			}
		}
		if !ok {
			continue
		}
		m.count++
		m.sum += f
		m.min = math.Min(m.min, f)
		m.max = math.Max(m.max, f)
	}
}

func (m *metricAgg) write(e *enc) {
	e.obj()
	switch m.spec.typ {
	case "cardinality":
		e.kint("value", int64(len(m.distinct)))
	case "value_count":
		e.kint("value", m.count)
	case "sum":
		e.kfloat("value", m.sum)
	case "avg":
		if m.count == 0 {
			e.knull("value")
		} else {
			e.kfloat("value", m.sum/float64(m.count))
		}
	case "min", "max":
		if m.count == 0 {
			e.knull("value")
		} else if m.spec.typ == "min" {
			e.kfloat("value", m.min)
		} else {
			e.kfloat("value", m.max)
		}
	}
	e.end()
}

// histAgg buckets numeric values (histogram, keyed by bucket index) or
// instants (date_histogram, keyed by the bucket's epoch milliseconds).
type histAgg struct {
	spec   *aggSpec
	counts map[int64]int64
}

func (h *histAgg) name() string { return h.spec.name }

func (h *histAgg) key(v any) (int64, bool) {
	if h.spec.typ == "histogram" {
		f, ok := toFloat(v)
		if !ok {
			return 0, false
		}
		return int64(math.Floor(f / h.spec.interval)), true // bucket index
	}
	t, ok := toTime(v)
	if !ok {
		return 0, false
	}
	return h.floorTime(t).UnixMilli(), true
}

func (h *histAgg) floorTime(t time.Time) time.Time {
	t = t.UTC()
	if h.spec.fixed > 0 {
		ms := t.UnixMilli()
		step := h.spec.fixed.Milliseconds()
		return time.UnixMilli(ms - ((ms%step)+step)%step).UTC()
	}
	switch h.spec.calendar {
	case 'q':
		return time.Date(t.Year(), ((t.Month()-1)/3)*3+1, 1, 0, 0, 0, 0, time.UTC)
	case 'w':
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)) // weeks start on Monday
	}
	return roundUnit(t, h.spec.calendar)
}

// next returns the bucket key after k.
func (h *histAgg) next(k int64) int64 {
	if h.spec.typ == "histogram" {
		return k + 1
	}
	if h.spec.fixed > 0 {
		return k + h.spec.fixed.Milliseconds()
	}
	t := time.UnixMilli(k).UTC()
	switch h.spec.calendar {
	case 'y':
		t = t.AddDate(1, 0, 0)
	case 'q':
		t = t.AddDate(0, 3, 0)
	case 'M':
		t = t.AddDate(0, 1, 0)
	case 'w':
		t = t.AddDate(0, 0, 7)
	case 'd':
		t = t.AddDate(0, 0, 1)
	default:
		t = t.Add(map[byte]time.Duration{'h': time.Hour, 'm': time.Minute, 's': time.Second}[h.spec.calendar])
	}
	return t.UnixMilli()
}

func (h *histAgg) add(src map[string]any) {
	for _, v := range fieldValues(src, h.spec.field) {
		if k, ok := h.key(v); ok {
			h.counts[k]++
		}
	}
}

// check refuses a histogram that would need more than maxBuckets buckets,
// as Elasticsearch does with search.max_buckets.
func (h *histAgg) check() *esError {
	if len(h.counts) == 0 {
		return nil
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for k := range h.counts {
		lo, hi = min(lo, k), max(hi, k)
	}
	n := len(h.counts)
	if h.spec.minCount == 0 {
		n = 0
		for k := lo; k <= hi && n <= maxBuckets; k = h.next(k) {
			n++
			if h.next(k) <= k { // overflow at the end of the int64 range
				break
			}
		}
	}
	if n > maxBuckets {
		return errf(http.StatusBadRequest, "too_many_buckets_exception",
			"Trying to create too many buckets. Must be less than or equal to: [%d] but this number of buckets was exceeded. This limit can be set by changing the [search.max_buckets] cluster level setting.", maxBuckets)
	}
	return nil
}

func (h *histAgg) write(e *enc) {
	keys := make([]int64, 0, len(h.counts))
	for k := range h.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	if h.spec.minCount == 0 && len(keys) > 1 {
		// Elasticsearch fills empty buckets between the first and last key
		// when min_doc_count is 0 (the default).
		var filled []int64
		for k := keys[0]; k <= keys[len(keys)-1] && len(filled) <= maxBuckets; k = h.next(k) {
			filled = append(filled, k)
			if h.next(k) <= k {
				break
			}
		}
		keys = filled
	}
	e.obj()
	e.karr("buckets")
	for i, k := range keys {
		if i > maxBuckets {
			break
		}
		n := h.counts[k]
		if n < int64(h.spec.minCount) {
			continue
		}
		e.obj()
		if h.spec.typ == "date_histogram" {
			e.kstr("key_as_string", time.UnixMilli(k).UTC().Format("2006-01-02T15:04:05.000Z"))
			e.kint("key", k)
		} else {
			e.kfloat("key", float64(k)*h.spec.interval)
		}
		e.kint("doc_count", n)
		e.end()
	}
	e.endArr()
	e.end()
}
