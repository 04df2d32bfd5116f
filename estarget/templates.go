package estarget

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// legacyTemplate is a _template (v1) index template.
type legacyTemplate struct {
	name     string
	patterns []string
	order    int
	raw      map[string]any
	body     indexBody
}

func (t *legacyTemplate) matches(name string) bool { return matchesAny(t.patterns, name) }

// indexTemplate is a composable _index_template.
type indexTemplate struct {
	name       string
	patterns   []string
	priority   int64
	composedOf []string
	template   indexBody
	dataStream map[string]any // non-nil when the template creates data streams
	raw        json.RawMessage
}

func (t *indexTemplate) matches(name string) bool { return matchesAny(t.patterns, name) }

// matchesAny reports whether name matches one of the index patterns.
func matchesAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if globMatch(p, name) {
			return true
		}
	}
	return false
}

// stringList accepts a JSON string or list of strings.
func stringList(v any) ([]string, bool) {
	switch t := v.(type) {
	case string:
		return []string{t}, true
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// indexPatterns reads the index_patterns of a template body: a string or a
// non-empty list of strings.
func indexPatterns(v any) ([]string, *esError) {
	patterns, ok := stringList(v)
	if !ok || len(patterns) == 0 {
		return nil, validationFailed("index patterns are missing")
	}
	return patterns, nil
}

func (s *Server) handleLegacyTemplate(w http.ResponseWriter, q *req) {
	name := q.seg(1)
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
		writeNamedObject(s, w, q, s.legacyTemplates, name, func(t *legacyTemplate) []byte {
			b, _ := json.Marshal(t.render())
			return b
		})
	case http.MethodPut, http.MethodPost:
		var raw map[string]any
		body, ok := s.readPutBody(w, q, name, &raw)
		if !ok {
			return
		}
		patterns, ee := indexPatterns(raw["index_patterns"])
		if ee != nil {
			s.writeError(w, q.r, ee)
			return
		}
		t := &legacyTemplate{name: name, patterns: patterns, raw: raw}
		if o, ok := raw["order"].(float64); ok {
			t.order = int(o)
		}
		_ = json.Unmarshal(body, &t.body)
		putNamed(s, w, q, s.legacyTemplates, name, t, "index_template", nil)
	case http.MethodDelete:
		deleteNamed(s, w, q, s.legacyTemplates, name,
			errf(http.StatusNotFound, "index_template_missing_exception", "index_template [%s] missing", name), nil)
	}
}

// render shows a legacy template like GET _template does: settings nested
// with string values, defaults filled in.
func (t *legacyTemplate) render() map[string]any {
	flat := map[string]any{}
	flattenSettings(flat, t.body.Settings, "index.")
	out := map[string]any{
		"order":          t.order,
		"index_patterns": t.patterns,
		"settings":       nestSettings(flat),
		"mappings":       orEmpty(t.body.Mappings),
		"aliases":        orEmpty(t.body.Aliases),
	}
	if v, ok := t.raw["version"]; ok {
		out["version"] = v
	}
	return out
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func (s *Server) handleIndexTemplate(w http.ResponseWriter, q *req) {
	name := q.seg(1)
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
		writeNamedList(s, w, q, s.indexTemplates, name, "index template", "index_templates", "index_template",
			func(t *indexTemplate) []byte { return t.raw })
	case http.MethodPut, http.MethodPost:
		var in struct {
			IndexPatterns any            `json:"index_patterns"`
			Priority      int64          `json:"priority"`
			ComposedOf    []string       `json:"composed_of"`
			Template      indexBody      `json:"template"`
			DataStream    map[string]any `json:"data_stream"`
		}
		body, ok := s.readPutBody(w, q, name, &in)
		if !ok {
			return
		}
		patterns, ee := indexPatterns(in.IndexPatterns)
		if ee != nil {
			s.writeError(w, q.r, ee)
			return
		}
		var compact map[string]any
		_ = json.Unmarshal(body, &compact)
		raw, _ := json.Marshal(compact)
		t := &indexTemplate{name: name, patterns: patterns, priority: in.Priority, composedOf: in.ComposedOf,
			template: in.Template, dataStream: in.DataStream, raw: raw}
		putNamed(s, w, q, s.indexTemplates, name, t, "index template", func() *esError {
			var missing []string
			for _, c := range t.composedOf {
				if _, ok := s.componentTemplates[c]; !ok {
					missing = append(missing, c)
				}
			}
			if len(missing) > 0 {
				return errf(http.StatusBadRequest, "invalid_index_template_exception",
					"index_template [%s] invalid, cause [index template [%s] specifies component templates %s that do not exist]",
					name, name, bracketList(missing))
			}
			return nil
		})
	case http.MethodDelete:
		deleteNamed(s, w, q, s.indexTemplates, name,
			resourceNotFound("index_template matching [%s] not found", name), func(names []string) *esError {
				for _, n := range names {
					var users []string
					for _, ds := range s.dataStreams {
						if ds.template == n {
							users = append(users, ds.name)
						}
					}
					if len(users) > 0 {
						sort.Strings(users)
						return badRequest("unable to remove composable templates [%s] as they are in use by a data streams %s", n, bracketList(users))
					}
				}
				return nil
			})
	}
}

func bracketList(xs []string) string { return "[" + strings.Join(xs, ", ") + "]" }

func (s *Server) handleComponentTemplate(w http.ResponseWriter, q *req) {
	name := q.seg(1)
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
		writeNamedList(s, w, q, s.componentTemplates, name, "component template", "component_templates", "component_template",
			func(raw json.RawMessage) []byte { return raw })
	case http.MethodPut, http.MethodPost:
		var in map[string]any
		if _, ok := s.readPutBody(w, q, name, &in); !ok {
			return
		}
		if _, ok := in["template"].(map[string]any); !ok {
			s.writeError(w, q.r, errf(http.StatusBadRequest, "x_content_parse_exception", "[1:2] [component_template] failed to parse field [template]: required property is missing"))
			return
		}
		raw, _ := json.Marshal(in)
		putNamed(s, w, q, s.componentTemplates, name, raw, "component template", nil)
	case http.MethodDelete:
		deleteNamed(s, w, q, s.componentTemplates, name, resourceNotFound("%s", name), func(names []string) *esError {
			var users []string
			for _, t := range s.indexTemplates {
				for _, c := range t.composedOf {
					for _, n := range names {
						if c == n {
							users = append(users, t.name)
						}
					}
				}
			}
			if len(users) > 0 {
				sort.Strings(users)
				return badRequest("component templates %s cannot be removed as they are still in use by index templates %s", bracketList(names), bracketList(users))
			}
			return nil
		})
	}
}

