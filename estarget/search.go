package estarget

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// searchSpec is a parsed search request.
type searchSpec struct {
	query       matcher
	needSource  bool
	size, from  int
	sort        []sortKey
	trackTotal  int // hits counted exactly up to this; <0 means all; 0 means no total
	sourceOff   bool
	aggs        []*aggSpec
	unsupported []string
	searchAfter []any
	pitID       string
	pitKeep     time.Duration
	terminate   int
	version     bool
	seqNoTerm   bool
}

// hit is a matching document found by a scan.
type hit struct {
	ix     *index
	id     string
	source []byte
	sort   []any
	ver    int64
	seqNo  int64
}

const defaultTrackTotalHits = 10000

// parseSearch reads the body and URL parameters of a search.
func parseSearch(q *req, body []byte) (*searchSpec, *esError) {
	spec := &searchSpec{size: 10, trackTotal: defaultTrackTotalHits}
	var b map[string]any
	if e := decodeBody(body, &b); e != nil {
		return nil, e
	}
	if v, ok := b["query"]; ok {
		m, e := compileQuery(v)
		if e != nil {
			return nil, e
		}
		spec.query = m
	} else if qs, ok := q.param("q"); ok {
		m, e := compileQueryString(qs)
		if e != nil {
			return nil, e
		}
		spec.query = m
	} else {
		spec.query = matchAll{}
	}
	intParam := func(name string, dst *int) *esError {
		if v, ok := b[name]; ok {
			f, ok := v.(float64)
			if !ok || f < 0 {
				return badRequest("[%s] must be a non-negative number but was [%v]", name, v)
			}
			*dst = int(f)
		}
		if v, ok := q.param(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return badRequest("Failed to parse int parameter [%s] with value [%s]", name, v)
			}
			*dst = n
		}
		return nil
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"size", &spec.size}, {"from", &spec.from}, {"terminate_after", &spec.terminate}} {
		if e := intParam(p.name, p.dst); e != nil {
			return nil, e
		}
	}
	if spec.from+spec.size > 10000 && b["search_after"] == nil {
		if _, scroll := q.param("scroll"); !scroll {
			return nil, badRequest("Result window is too large, from + size must be less than or equal to: [10000] but was [%d]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.", spec.from+spec.size)
		}
	}
	sortSrc := b["sort"]
	if v, ok := q.param("sort"); ok && sortSrc == nil {
		var list []any
		for _, s := range strings.Split(v, ",") {
			list = append(list, s)
		}
		sortSrc = list
	}
	keys, e := parseSort(sortSrc)
	if e != nil {
		return nil, e
	}
	spec.sort = keys
	tth := b["track_total_hits"]
	if v, ok := q.param("track_total_hits"); ok {
		tth = v
	}
	switch t := tth.(type) {
	case bool:
		if t {
			spec.trackTotal = -1
		} else {
			spec.trackTotal = 0
		}
	case float64:
		spec.trackTotal = int(t)
	case string:
		switch t {
		case "true":
			spec.trackTotal = -1
		case "false":
			spec.trackTotal = 0
		default:
			n, err := strconv.Atoi(t)
			if err != nil {
				return nil, badRequest("[track_total_hits] must be a boolean or an integer but was [%s]", t)
			}
			spec.trackTotal = n
		}
	}
	switch t := b["_source"].(type) {
	case bool:
		spec.sourceOff = !t
	}
	if v, ok := q.param("_source"); ok && v == "false" {
		spec.sourceOff = true
	}
	if v, _ := b["version"].(bool); v || q.flag("version") {
		spec.version = true
	}
	if v, _ := b["seq_no_primary_term"].(bool); v || q.flag("seq_no_primary_term") {
		spec.seqNoTerm = true
	}
	aggsSrc := b["aggs"]
	if aggsSrc == nil {
		aggsSrc = b["aggregations"]
	}
	if aggsSrc != nil {
		aggs, unsupported, e := parseAggs(aggsSrc)
		if e != nil {
			return nil, e
		}
		spec.aggs, spec.unsupported = aggs, unsupported
	}
	if sa, ok := b["search_after"]; ok {
		list, ok := sa.([]any)
		if !ok {
			return nil, parseError("[search_after] must be an array")
		}
		spec.searchAfter = list
	}
	if p, ok := b["pit"].(map[string]any); ok {
		id, _ := p["id"].(string)
		if id == "" {
			return nil, badRequest("[pit] requires an [id]")
		}
		spec.pitID = id
		if ka, ok := p["keep_alive"].(string); ok {
			d, err := parseESDuration(ka)
			if err != nil {
				return nil, badRequest("[pit] keep_alive: %v", err)
			}
			spec.pitKeep = d
		}
	}
	spec.needSource = needsSource(spec.query) || len(spec.aggs) > 0
	for _, k := range spec.sort {
		if k.field != "_score" && k.field != "_doc" && k.field != "_shard_doc" {
			spec.needSource = true
		}
	}
	return spec, nil
}

