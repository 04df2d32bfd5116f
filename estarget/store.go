package estarget

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// state is everything the target remembers. Server.mu guards it.
type state struct {
	indices            map[string]*index
	dataStreams        map[string]*dataStream
	legacyTemplates    map[string]*legacyTemplate
	indexTemplates     map[string]*indexTemplate
	componentTemplates map[string]json.RawMessage
	pipelines          map[string]json.RawMessage
	persistent         map[string]any // flattened cluster settings
	transient          map[string]any
	scrolls            map[string]*scrollContext
	pits               map[string]*pitContext
	tasks              map[string]*task
	taskSeq            int64
}

func (st *state) init() {
	st.indices = map[string]*index{}
	st.dataStreams = map[string]*dataStream{}
	st.legacyTemplates = map[string]*legacyTemplate{}
	st.indexTemplates = map[string]*indexTemplate{}
	st.componentTemplates = map[string]json.RawMessage{}
	st.pipelines = map[string]json.RawMessage{}
	st.persistent = map[string]any{}
	st.transient = map[string]any{}
	st.scrolls = map[string]*scrollContext{}
	st.pits = map[string]*pitContext{}
	st.tasks = map[string]*task{}
}

// clusterSetting returns a cluster setting, transient over persistent.
func (st *state) clusterSetting(key string) (string, bool) {
	for _, m := range []map[string]any{st.transient, st.persistent} {
		if v, ok := m[key]; ok {
			return fmt.Sprint(v), true
		}
	}
	return "", false
}

// doc is one stored document version. Sources are never modified after they
// are stored, so search responses may keep referring to them after the lock
// is released.
type doc struct {
	id      string
	source  []byte
	version int64
	seqNo   int64
	live    bool
}

// index is one index (or data stream backing index).
type index struct {
	name       string
	uuid       string
	created    time.Time
	settings   map[string]any // flattened, "index." prefixed; values string or []any
	mappings   map[string]any
	aliases    map[string]any
	shards     int
	dataStream string // owning data stream, if a backing index
	hidden     bool

	// docs is append-only between force merges; an overwritten or deleted
	// document stays as a dead slot, like a Lucene deleted doc.
	docs       []doc
	byID       map[string]int
	live       int
	deleted    int
	storeBytes int64
	nextSeqNo  int64
	// segments grows by one for each refresh that found new writes and
	// shrinks on force merge; pendingWrites counts writes since then.
	segments      int
	pendingWrites int
	translogOps   int64
	translogBytes int64

	st indexStats
}

// indexStats are the counters reported by _stats. Times are nanoseconds.
type indexStats struct {
	indexTotal, indexTimeNs, indexCurrent, indexFailed atomic.Int64
	deleteTotal, deleteTimeNs                          atomic.Int64
	noopUpdates                                        atomic.Int64
	getTotal, getTimeNs, getExists, getMissing         atomic.Int64
	queryTotal, queryTimeNs, queryCurrent              atomic.Int64
	fetchTotal, fetchTimeNs                            atomic.Int64
	scrollTotal, scrollTimeNs, scrollCurrent           atomic.Int64
	refreshTotal, refreshTimeNs                        atomic.Int64
	flushTotal, flushTimeNs                            atomic.Int64
	mergeTotal, mergeTimeNs, mergeDocs, mergeBytes     atomic.Int64
	mergeCurrent                                       atomic.Int64
	bulkOps, bulkTimeNs, bulkBytes                     atomic.Int64
}

func (ix *index) get(id string) (*doc, bool) {
	i, ok := ix.byID[id]
	if !ok {
		return nil, false
	}
	return &ix.docs[i], true
}

