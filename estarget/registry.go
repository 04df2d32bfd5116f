package estarget

import (
	"net/http"
	"sort"
	"strings"
)

// Named registries are the maps of the store whose entries are addressed by
// name expressions: legacy, composable and component templates and ingest
// pipelines. The functions here serve their common GET, PUT and DELETE
// shapes; what each entry is and how it renders stays with its handler. All
// of them take the store lock themselves.

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

// writeNamedObject answers GET with an object keyed by name,
// {"<name>":body(entry),...}, as _template and _ingest/pipeline do: 404 with
// whatever was found when expr names a missing entry.
func writeNamedObject[V any](s *Server, w http.ResponseWriter, q *req, m map[string]V, expr string, body func(V) []byte) {
	s.mu.RLock()
	names, missing := namesMatching(m, expr)
	e := getEnc()
	defer putEnc(e)
	e.obj()
	for _, n := range names {
		e.kraw(n, body(m[n]))
	}
	e.end()
	s.mu.RUnlock()
	status := http.StatusOK
	if missing != "" || (expr != "" && len(names) == 0) {
		status = http.StatusNotFound
	}
	s.writeJSON(w, q.r, status, e.b)
}

// writeNamedList answers GET with a list,
// {"<list>":[{"name":n,"<item>":body(entry)},...]}, as _index_template and
// _component_template do, or 404 resource_not_found_exception
// "<what> matching [expr] not found" when expr names a missing entry.
func writeNamedList[V any](s *Server, w http.ResponseWriter, q *req, m map[string]V, expr, what, list, item string, body func(V) []byte) {
	s.mu.RLock()
	names, missing := namesMatching(m, expr)
	if missing != "" || (expr != "" && len(names) == 0) {
		s.mu.RUnlock()
		s.writeError(w, q.r, resourceNotFound("%s matching [%s] not found", what, expr))
		return
	}
	e := getEnc()
	defer putEnc(e)
	e.obj()
	e.karr(list)
	for _, n := range names {
		e.obj()
		e.kstr("name", n)
		e.kraw(item, body(m[n]))
		e.end()
	}
	e.endArr()
	e.end()
	s.mu.RUnlock()
	s.writeJSON(w, q.r, http.StatusOK, e.b)
}

// readPutBody starts a PUT of entry name: without a name there is no such
// endpoint; otherwise the JSON body is decoded into v and returned. It
// answers any failure itself and reports whether the handler goes on.
func (s *Server) readPutBody(w http.ResponseWriter, q *req, name string, v any) ([]byte, bool) {
	if name == "" {
		s.noHandler(w, q)
		return nil, false
	}
	body, e := readJSONBody(q.r, v)
	if e != nil {
		s.writeError(w, q.r, e)
		return nil, false
	}
	return body, true
}

// putNamed stores v as entry name and acknowledges. Under the write lock it
// first refuses with check's error (check may be nil), then, with ?create,
// an existing name: "<what> [name] already exists".
func putNamed[V any](s *Server, w http.ResponseWriter, q *req, m map[string]V, name string, v V, what string, check func() *esError) {
	s.mu.Lock()
	if check != nil {
		if e := check(); e != nil {
			s.mu.Unlock()
			s.writeError(w, q.r, e)
			return
		}
	}
	if _, exists := m[name]; exists && q.flag("create") {
		s.mu.Unlock()
		s.writeError(w, q.r, badRequest("%s [%s] already exists", what, name))
		return
	}
	m[name] = v
	s.mu.Unlock()
	s.writeAck(w, q.r)
}

// deleteNamed removes every entry matching expr and acknowledges. It
// answers notFound instead when expr matches nothing or names a missing
// entry, and inUse's error when that refuses the matched names (inUse may be
// nil; it runs under the write lock).
func deleteNamed[V any](s *Server, w http.ResponseWriter, q *req, m map[string]V, expr string, notFound *esError, inUse func(names []string) *esError) {
	s.mu.Lock()
	names, missing := namesMatching(m, expr)
	if missing != "" || len(names) == 0 {
		s.mu.Unlock()
		s.writeError(w, q.r, notFound)
		return
	}
	if inUse != nil {
		if e := inUse(names); e != nil {
			s.mu.Unlock()
			s.writeError(w, q.r, e)
			return
		}
	}
	for _, n := range names {
		delete(m, n)
	}
	s.mu.Unlock()
	s.writeAck(w, q.r)
}