// compileQueryString supports the URI search forms "*", "field:value" and a
// bare term.
func compileQueryString(qs string) (matcher, *esError) {
	if qs == "" || qs == "*" || qs == "*:*" {
		return matchAll{}, nil
	}
	if f, v, ok := strings.Cut(qs, ":"); ok {
		return &matchQuery{fields: []string{f}, text: strings.ToLower(v), tokens: tokenize(v)}, nil
	}
	return nil, parseError("[q] estarget only understands \"*\" and \"field:value\" in URI searches")
}

// searchResult is what a scan produced.
type searchResult struct {
	hits     []hit
	total    int
	relation string
	aggs     []aggState
	shards   int
}

// scan runs spec over indices; the caller holds at least the read lock.
// keepAll collects every matching hit (scroll); otherwise only what the
// page needs is kept and counting stops at the track_total_hits bound.
func (s *Server) scan(indices []*index, spec *searchSpec, keepAll bool) (searchResult, *esError) {
	res := searchResult{relation: "eq"}
	for _, a := range spec.aggs {
		res.aggs = append(res.aggs, a.newState())
	}
	sorted := len(spec.sort) > 0
	want := spec.from + spec.size
	var src map[string]any
	var after []any
	if spec.searchAfter != nil {
		if !sorted {
			return res, badRequest("Sort must contain at least one field when search_after is used")
		}
		if len(spec.searchAfter) != len(spec.sort) {
			return res, badRequest("search_after has %d value(s) but sort has %d.", len(spec.searchAfter), len(spec.sort))
		}
		after = spec.searchAfter
	}
	matched := 0
scan:
	for ixOrd, ix := range indices {
		res.shards += ix.shards
		for slot := range ix.docs {
			d := &ix.docs[slot]
			if !d.live {
				continue
			}
			if spec.needSource {
				src = nil
				if json.Unmarshal(d.source, &src) != nil {
					continue
				}
			}
			if !spec.query.match(src, d.id) {
				continue
			}
			matched++
			for _, a := range res.aggs {
				a.add(src)
			}
			var sv []any
			if sorted {
				sv = make([]any, len(spec.sort))
				for i, k := range spec.sort {
					switch k.field {
					case "_score":
						sv[i] = 1.0
					case "_doc", "_shard_doc":
						sv[i] = float64(ixOrd<<32 | slot)
					default:
						sv[i] = sortValue(src, k)
					}
				}
				if after != nil && compareSort(sv, after, spec.sort) <= 0 {
					matched--
					continue
				}
			}
			if keepAll || sorted || len(res.hits) < want {
				res.hits = append(res.hits, hit{ix: ix, id: d.id, source: d.source, sort: sv, ver: d.version, seqNo: d.seqNo})
			}
			if spec.terminate > 0 && matched >= spec.terminate {
				break scan
			}
			if !keepAll && !sorted && len(res.aggs) == 0 && spec.trackTotal >= 0 &&
				matched > spec.trackTotal && len(res.hits) >= want {
				break scan
			}
		}
	}
	for _, a := range res.aggs {
		if c, ok := a.(interface{ check() *esError }); ok {
			if e := c.check(); e != nil {
				return res, e
			}
		}
	}
	res.total = matched
	if spec.trackTotal >= 0 && matched > spec.trackTotal {
		res.total, res.relation = spec.trackTotal, "gte"
	}
	if sorted {
		sortRows(res.hits, func(h hit) []any { return h.sort }, spec.sort)
	}
	return res, nil
}

// page returns hits[from:from+size] bounded to what exists.
func page(hits []hit, from, size int) []hit {
	if from >= len(hits) {
		return nil
	}
	return hits[from:min(len(hits), from+size)]
}

// readSearch reads and parses the body and parameters of a search-type
// request (_search, _count).
func readSearch(q *req) (*searchSpec, *esError) {
	body, e := readBody(q.r)
	if e != nil {
		return nil, e
	}
	return parseSearch(q, body)
}