// validateDataStreamName applies the data stream naming rules.
func validateDataStreamName(name string) *esError {
	if strings.HasPrefix(name, ".ds-") {
		return badRequest("data_stream [%s] must not start with '.ds-'", name)
	}
	if e := validateIndexName(name); e != nil {
		return e
	}
	return nil
}

// createDataStream creates name and its first backing index; the caller
// holds the write lock.
func (s *Server) createDataStream(name string) (*dataStream, *esError) {
	if e := validateDataStreamName(name); e != nil {
		return nil, e
	}
	if _, ok := s.dataStreams[name]; ok {
		return nil, errf(http.StatusBadRequest, "resource_already_exists_exception", "data_stream [%s] already exists", name)
	}
	if _, ok := s.indices[name]; ok {
		return nil, errf(http.StatusBadRequest, "resource_already_exists_exception", "index [%s] already exists", name)
	}
	t := s.matchingIndexTemplate(name)
	if t == nil {
		return nil, badRequest("no matching index template found for data stream [%s]", name)
	}
	if t.dataStream == nil {
		return nil, badRequest("matching index template [%s] for data stream [%s] has no data stream template", t.name, name)
	}
	ds := &dataStream{name: name, template: t.name, timestampField: "@timestamp", generation: 1}
	if h, ok := t.dataStream["hidden"].(bool); ok {
		ds.hidden = h
	}
	backing := fmt.Sprintf(".ds-%s-%s-%06d", name, time.Now().UTC().Format("2006.01.02"), 1)
	ix, e := s.createIndex(backing, indexBody{}, ds)
	if e != nil {
		return nil, e
	}
	ds.indices = []*index{ix}
	s.dataStreams[name] = ds
	s.log.Info("data stream created", "data_stream", name, "template", t.name)
	return ds, nil
}

