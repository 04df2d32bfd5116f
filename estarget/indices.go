package estarget

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
)

const openSearchTagline = "The OpenSearch Project: https://opensearch.org/"

func (s *Server) handleRoot(w http.ResponseWriter, q *req) {
	e := getEnc()
	defer putEnc(e)
	e.obj()
	e.kstr("name", s.nodeName)
	e.kstr("cluster_name", s.clusterName)
	e.kstr("cluster_uuid", s.clusterUUID)
	e.kobj("version")
	if s.flavor == FlavorOpenSearch {
		e.kstr("distribution", "opensearch")
	}
	e.kstr("number", s.version.number)
	s.writeBuild(e)
	e.kstr("build_date", s.version.buildDate)
	e.kbool("build_snapshot", false)
	e.kstr("lucene_version", s.version.lucene)
	e.kstr("minimum_wire_compatibility_version", s.version.minWire)
	e.kstr("minimum_index_compatibility_version", s.version.minIndex)
	e.end()
	if s.flavor == FlavorOpenSearch {
		e.kstr("tagline", openSearchTagline)
	} else {
		e.kstr("tagline", "You Know, for Search")
	}
	e.end()
	s.writeJSON(w, q.r, http.StatusOK, e.b)
}

// writeBuild writes the build members of version answers: build_flavor
// (Elasticsearch only), build_type and build_hash.
func (s *Server) writeBuild(e *enc) {
	if s.flavor == FlavorElasticsearch {
		e.kstr("build_flavor", "default")
	}
	e.kstr("build_type", "tar")
	e.kstr("build_hash", buildHash)
}

func (s *Server) handleCreateIndex(w http.ResponseWriter, q *req) {
	name := q.seg(0)
	var in indexBody
	if _, e := readJSONBody(q.r, &in); e != nil {
		s.writeError(w, q.r, e)
		return
	}
	if name == "_all" || hasWildcard(name) || strings.Contains(name, ",") {
		s.writeError(w, q.r, invalidIndexName(name, `must not contain the following characters [ , ", *, \, <, |, ,, >, /, ?, #, :]`))
		return
	}
	s.mu.Lock()
	_, e := s.createIndex(name, in, nil)
	s.mu.Unlock()
	if e != nil {
		s.writeError(w, q.r, e)
		return
	}
	out := getEnc()
	defer putEnc(out)
	out.obj()
	out.kbool("acknowledged", true)
	out.kbool("shards_acknowledged", true)
	out.kstr("index", name)
	out.end()
	s.writeJSON(w, q.r, http.StatusOK, out.b)
}

// destructiveRequiresName is action.destructive_requires_name: true by
// default since Elasticsearch 8.0, false in OpenSearch and older lines.
func (s *Server) destructiveRequiresName() bool {
	if v, ok := s.clusterSetting("action.destructive_requires_name"); ok {
		return v == "true"
	}
	return s.flavor == FlavorElasticsearch && s.version.major >= 8
}

func (s *Server) handleDeleteIndex(w http.ResponseWriter, q *req) {
	expr := q.seg(0)
	o := q.resolveOpts()
	o.dataStreamsAsIndices = false
	s.mu.Lock()
	defer s.mu.Unlock()
	var victims []*index
	for _, part := range strings.Split(expr, ",") {
		if part == "" {
			continue
		}
		if hasWildcard(part) || part == "_all" {
			if s.destructiveRequiresName() {
				s.writeError(w, q.r, badRequest("Wildcard expressions or all indices are not allowed"))
				return
			}
			found, _ := s.resolve(part, o)
			for _, ix := range found {
				if ix.dataStream == "" {
					victims = append(victims, ix)
				}
			}
			continue
		}
		if _, ok := s.dataStreams[part]; ok {
			s.writeError(w, q.r, badRequest("The provided expression [%s] matches a data stream, specify the corresponding concrete indices instead.", part))
			return
		}
		ix, ok := s.indices[part]
		if !ok {
			if o.ignoreUnavailable {
				continue
			}
			s.writeError(w, q.r, indexNotFound(part))
			return
		}
		if ix.dataStream != "" && s.dataStreams[ix.dataStream].writeIndex() == ix {
			s.writeError(w, q.r, badRequest("index [%s] is the write index for data stream [%s] and cannot be deleted", ix.name, ix.dataStream))
			return
		}
		victims = append(victims, ix)
	}
	for _, ix := range victims {
		delete(s.indices, ix.name)
		if ds, ok := s.dataStreams[ix.dataStream]; ok {
			for i, b := range ds.indices {
				if b == ix {
					ds.indices = append(ds.indices[:i], ds.indices[i+1:]...)
					break
				}
			}
		}
		s.log.Info("index deleted", "index", ix.name)
	}
	s.writeAck(w, q.r)
}