// put stores a new version of id, marking the previous one dead.
func (ix *index) put(id string, source []byte, version int64) *doc {
	if i, ok := ix.byID[id]; ok {
		ix.docs[i].live = false
		ix.live--
		ix.deleted++
	}
	seq := ix.nextSeqNo
	ix.nextSeqNo++
	ix.docs = append(ix.docs, doc{id: id, source: source, version: version, seqNo: seq, live: true})
	ix.byID[id] = len(ix.docs) - 1
	ix.live++
	ix.storeBytes += int64(len(source))
	ix.wrote(len(source))
	return &ix.docs[len(ix.docs)-1]
}

// remove deletes id; it returns the sequence number used and whether the
// document existed.
func (ix *index) remove(id string) (seq int64, version int64, found bool) {
	seq = ix.nextSeqNo
	ix.nextSeqNo++
	ix.wrote(0)
	i, ok := ix.byID[id]
	if !ok {
		return seq, 1, false
	}
	d := &ix.docs[i]
	d.live = false
	delete(ix.byID, id)
	ix.live--
	ix.deleted++
	return seq, d.version + 1, true
}

func (ix *index) wrote(n int) {
	ix.pendingWrites++
	ix.translogOps++
	ix.translogBytes += int64(n) + 64
}

// refresh turns pending writes into a segment.
func (ix *index) refresh() {
	if ix.pendingWrites > 0 {
		ix.segments++
		ix.pendingWrites = 0
	}
}

// forceMerge drops dead documents and merges down to maxSegments.
func (ix *index) forceMerge(maxSegments int) (docs, bytes int64) {
	ix.refresh()
	if ix.deleted > 0 || ix.segments > maxSegments {
		kept := make([]doc, 0, ix.live)
		var size int64
		for _, d := range ix.docs {
			if d.live {
				kept = append(kept, d)
				size += int64(len(d.source))
			}
		}
		ix.docs = kept
		ix.byID = make(map[string]int, len(kept))
		for i, d := range kept {
			ix.byID[d.id] = i
		}
		ix.deleted = 0
		ix.storeBytes = size
		docs, bytes = int64(len(kept)), size
	}
	if maxSegments < 1 {
		maxSegments = 1
	}
	if ix.segments > maxSegments {
		ix.segments = maxSegments
	}
	if ix.live == 0 {
		ix.segments = 0
	}
	return docs, bytes
}

func (ix *index) flush() {
	ix.refresh()
	ix.translogOps, ix.translogBytes = 0, 0
}

// dataStream is a named stream of backing indices, written through the last.
type dataStream struct {
	name           string
	template       string
	timestampField string
	generation     int
	indices        []*index
	hidden         bool
}

func (ds *dataStream) writeIndex() *index { return ds.indices[len(ds.indices)-1] }

// validateIndexName applies Elasticsearch's index naming rules.
func validateIndexName(name string) *esError {
	switch {
	case name == "":
		return invalidIndexName(name, "must not be empty")
	case name == "." || name == "..":
		return invalidIndexName(name, "must not be '.' or '..'")
	case strings.ToLower(name) != name:
		return invalidIndexName(name, "must be lowercase")
	case strings.ContainsAny(name, "\\/*?\"<>| ,#:"):
		return invalidIndexName(name, `must not contain the following characters [ , ", *, \, <, |, ,, >, /, ?, #, :]`)
	case strings.ContainsAny(name[:1], "_-+"):
		return invalidIndexName(name, "must not start with '_', '-', or '+'")
	case len(name) > 255:
		return invalidIndexName(name, "index name is too long, ("+strconv.Itoa(len(name))+" > 255)")
	}
	return nil
}

func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?") }

// globMatch matches Elasticsearch's simple wildcard patterns for names:
// '*' matches any run of characters, everything else itself.
func globMatch(pattern, name string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == name
	}
	return wildcardMatch(pattern, name, false)
}