func (s *Server) handleDataStream(w http.ResponseWriter, q *req) {
	name := q.seg(1)
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
		s.mu.RLock()
		names, missing := namesMatching(s.dataStreams, name)
		if missing != "" {
			s.mu.RUnlock()
			s.writeError(w, q.r, indexNotFound(missing))
			return
		}
		e := getEnc()
		defer putEnc(e)
		e.obj()
		e.karr("data_streams")
		for _, n := range names {
			ds := s.dataStreams[n]
			e.obj()
			e.kstr("name", ds.name)
			e.kobj("timestamp_field")
			e.kstr("name", ds.timestampField)
			e.end()
			e.karr("indices")
			for _, ix := range ds.indices {
				e.obj()
				e.kstr("index_name", ix.name)
				e.kstr("index_uuid", ix.uuid)
				e.end()
			}
			e.endArr()
			e.kint("generation", int64(ds.generation))
			e.kstr("status", "GREEN")
			e.kstr("template", ds.template)
			e.kbool("hidden", ds.hidden)
			e.kbool("system", false)
			e.kbool("allow_custom_routing", false)
			e.kbool("replicated", false)
			e.end()
		}
		e.endArr()
		e.end()
		s.mu.RUnlock()
		s.writeJSON(w, q.r, http.StatusOK, e.b)
	case http.MethodPut:
		if name == "" {
			s.noHandler(w, q)
			return
		}
		s.mu.Lock()
		_, e := s.createDataStream(name)
		s.mu.Unlock()
		if e != nil {
			s.writeError(w, q.r, e)
			return
		}
		s.writeAck(w, q.r)
	case http.MethodDelete:
		if name == "" {
			s.noHandler(w, q)
			return
		}
		s.mu.Lock()
		names, missing := namesMatching(s.dataStreams, name)
		if missing != "" {
			s.mu.Unlock()
			s.writeError(w, q.r, indexNotFound(missing))
			return
		}
		for _, n := range names {
			for _, ix := range s.dataStreams[n].indices {
				delete(s.indices, ix.name)
			}
			delete(s.dataStreams, n)
			s.log.Info("data stream deleted", "data_stream", n)
		}
		s.mu.Unlock()
		s.writeAck(w, q.r)
	}
}

func (s *Server) handlePipeline(w http.ResponseWriter, q *req) {
	id := q.seg(2)
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
		writeNamedObject(s, w, q, s.pipelines, id, func(raw json.RawMessage) []byte { return raw })
	case http.MethodPut:
		var in map[string]any
		if _, ok := s.readPutBody(w, q, id, &in); !ok {
			return
		}
		procs, ok := in["processors"].([]any)
		if !ok {
			s.writeError(w, q.r, errf(http.StatusBadRequest, "parse_exception", "[processors] required property is missing"))
			return
		}
		for _, p := range procs {
			if m, ok := p.(map[string]any); !ok || len(m) != 1 {
				s.writeError(w, q.r, errf(http.StatusBadRequest, "parse_exception", "[processors] each processor must be an object with exactly one processor type"))
				return
			}
		}
		raw, _ := json.Marshal(in)
		s.mu.Lock()
		s.pipelines[id] = raw
		s.mu.Unlock()
		s.writeAck(w, q.r)
	case http.MethodDelete:
		if id == "" {
			s.noHandler(w, q)
			return
		}
		deleteNamed(s, w, q, s.pipelines, id, resourceNotFound("pipeline [%s] is missing", id), nil)
	}
}
