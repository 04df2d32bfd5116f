package estarget

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// store is the canned mode's state: per index (data streams included) a
// counter of the documents written to it, no sources; and the names of the
// other resources clients created (templates, pipelines, policies,
// transforms, jobs, async searches), without their bodies.
type store struct {
	mu      sync.Mutex
	indices map[string]*index
	named   map[string]bool // kind + "/" + name
	seq     int64           // the last sequence number of a write
	ids     string          // the prefix of generated document ids
}

// index is one canned index: what was done to it, in numbers.
type index struct {
	name, uuid string
	created    time.Time
	stream     bool
	// docs counts documents written (index and create add one, delete
	// takes one away); bytes their sources' size; writes every write.
	docs, bytes, writes int64
	refreshes, flushes  int64
	merges              int64
}

func (st *store) init() {
	st.indices = map[string]*index{}
	st.named = map[string]bool{}
	st.ids = randomID(9) // 12 characters
}

// totals returns the number of indices and of documents in all of them.
func (st *store) totals() (int, int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	var docs int64
	for _, ix := range st.indices {
		docs += ix.docs
	}
	return len(st.indices), docs
}

// createLocked returns the index name, creating it when missing.
func (st *store) createLocked(name string, stream bool) *index {
	ix, ok := st.indices[name]
	if !ok {
		ix = &index{name: name, uuid: randomID(16), created: time.Now(), stream: stream}
		st.indices[name] = ix
	}
	return ix
}

func (st *store) create(name string, stream bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.createLocked(name, stream)
}

func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?") }

// resolve returns the indices an index expression names (a comma list;
// wildcards, "_all" and "" mean what they match), sorted by name. A named
// index that does not exist is an index_not_found_exception unless
// ignoreMissing.
func (st *store) resolve(expr string, ignoreMissing bool) ([]*index, *esError) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if expr == "" || expr == "_all" {
		expr = "*"
	}
	var out []*index
	for _, part := range strings.Split(expr, ",") {
		if hasWildcard(part) {
			for name, ix := range st.indices {
				if globMatch(part, name) && !slices.Contains(out, ix) {
					out = append(out, ix)
				}
			}
			continue
		}
		ix, ok := st.indices[part]
		switch {
		case ok && !slices.Contains(out, ix):
			out = append(out, ix)
		case !ok && !ignoreMissing:
			return nil, indexNotFound(part)
		}
	}
	slices.SortFunc(out, func(a, b *index) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// docs sums the document counters of ixs.
func (st *store) docs(ixs []*index) int64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	var n int64
	for _, ix := range ixs {
		n += ix.docs
	}
	return n
}

// maintained counts a _refresh, _flush or _forcemerge of ixs.
func (st *store) maintained(ixs []*index, api string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, ix := range ixs {
		switch api {
		case "_refresh":
			ix.refreshes++
		case "_flush":
			ix.flushes++
		default:
			ix.merges++
		}
	}
}

func (st *store) put(kind, name string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.named[kind+"/"+name] = true
}

func (st *store) has(kind, name string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.named[kind+"/"+name]
}

func (st *store) remove(kind, name string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.named, kind+"/"+name)
}

// list returns the names of kind matching expr (comma list, wildcards;
// "" and "_all" mean all), sorted, and the first named one that is missing.
func (st *store) list(kind, expr string) (names []string, missing string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if expr == "" || expr == "_all" {
		expr = "*"
	}
	for _, part := range strings.Split(expr, ",") {
		found := false
		for key := range st.named {
			name, ok := strings.CutPrefix(key, kind+"/")
			if ok && globMatch(part, name) && !slices.Contains(names, name) {
				names, found = append(names, name), true
			}
		}
		if !found && !hasWildcard(part) && missing == "" {
			missing = part
		}
	}
	slices.Sort(names)
	return names, missing
}

// validIndexName says why name cannot be an index, "" when it can, in
// Elasticsearch's words.
func validIndexName(name string) string {
	switch {
	case name == "":
		return "must not be empty"
	case name == "." || name == "..":
		return "must not be '.' or '..'"
	case strings.ToLower(name) != name:
		return "must be lowercase"
	case strings.ContainsAny(name[:1], "_-+"):
		return "must not start with '_', '-', or '+'"
	case strings.ContainsAny(name, `\/*?"<>| ,#:`):
		return `must not contain the following characters [ , ", *, \, <, |, ,, >, /, ?, #, :]`
	case len(name) > 255:
		return "index name is too long, (" + itoa(int64(len(name))) + " > 255)"
	}
	return ""
}

// createIndex answers PUT /{index}.
func (s *Server) createIndex(r *http.Request, name string) reply {
	if why := validIndexName(name); why != "" {
		return errorReply(&esError{status: http.StatusBadRequest, typ: "invalid_index_name_exception",
			reason: "Invalid index name [" + name + "], " + why, index: name})
	}
	body, e := readBody(r)
	if e != nil {
		return errorReply(e)
	}
	if len(strings.TrimSpace(string(body))) > 0 && !json.Valid(body) {
		return errorReply(errf(http.StatusBadRequest, "x_content_parse_exception", "failed to parse the index body: not JSON"))
	}
	s.store.mu.Lock()
	ix, exists := s.store.indices[name]
	if !exists {
		s.store.createLocked(name, false)
	}
	s.store.mu.Unlock()
	if exists {
		return errorReply(&esError{status: http.StatusBadRequest, typ: "resource_already_exists_exception",
			reason: "index [" + name + "/" + ix.uuid + "] already exists", index: name})
	}
	return jsonReply(http.StatusOK, obj{"acknowledged": true, "shards_acknowledged": true, "index": name})
}

