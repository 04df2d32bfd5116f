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

func (t *legacyTemplate) matches(name string) bool {
	for _, p := range t.patterns {
		if globMatch(p, name) {
			return true
		}
	}
	return false
}

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

func (t *indexTemplate) matches(name string) bool {
	for _, p := range t.patterns {
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

// namesMatching returns the keys of m matching a name expression (comma
// list with wildcards; empty or "*" or "_all" means all), sorted.
func namesMatching[V any](m map[string]V, expr string) (names []string, missing string) {
	if expr == "" || expr == "_all" {
		expr = "*"
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(expr, ",") {
		if hasWildcard(part) {
			for k := range m {
				if globMatch(part, k) && !seen[k] {
					seen[k] = true
					names = append(names, k)
				}
			}
			continue
		}
		if _, ok := m[part]; ok {
			if !seen[part] {
				seen[part] = true
				names = append(names, part)
			}
		} else if missing == "" {
			missing = part
		}
	}
	sort.Strings(names)
	return names, missing
}

func (s *Server) handleLegacyTemplate(w http.ResponseWriter, q *req) {
	name := q.seg(1)
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
		s.mu.RLock()
		names, missing := namesMatching(s.legacyTemplates, name)
		e := getEnc()
		defer putEnc(e)
		e.obj()
		for _, n := range names {
			t := s.legacyTemplates[n]
			b, _ := json.Marshal(t.render())
			e.kraw(n, b)
		}
		e.end()
		s.mu.RUnlock()
		status := http.StatusOK
		if missing != "" || (name != "" && len(names) == 0) {
			status = http.StatusNotFound
		}
		s.writeJSON(w, q.r, status, e.b)
	case http.MethodPut, http.MethodPost:
		if name == "" {
			s.noHandler(w, q)
			return
		}
		body, ee := readBody(q.r)
		if ee != nil {
			s.writeError(w, q.r, ee)
			return
		}
		var raw map[string]any
		if ee := decodeBody(body, &raw); ee != nil {
			s.writeError(w, q.r, ee)
			return
		}
		patterns, ok := stringList(raw["index_patterns"])
		if !ok || len(patterns) == 0 {
			s.writeError(w, q.r, errf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;"))
			return
		}
		t := &legacyTemplate{name: name, patterns: patterns, raw: raw}
		if o, ok := raw["order"].(float64); ok {
			t.order = int(o)
		}
		_ = json.Unmarshal(body, &t.body)
		s.mu.Lock()
		_, exists := s.legacyTemplates[name]
		if exists && q.flag("create") {
			s.mu.Unlock()
			s.writeError(w, q.r, badRequest("index_template [%s] already exists", name))
			return
		}
		s.legacyTemplates[name] = t
		s.mu.Unlock()
		s.writeAck(w, q.r)
	case http.MethodDelete:
		s.mu.Lock()
		names, missing := namesMatching(s.legacyTemplates, name)
		if missing != "" || len(names) == 0 {
			s.mu.Unlock()
			s.writeError(w, q.r, errf(http.StatusNotFound, "index_template_missing_exception", "index_template [%s] missing", name))
			return
		}
		for _, n := range names {
			delete(s.legacyTemplates, n)
		}
		s.mu.Unlock()
		s.writeAck(w, q.r)
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
		s.mu.RLock()
		names, missing := namesMatching(s.indexTemplates, name)
		if missing != "" || (name != "" && len(names) == 0) {
			s.mu.RUnlock()
			s.writeError(w, q.r, resourceNotFound("index template matching [%s] not found", name))
			return
		}
		e := getEnc()
		defer putEnc(e)
		e.obj()
		e.karr("index_templates")
		for _, n := range names {
			e.obj()
			e.kstr("name", n)
			e.kraw("index_template", s.indexTemplates[n].raw)
			e.end()
		}
		e.endArr()
		e.end()
		s.mu.RUnlock()
		s.writeJSON(w, q.r, http.StatusOK, e.b)
	case http.MethodPut, http.MethodPost:
		if name == "" {
			s.noHandler(w, q)
			return
		}
		body, ee := readBody(q.r)
		if ee != nil {
			s.writeError(w, q.r, ee)
			return
		}
		var in struct {
			IndexPatterns any            `json:"index_patterns"`
			Priority      int64          `json:"priority"`
			ComposedOf    []string       `json:"composed_of"`
			Template      indexBody      `json:"template"`
			DataStream    map[string]any `json:"data_stream"`
		}
		if ee := decodeBody(body, &in); ee != nil {
			s.writeError(w, q.r, ee)
			return
		}
		patterns, ok := stringList(in.IndexPatterns)
		if !ok || len(patterns) == 0 {
			s.writeError(w, q.r, errf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;"))
			return
		}
		var compact map[string]any
		_ = json.Unmarshal(body, &compact)
		raw, _ := json.Marshal(compact)
		t := &indexTemplate{name: name, patterns: patterns, priority: in.Priority, composedOf: in.ComposedOf,
			template: in.Template, dataStream: in.DataStream, raw: raw}
		s.mu.Lock()
		var missingComponents []string
		for _, c := range t.composedOf {
			if _, ok := s.componentTemplates[c]; !ok {
				missingComponents = append(missingComponents, c)
			}
		}
		if len(missingComponents) > 0 {
			s.mu.Unlock()
			s.writeError(w, q.r, errf(http.StatusBadRequest, "invalid_index_template_exception",
				"index_template [%s] invalid, cause [index template [%s] specifies component templates %s that do not exist]",
				name, name, bracketList(missingComponents)))
			return
		}
		if _, exists := s.indexTemplates[name]; exists && q.flag("create") {
			s.mu.Unlock()
			s.writeError(w, q.r, badRequest("index template [%s] already exists", name))
			return
		}
		s.indexTemplates[name] = t
		s.mu.Unlock()
		s.writeAck(w, q.r)
	case http.MethodDelete:
		s.mu.Lock()
		names, missing := namesMatching(s.indexTemplates, name)
		if missing != "" || len(names) == 0 {
			s.mu.Unlock()
			s.writeError(w, q.r, resourceNotFound("index_template matching [%s] not found", name))
			return
		}
		for _, n := range names {
			var users []string
			for _, ds := range s.dataStreams {
				if ds.template == n {
					users = append(users, ds.name)
				}
			}
			if len(users) > 0 {
				s.mu.Unlock()
				sort.Strings(users)
				s.writeError(w, q.r, badRequest("unable to remove composable templates [%s] as they are in use by a data streams %s", n, bracketList(users)))
				return
			}
		}
		for _, n := range names {
			delete(s.indexTemplates, n)
		}
		s.mu.Unlock()
		s.writeAck(w, q.r)
	}
}

func bracketList(xs []string) string { return "[" + strings.Join(xs, ", ") + "]" }

func (s *Server) handleComponentTemplate(w http.ResponseWriter, q *req) {
	name := q.seg(1)
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
		s.mu.RLock()
		names, missing := namesMatching(s.componentTemplates, name)
		if missing != "" || (name != "" && len(names) == 0) {
			s.mu.RUnlock()
			s.writeError(w, q.r, resourceNotFound("component template matching [%s] not found", name))
			return
		}
		e := getEnc()
		defer putEnc(e)
		e.obj()
		e.karr("component_templates")
		for _, n := range names {
			e.obj()
			e.kstr("name", n)
			e.kraw("component_template", s.componentTemplates[n])
			e.end()
		}
		e.endArr()
		e.end()
		s.mu.RUnlock()
		s.writeJSON(w, q.r, http.StatusOK, e.b)
	case http.MethodPut, http.MethodPost:
		if name == "" {
			s.noHandler(w, q)
			return
		}
		body, ee := readBody(q.r)
		if ee != nil {
			s.writeError(w, q.r, ee)
			return
		}
		var in map[string]any
		if ee := decodeBody(body, &in); ee != nil {
			s.writeError(w, q.r, ee)
			return
		}
		if _, ok := in["template"].(map[string]any); !ok {
			s.writeError(w, q.r, errf(http.StatusBadRequest, "x_content_parse_exception", "[1:2] [component_template] failed to parse field [template]: required property is missing"))
			return
		}
		raw, _ := json.Marshal(in)
		s.mu.Lock()
		if _, exists := s.componentTemplates[name]; exists && q.flag("create") {
			s.mu.Unlock()
			s.writeError(w, q.r, badRequest("component template [%s] already exists", name))
			return
		}
		s.componentTemplates[name] = raw
		s.mu.Unlock()
		s.writeAck(w, q.r)
	case http.MethodDelete:
		s.mu.Lock()
		names, missing := namesMatching(s.componentTemplates, name)
		if missing != "" || len(names) == 0 {
			s.mu.Unlock()
			s.writeError(w, q.r, resourceNotFound("%s", name))
			return
		}
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
			s.mu.Unlock()
			sort.Strings(users)
			s.writeError(w, q.r, badRequest("component templates %s cannot be removed as they are still in use by index templates %s", bracketList(names), bracketList(users)))
			return
		}
		for _, n := range names {
			delete(s.componentTemplates, n)
		}
		s.mu.Unlock()
		s.writeAck(w, q.r)
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
		s.mu.RLock()
		names, missing := namesMatching(s.pipelines, id)
		e := getEnc()
		defer putEnc(e)
		e.obj()
		for _, n := range names {
			e.kraw(n, s.pipelines[n])
		}
		e.end()
		s.mu.RUnlock()
		status := http.StatusOK
		if missing != "" || (id != "" && len(names) == 0) {
			status = http.StatusNotFound
		}
		s.writeJSON(w, q.r, status, e.b)
	case http.MethodPut:
		if id == "" {
			s.noHandler(w, q)
			return
		}
		body, ee := readBody(q.r)
		if ee != nil {
			s.writeError(w, q.r, ee)
			return
		}
		var in map[string]any
		if ee := decodeBody(body, &in); ee != nil {
			s.writeError(w, q.r, ee)
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
		s.mu.Lock()
		names, missing := namesMatching(s.pipelines, id)
		if missing != "" || len(names) == 0 {
			s.mu.Unlock()
			s.writeError(w, q.r, resourceNotFound("pipeline [%s] is missing", id))
			return
		}
		for _, n := range names {
			delete(s.pipelines, n)
		}
		s.mu.Unlock()
		s.writeAck(w, q.r)
	}
}