func (s *Server) handleSearch(w http.ResponseWriter, q *req) {
	start := time.Now()
	spec, e := readSearch(q)
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	scrollKeep, isScroll := q.param("scroll")
	var keep time.Duration
	if isScroll {
		if keep, e = parseKeepAlive("scroll", scrollKeep); e != nil {
			s.writeError(w, q.r, e)
			return
		}
		if spec.from > 0 {
			s.writeError(w, q.r, validationFailed("using [from] is not allowed in a scroll context"))
			return
		}
	}
	expr := q.indexExpr("_search")
	if spec.pitID != "" && expr != "" {
		s.writeError(w, q.r, validationFailed("[indices] cannot be used with point in time. Do not specify any index with point in time."))
		return
	}

	var pitIDOut string
	if spec.pitID != "" {
		s.mu.Lock()
		p, e := s.usePIT(spec.pitID, spec.pitKeep)
		s.mu.Unlock()
		if e != nil {
			s.writeError(w, q.r, e)
			return
		}
		expr, pitIDOut = strings.Join(p.indices, ","), spec.pitID
		if len(spec.sort) > 0 && s.flavor == FlavorElasticsearch {
			spec.sort = append(spec.sort, sortKey{field: "_shard_doc"})
			if spec.searchAfter != nil && len(spec.searchAfter) == len(spec.sort)-1 {
				spec.searchAfter = append(spec.searchAfter, -1.0)
			}
		}
	}

	s.mu.RLock()
	indices, ok := s.resolveFor(w, q, expr, s.mu.RUnlock)
	if !ok {
		return
	}
	for _, ix := range indices {
		ix.st.queryCurrent.Add(1)
	}
	res, e := s.scan(indices, spec, isScroll)
	s.mu.RUnlock()
	took := time.Since(start)
	for _, ix := range indices {
		ix.st.queryCurrent.Add(-1)
		ix.st.queryTotal.Add(int64(ix.shards))
		ix.st.queryTimeNs.Add(took.Nanoseconds())
		if spec.size > 0 && len(res.hits) > 0 {
			ix.st.fetchTotal.Add(int64(ix.shards))
		}
	}
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	var scrollID string
	hits := page(res.hits, spec.from, spec.size)
	if isScroll {
		rest := res.hits[len(hits):]
		s.mu.Lock()
		scrollID = s.openScroll(indices, rest, spec, res, keep)
		s.mu.Unlock()
	}
	if len(spec.unsupported) > 0 {
		w.Header().Set(hdrUnsupported, strings.Join(spec.unsupported, "; "))
	}
	out := getEnc()
	defer putEnc(out)
	out.obj()
	if scrollID != "" {
		out.kstr("_scroll_id", scrollID)
	}
	if pitIDOut != "" {
		out.kstr("pit_id", pitIDOut)
	}
	writeSearchBody(out, spec, &res, hits, time.Since(start))
	out.end()
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}

// writeSearchBody writes took, timed_out, _shards, hits and aggregations.
func writeSearchBody(out *enc, spec *searchSpec, res *searchResult, hits []hit, took time.Duration) {
	sorted := len(spec.sort) > 0
	out.kint("took", took.Milliseconds())
	out.kbool("timed_out", false)
	out.kshardsSkipped("_shards", res.shards)
	out.kobj("hits")
	if spec.trackTotal != 0 {
		out.kobj("total")
		out.kint("value", int64(res.total))
		out.kstr("relation", res.relation)
		out.end()
	}
	if sorted || len(hits) == 0 {
		out.knull("max_score")
	} else {
		out.kfloat("max_score", 1)
	}
	out.karr("hits")
	for i := range hits {
		h := &hits[i]
		out.obj()
		out.kstr("_index", h.ix.name)
		out.kstr("_id", h.id)
		if spec.version {
			out.kint("_version", h.ver)
		}
		if spec.seqNoTerm {
			out.kint("_seq_no", h.seqNo)
			out.kint("_primary_term", 1)
		}
		if sorted {
			out.knull("_score")
		} else {
			out.kfloat("_score", 1)
		}
		if !spec.sourceOff {
			out.kraw("_source", h.source)
		}
		if sorted {
			out.karr("sort")
			for _, v := range h.sort {
				sortJSONValue(out, v)
			}
			out.endArr()
		}
		out.end()
	}
	out.endArr()
	out.end()
	if len(res.aggs) > 0 {
		out.kobj("aggregations")
		for _, a := range res.aggs {
			out.key(a.name())
			a.write(out)
		}
		out.end()
	}
}

func (s *Server) handleCount(w http.ResponseWriter, q *req) {
	start := time.Now()
	spec, e := readSearch(q)
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	spec.size, spec.from, spec.trackTotal, spec.aggs, spec.sort = 0, 0, -1, nil, nil
	spec.needSource = needsSource(spec.query)
	s.mu.RLock()
	indices, ok := s.resolveFor(w, q, q.indexExpr("_count"), s.mu.RUnlock)
	if !ok {
		return
	}
	res, e := s.scan(indices, spec, false)
	s.mu.RUnlock()
	for _, ix := range indices {
		ix.st.queryTotal.Add(int64(ix.shards))
		ix.st.queryTimeNs.Add(time.Since(start).Nanoseconds())
	}
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	out := getEnc()
	defer putEnc(out)
	out.obj()
	out.kint("count", int64(res.total))
	out.kshardsSkipped("_shards", res.shards)
	out.end()
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}

// parseESDuration reads Elasticsearch time values: "500ms", "30s", "1m",
// "2h", "1d", plain milliseconds, and "-1".
func parseESDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"nanos", time.Nanosecond}, {"micros", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second},
		{"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			if f, err := strconv.ParseFloat(n, 64); err == nil && f >= 0 {
				return time.Duration(f * float64(u.unit)), nil
			}
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return time.Duration(n) * time.Millisecond, nil
	}
	return 0, &optionError{"failed to parse time value [" + s + "]"}
}

func parseKeepAlive(name, v string) (time.Duration, *esError) {
	d, err := parseESDuration(v)
	if err != nil || d <= 0 {
		return 0, badRequest("failed to parse setting [%s] with value [%s] as a time value: unit is missing or unrecognized", name, v)
	}
	return d, nil
}