// wildcardMatch matches '*' (any run) and, when question is set, '?' (one
// character) with the usual greedy backtracking; it runs in O(len(p)·len(s))
// at worst and never recurses.
func wildcardMatch(p, s string, question bool) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi] == s[si] || question && p[pi] == '?'):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// resolveOpts say how an index expression resolves.
type resolveOpts struct {
	ignoreUnavailable bool
	expandHidden      bool
	// dataStreamsAsIndices maps a data stream name to its backing indices
	// (reads); otherwise a data stream name is an error for the caller to
	// produce (see resolveForDelete).
	dataStreamsAsIndices bool
}

func (q *req) resolveOpts() resolveOpts {
	ew, _ := q.param("expand_wildcards")
	return resolveOpts{
		ignoreUnavailable:    q.flag("ignore_unavailable"),
		expandHidden:         strings.Contains(ew, "all") || strings.Contains(ew, "hidden"),
		dataStreamsAsIndices: true,
	}
}

// resolveFor resolves expr with q's options for a handler that holds the
// store lock. When that fails it calls release (the handler's unlock; nil
// when a deferred unlock does it), answers the error and reports false.
func (s *Server) resolveFor(w http.ResponseWriter, q *req, expr string, release func()) ([]*index, bool) {
	indices, e := s.resolve(expr, q.resolveOpts())
	if e != nil {
		if release != nil {
			release()
		}
		s.writeError(w, q.r, e)
		return nil, false
	}
	return indices, true
}

// resolve turns an index expression (comma list, wildcards, _all, data
// stream names) into concrete indices, sorted by name, without duplicates.
func (st *state) resolve(expr string, o resolveOpts) ([]*index, *esError) {
	if expr == "" || expr == "_all" {
		expr = "*"
	}
	seen := map[*index]bool{}
	var out []*index
	add := func(ix *index) {
		if !seen[ix] {
			seen[ix] = true
			out = append(out, ix)
		}
	}
	for _, part := range strings.Split(expr, ",") {
		if part == "" {
			continue
		}
		if part[0] == '-' && len(out) > 0 { // exclusion, as in "logs-*,-logs-old"
			pat := part[1:]
			out = slices.DeleteFunc(out, func(ix *index) bool { return globMatch(pat, ix.name) })
			continue
		}
		if part == "_all" {
			part = "*"
		}
		if hasWildcard(part) {
			for _, ix := range st.indices {
				if (ix.hidden || ix.dataStream != "") && !o.expandHidden && !strings.HasPrefix(part, ".") {
					continue
				}
				if globMatch(part, ix.name) {
					add(ix)
				}
			}
			if o.dataStreamsAsIndices {
				for _, ds := range st.dataStreams {
					if globMatch(part, ds.name) && (!ds.hidden || o.expandHidden) {
						for _, ix := range ds.indices {
							add(ix)
						}
					}
				}
			}
			continue
		}
		if ix, ok := st.indices[part]; ok {
			add(ix)
			continue
		}
		if ds, ok := st.dataStreams[part]; ok && o.dataStreamsAsIndices {
			for _, ix := range ds.indices {
				add(ix)
			}
			continue
		}
		if !o.ignoreUnavailable {
			return nil, indexNotFound(part)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// Settings are kept flattened with full keys ("index.number_of_shards") and
// rendered nested with string values, as Elasticsearch shows them.

// walkLeaves calls fn with the dotted path and the value of every
// non-object value below v, which stands at path ("" for the top).
func walkLeaves(path string, v any, fn func(path string, leaf any)) {
	m, ok := v.(map[string]any)
	if !ok {
		fn(path, v)
		return
	}
	for k, x := range m {
		if path != "" {
			k = path + "." + k
		}
		walkLeaves(k, x, fn)
	}
}

// flattenSettings flattens a settings object into dst, prefixing keys with
// prefix when they lack it ("index." for index settings).
func flattenSettings(dst map[string]any, src map[string]any, prefix string) {
	walkLeaves("", src, func(p string, v any) {
		if prefix != "" && !strings.HasPrefix(p, prefix) {
			p = prefix + p
		}
		if v == nil {
			delete(dst, p)
			return
		}
		dst[p] = settingValue(v)
	})
}

// settingValue renders a scalar the way Elasticsearch stores settings:
// as a string (numbers without exponent), lists element-wise.
func settingValue(v any) any {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = settingValue(x)
		}
		return out
	}
	return fmt.Sprint(v)
}

// nestSettings turns flattened settings back into nested objects.
func nestSettings(flat map[string]any) map[string]any {
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]any{}
	for _, k := range keys {
		parts := strings.Split(k, ".")
		m := out
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = flat[k]
	}
	return out
}