func (s *Server) handleIndexExists(w http.ResponseWriter, q *req) {
	s.mu.RLock()
	indices, e := s.resolve(q.seg(0), q.resolveOpts())
	s.mu.RUnlock()
	status := http.StatusOK
	if e != nil || len(indices) == 0 {
		status = http.StatusNotFound
	}
	w.Header()["Content-Type"] = contentType(q.r)
	w.WriteHeader(status)
}

func (s *Server) renderSettings(ix *index) map[string]any {
	return nestSettings(ix.settings)
}

// writeIndexMap answers a read of the indices of expr with
// {"<index>":render(ix),...}, rendered under the read lock.
func (s *Server) writeIndexMap(w http.ResponseWriter, q *req, expr string, render func(ix *index) map[string]any) {
	s.mu.RLock()
	indices, ok := s.resolveFor(w, q, expr, s.mu.RUnlock)
	if !ok {
		return
	}
	out := map[string]any{}
	for _, ix := range indices {
		out[ix.name] = render(ix)
	}
	b, _ := json.Marshal(out)
	s.mu.RUnlock()
	s.writeJSON(w, q.r, http.StatusOK, b)
}

func (s *Server) handleGetIndex(w http.ResponseWriter, q *req) {
	s.writeIndexMap(w, q, q.seg(0), func(ix *index) map[string]any {
		m := map[string]any{
			"aliases":  orEmpty(ix.aliases),
			"mappings": orEmpty(ix.mappings),
			"settings": s.renderSettings(ix),
		}
		if ix.dataStream != "" {
			m["data_stream"] = ix.dataStream
		}
		return m
	})
}

// nonDynamic are index settings that cannot change on an open index.
var nonDynamic = map[string]bool{
	"index.number_of_shards": true, "index.routing_partition_size": true, "index.codec": true,
	"index.sort.field": true, "index.sort.order": true, "index.mode": true,
}

func (s *Server) handleSettings(w http.ResponseWriter, q *req) {
	expr := q.indexExpr("_settings")
	if q.r.Method == http.MethodGet || q.r.Method == http.MethodHead {
		s.writeIndexMap(w, q, expr, func(ix *index) map[string]any {
			return map[string]any{"settings": s.renderSettings(ix)}
		})
		return
	}
	var in map[string]any
	if _, e := readJSONBody(q.r, &in); e != nil {
		s.writeError(w, q.r, e)
		return
	}
	if inner, ok := in["settings"].(map[string]any); ok && len(in) == 1 {
		in = inner
	}
	flat := map[string]any{}
	flattenSettings(flat, in, "index.")
	var removals []string
	walkLeaves("", in, func(p string, v any) {
		if v == nil {
			if !strings.HasPrefix(p, "index.") {
				p = "index." + p
			}
			removals = append(removals, p)
		}
	})
	if len(flat) == 0 && len(removals) == 0 {
		s.writeError(w, q.r, validationFailed("no settings to update"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	indices, ok := s.resolveFor(w, q, expr, nil)
	if !ok {
		return
	}
	var fixed []string
	for k := range flat {
		if nonDynamic[k] {
			fixed = append(fixed, k)
		}
	}
	if len(fixed) > 0 {
		sort.Strings(fixed)
		var names []string
		for _, ix := range indices {
			names = append(names, ix.name+"/"+ix.uuid)
		}
		s.writeError(w, q.r, badRequest("Can't update non dynamic settings [%s] for open indices %s", bracketList(fixed), bracketList(names)))
		return
	}
	if p, ok := flat["index.default_pipeline"].(string); ok && p != "_none" {
		if _, ok := s.pipelines[p]; !ok {
			s.writeError(w, q.r, badRequest("default pipeline [%s] does not exist", p))
			return
		}
	}
	for _, ix := range indices {
		for k, v := range flat {
			ix.settings[k] = v
		}
		for _, k := range removals {
			if !nonDynamic[k] && !strings.HasPrefix(k, "index.version.") && k != "index.uuid" &&
				k != "index.provided_name" && k != "index.creation_date" {
				delete(ix.settings, k)
			}
		}
	}
	s.writeAck(w, q.r)
}

func (s *Server) handleMapping(w http.ResponseWriter, q *req) {
	expr := q.indexExpr("_mapping")
	if q.r.Method != http.MethodPut {
		s.writeIndexMap(w, q, expr, func(ix *index) map[string]any {
			return map[string]any{"mappings": orEmpty(ix.mappings)}
		})
		return
	}
	var in map[string]any
	if _, e := readJSONBody(q.r, &in); e != nil {
		s.writeError(w, q.r, e)
		return
	}
	s.mu.Lock()
	indices, ok := s.resolveFor(w, q, expr, s.mu.Unlock)
	if !ok {
		return
	}
	for _, ix := range indices {
		ix.mappings = deepMerge(ix.mappings, in)
	}
	s.mu.Unlock()
	s.writeAck(w, q.r)
}