// deleteIndex answers DELETE /{index}: concrete names only, as the default
// action.destructive_requires_name of Elasticsearch 8 wants.
func (s *Server) deleteIndex(r *http.Request, expr string) reply {
	names := strings.Split(expr, ",")
	for _, n := range names {
		if hasWildcard(n) || n == "_all" {
			return errorReply(badRequest("Wildcard expressions or all indices are not allowed"))
		}
	}
	ixs, e := s.store.resolve(expr, flag(r, "ignore_unavailable"))
	if e != nil {
		return errorReply(e)
	}
	s.store.mu.Lock()
	for _, ix := range ixs {
		delete(s.store.indices, ix.name)
	}
	s.store.mu.Unlock()
	return ack
}

// getIndex answers GET /{index} and GET /{index}/_settings.
func (s *Server) getIndex(expr string, settingsOnly bool) reply {
	ixs, e := s.store.resolve(expr, false)
	if e != nil {
		return errorReply(e)
	}
	out := obj{}
	for _, ix := range ixs {
		settings := obj{"index": obj{"number_of_shards": "1", "number_of_replicas": "1", "uuid": ix.uuid,
			"provided_name": ix.name, "creation_date": itoa(ix.created.UnixMilli())}}
		if settingsOnly {
			out[ix.name] = obj{"settings": settings}
		} else {
			out[ix.name] = obj{"aliases": obj{}, "mappings": obj{}, "settings": settings}
		}
	}
	return jsonReply(http.StatusOK, out)
}

// indexOne answers the single-document writes (POST /{index}/_doc, PUT
// /{index}/_doc/{id}, PUT /{index}/_create/{id}): counted as one more
// document.
func (s *Server) indexOne(r *http.Request, name, id string) reply {
	if why := validIndexName(name); why != "" {
		return errorReply(&esError{status: http.StatusBadRequest, typ: "invalid_index_name_exception",
			reason: "Invalid index name [" + name + "], " + why, index: name})
	}
	body, e := readBody(r)
	if e != nil {
		return errorReply(e)
	}
	if !isObject(body) {
		return errorReply(errf(http.StatusBadRequest, "document_parsing_exception", "[1:1] failed to parse: the document is not a JSON object"))
	}
	s.store.mu.Lock()
	ix := s.store.createLocked(name, false)
	ix.docs++
	ix.writes++
	ix.bytes += int64(len(body))
	s.store.seq++
	seq := s.store.seq
	s.store.mu.Unlock()
	if id == "" {
		id = s.store.newID(seq)
	}
	return jsonReply(http.StatusCreated, obj{"_index": name, "_id": id, "_version": 1, "result": "created",
		"_shards": obj{"total": 2, "successful": 1, "failed": 0}, "_seq_no": seq - 1, "_primary_term": 1})
}

func isObject(b []byte) bool {
	t := strings.TrimSpace(string(b))
	return strings.HasPrefix(t, "{") && json.Valid([]byte(t))
}

// newID makes a 20-character document id unique in this process.
func (st *store) newID(seq int64) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
	var b [8]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[seq&63]
		seq >>= 6
	}
	return st.ids + string(b[:])
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// indexStats answers _stats: per index and in all, primaries and total
// alike (no replicas), from the canned counters.
func (s *Server) indexStats(expr string) reply {
	ixs, e := s.store.resolve(expr, false)
	if e != nil {
		return errorReply(e)
	}
	s.store.mu.Lock()
	var all index
	indices := obj{}
	for _, ix := range ixs {
		all.docs, all.bytes, all.writes = all.docs+ix.docs, all.bytes+ix.bytes, all.writes+ix.writes
		all.refreshes, all.flushes, all.merges = all.refreshes+ix.refreshes, all.flushes+ix.flushes, all.merges+ix.merges
		g := ix.statGroups()
		indices[ix.name] = obj{"uuid": ix.uuid, "primaries": g, "total": g}
	}
	s.store.mu.Unlock()
	g := all.statGroups()
	return jsonReply(http.StatusOK, obj{"_shards": shards(len(ixs)), "_all": obj{"primaries": g, "total": g}, "indices": indices})
}

// statGroups is the index stats groups Rally's end-of-race figures read.
func (ix *index) statGroups() obj {
	segments := int64(0)
	if ix.docs > 0 {
		segments = 1
	}
	return obj{
		"docs":     obj{"count": ix.docs, "deleted": 0},
		"store":    obj{"size_in_bytes": ix.bytes},
		"indexing": obj{"index_total": ix.writes, "index_time_in_millis": 0, "throttle_time_in_millis": 0},
		"refresh":  obj{"total": ix.refreshes, "total_time_in_millis": 0},
		"flush":    obj{"total": ix.flushes, "total_time_in_millis": 0},
		"merges":   obj{"total": ix.merges, "total_time_in_millis": 0},
		"segments": obj{"count": segments},
	}
}