// deepMerge merges src into dst: objects recursively, anything else
// replaced. It is how templates, components and requests combine, and how
// partial updates apply.
func deepMerge(dst, src map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = deepMerge(dm, sm)
				continue
			}
			dst[k] = deepMerge(nil, sm)
			continue
		}
		dst[k] = v
	}
	return dst
}

// indexBody is the body of PUT /{index} and the "template" part of
// templates.
type indexBody struct {
	Settings map[string]any `json:"settings"`
	Mappings map[string]any `json:"mappings"`
	Aliases  map[string]any `json:"aliases"`
}

// matchingIndexTemplate returns the composable template with the highest
// priority whose patterns match name.
func (st *state) matchingIndexTemplate(name string) *indexTemplate {
	var best *indexTemplate
	for _, t := range st.indexTemplates {
		if !t.matches(name) {
			continue
		}
		if best == nil || t.priority > best.priority || (t.priority == best.priority && t.name < best.name) {
			best = t
		}
	}
	return best
}

// createIndex creates name with body applied over matching templates.
// Composable templates win over legacy ones, as in Elasticsearch.
func (s *Server) createIndex(name string, body indexBody, ds *dataStream) (*index, *esError) {
	st := &s.state
	if e := validateIndexName(name); e != nil && ds == nil {
		return nil, e
	}
	if ix, ok := st.indices[name]; ok {
		return nil, indexExists(ix)
	}
	if _, ok := st.dataStreams[name]; ok {
		return nil, &esError{status: http.StatusBadRequest, typ: "resource_already_exists_exception",
			reason: "data stream [" + name + "] already exists", index: name, indexUUID: "_na_"}
	}
	settings := map[string]any{}
	var mappings, aliases map[string]any
	if ds == nil {
		if t := st.matchingIndexTemplate(name); t != nil && t.dataStream != nil {
			return nil, badRequest("cannot create index with name [%s], because it matches with template [%s] that creates data streams only, use create data stream api instead", name, t.name)
		}
	}
	t := st.matchingIndexTemplate(name)
	if ds != nil {
		t = st.indexTemplates[ds.template] // backing indices take their stream's template
	}
	if t != nil {
		for _, c := range t.composedOf {
			var ct struct {
				Template indexBody `json:"template"`
			}
			_ = json.Unmarshal(st.componentTemplates[c], &ct)
			flattenSettings(settings, ct.Template.Settings, "index.")
			mappings = deepMerge(mappings, ct.Template.Mappings)
			aliases = deepMerge(aliases, ct.Template.Aliases)
		}
		flattenSettings(settings, t.template.Settings, "index.")
		mappings = deepMerge(mappings, t.template.Mappings)
		aliases = deepMerge(aliases, t.template.Aliases)
	} else {
		var legacy []*legacyTemplate
		for _, t := range st.legacyTemplates {
			if t.matches(name) {
				legacy = append(legacy, t)
			}
		}
		sort.Slice(legacy, func(i, j int) bool { return legacy[i].order < legacy[j].order })
		for _, t := range legacy {
			flattenSettings(settings, t.body.Settings, "index.")
			mappings = deepMerge(mappings, t.body.Mappings)
			aliases = deepMerge(aliases, t.body.Aliases)
		}
	}
	flattenSettings(settings, body.Settings, "index.")
	mappings = deepMerge(mappings, body.Mappings)
	aliases = deepMerge(aliases, body.Aliases)

	shards := 1
	if v, ok := settings["index.number_of_shards"]; ok {
		n, err := strconv.Atoi(fmt.Sprint(v))
		if err != nil || n < 1 || n > 1024 {
			return nil, badRequest("Failed to parse value [%v] for setting [index.number_of_shards] must be >= 1", v)
		}
		shards = n
	}
	if v, ok := settings["index.number_of_replicas"]; ok {
		if n, err := strconv.Atoi(fmt.Sprint(v)); err != nil || n < 0 {
			return nil, badRequest("Failed to parse value [%v] for setting [index.number_of_replicas] must be >= 0", v)
		}
	}
	if p, ok := settings["index.default_pipeline"].(string); ok && p != "_none" {
		if _, ok := st.pipelines[p]; !ok {
			return nil, badRequest("default pipeline [%s] does not exist", p)
		}
	}
	now := time.Now()
	ix := &index{
		name: name, uuid: randomUUID(), created: now,
		settings: settings, mappings: mappings, aliases: aliases,
		shards: shards, byID: map[string]int{},
		hidden: strings.HasPrefix(name, "."),
	}
	if v, ok := settings["index.hidden"]; ok && fmt.Sprint(v) == "true" {
		ix.hidden = true
	}
	settings["index.number_of_shards"] = strconv.Itoa(shards)
	if _, ok := settings["index.number_of_replicas"]; !ok {
		settings["index.number_of_replicas"] = "1"
	}
	settings["index.provided_name"] = name
	settings["index.creation_date"] = strconv.FormatInt(now.UnixMilli(), 10)
	settings["index.uuid"] = ix.uuid
	settings["index.version.created"] = s.version.createdID()
	if ds != nil {
		ix.dataStream = ds.name
		ix.hidden = true
		settings["index.hidden"] = "true"
	}
	st.indices[name] = ix
	s.log.Info("index created", "index", name, "shards", shards, "data_stream", ix.dataStream)
	return ix, nil
}

// autoCreateAllowed applies the action.auto_create_index cluster setting
// (true by default; "false" forbids; a pattern list is honoured with
// +/- prefixes).
func (st *state) autoCreateAllowed(name string) bool {
	v, ok := st.clusterSetting("action.auto_create_index")
	if !ok || v == "true" {
		return true
	}
	if v == "false" {
		return false
	}
	for _, p := range strings.Split(strings.Trim(v, "[]"), ",") {
		p = strings.TrimSpace(p)
		neg := strings.HasPrefix(p, "-")
		p = strings.TrimLeft(p, "+-")
		if globMatch(p, name) {
			return !neg
		}
	}
	return false
}

// writeTarget finds or creates the index a write to name goes to. create
// says whether the operation is an op_type=create (the only kind data
// streams accept).
func (s *Server) writeTarget(name string, create bool) (*index, *esError) {
	st := &s.state
	if ds, ok := st.dataStreams[name]; ok {
		if !create {
			return nil, badRequest("only write ops with an op_type of create are allowed in data streams")
		}
		return ds.writeIndex(), nil
	}
	if ix, ok := st.indices[name]; ok {
		return ix, nil
	}
	if e := validateIndexName(name); e != nil {
		return nil, e
	}
	if !st.autoCreateAllowed(name) {
		e := indexNotFound(name)
		e.reason = "no such index [" + name + "] and [action.auto_create_index] is [false]"
		return nil, e
	}
	if t := st.matchingIndexTemplate(name); t != nil && t.dataStream != nil {
		if !create {
			return nil, badRequest("only write ops with an op_type of create are allowed in data streams")
		}
		ds, e := s.createDataStream(name)
		if e != nil {
			return nil, e
		}
		return ds.writeIndex(), nil
	}
	return s.createIndex(name, indexBody{}, nil)
}
