package estarget

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// req is one routed request: its path segments and raw query.
type req struct {
	r     *http.Request
	segs  [6]string
	nseg  int
	query string
	ep    endpoint
	// allowed lists the methods of the matched path when the request's
	// method was not one of them.
	allowed string
}

var reqPool = sync.Pool{New: func() any { return new(req) }}

func (q *req) seg(i int) string {
	if i < q.nseg {
		return q.segs[i]
	}
	return ""
}

// param returns a query parameter without building a url.Values map.
func (q *req) param(name string) (string, bool) {
	rest := q.query
	for rest != "" {
		var kv string
		kv, rest, _ = strings.Cut(rest, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != name {
			if strings.IndexByte(k, '%') < 0 {
				continue
			}
			if uk, err := url.QueryUnescape(k); err != nil || uk != name {
				continue
			}
		}
		if strings.IndexByte(v, '%') >= 0 || strings.IndexByte(v, '+') >= 0 {
			if uv, err := url.QueryUnescape(v); err == nil {
				v = uv
			}
		}
		return v, true
	}
	return "", false
}

// indexExpr is the index expression of a path served both with and without
// one: "" for /{self}..., the first segment for /{index}/{self}....
func (q *req) indexExpr(self string) string {
	if q.seg(0) == self {
		return ""
	}
	return q.seg(0)
}

// flag reports a boolean parameter: present without value or "true".
func (q *req) flag(name string) bool {
	v, ok := q.param(name)
	return ok && (v == "" || v == "true")
}

// handlerFunc serves one routed request. Handlers are method expressions,
// so routing allocates nothing.
type handlerFunc func(s *Server, w http.ResponseWriter, q *req)

// route picks the handler and sets q.ep. It never writes.
func (s *Server) route(q *req) handlerFunc {
	m := q.r.Method
	allow := q.allow
	if q.nseg > len(q.segs) {
		q.ep = epUnknown
		return (*Server).noHandler
	}
	s0, s1, s2 := q.seg(0), q.seg(1), q.seg(2)
	switch s0 {
	case "":
		if s.noRootAPI {
			return s.routeNoRoot(q)
		}
		return allow(epRoot, (*Server).handleRoot, http.MethodGet)
	case "_bulk":
		if q.nseg == 1 {
			return allow(epBulk, (*Server).handleBulk, http.MethodPost, http.MethodPut)
		}
	case "_search":
		switch {
		case q.nseg == 1:
			return allow(epSearch, (*Server).handleSearch, http.MethodGet, http.MethodPost)
		case s1 == "scroll" && q.nseg <= 3:
			return allow(epScroll, (*Server).handleScroll, http.MethodGet, http.MethodPost, http.MethodDelete)
		case s1 == "point_in_time" && s.flavor == FlavorOpenSearch && q.nseg <= 3:
			return allow(epPIT, (*Server).handleClosePIT, http.MethodDelete)
		}
	case "_count":
		if q.nseg == 1 {
			return allow(epCount, (*Server).handleCount, http.MethodGet, http.MethodPost)
		}
	case "_pit":
		if q.nseg == 1 && s.flavor == FlavorElasticsearch {
			return allow(epPIT, (*Server).handleClosePIT, http.MethodDelete)
		}
	case "_cluster":
		switch {
		case s1 == "health" && q.nseg <= 3:
			return allow(epHealth, (*Server).handleHealth, http.MethodGet)
		case s1 == "settings" && q.nseg == 2:
			return allow(epClusterSettings, (*Server).handleClusterSettings, http.MethodGet, http.MethodPut)
		}
	case "_cat":
		switch {
		case s1 == "health" && q.nseg == 2:
			return allow(epCat, (*Server).handleCatHealth, http.MethodGet)
		case s1 == "indices" && q.nseg <= 3:
			return allow(epCat, (*Server).handleCatIndices, http.MethodGet)
		}
	case "_stats":
		if q.nseg <= 2 {
			return allow(epStats, (*Server).handleStats, http.MethodGet)
		}
	case "_nodes":
		switch {
		case q.nseg == 1:
			return allow(epNodesInfo, (*Server).handleNodesInfo, http.MethodGet)
		case s1 == "stats" || s2 == "stats":
			return allow(epNodesStats, (*Server).handleNodesStats, http.MethodGet)
		case q.nseg <= 3:
			return allow(epNodesInfo, (*Server).handleNodesInfo, http.MethodGet)
		}
	case "_refresh":
		if q.nseg == 1 {
			return allow(epRefresh, (*Server).handleRefresh, http.MethodPost, http.MethodGet)
		}
	case "_flush":
		if q.nseg == 1 {
			return allow(epFlush, (*Server).handleFlush, http.MethodPost, http.MethodGet)
		}
	case "_forcemerge":
		if q.nseg == 1 {
			return allow(epForceMerge, (*Server).handleForceMerge, http.MethodPost)
		}
	case "_recovery":
		if q.nseg == 1 {
			return allow(epRecovery, (*Server).handleRecovery, http.MethodGet)
		}
	case "_tasks":
		if q.nseg <= 2 {
			return allow(epTasks, (*Server).handleTasks, http.MethodGet)
		}
	case "_template":
		if q.nseg <= 2 {
			return allow(epTemplate, (*Server).handleLegacyTemplate, http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete)
		}
	case "_index_template":
		if q.nseg <= 2 {
			return allow(epIndexTemplate, (*Server).handleIndexTemplate, http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete)
		}
	case "_component_template":
		if q.nseg <= 2 {
			return allow(epComponentTemplate, (*Server).handleComponentTemplate, http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete)
		}
	case "_data_stream":
		if q.nseg <= 2 {
			return allow(epDataStream, (*Server).handleDataStream, http.MethodGet, http.MethodPut, http.MethodDelete)
		}
	case "_ingest":
		if s1 == "pipeline" && q.nseg <= 3 {
			return allow(epPipeline, (*Server).handlePipeline, http.MethodGet, http.MethodPut, http.MethodDelete)
		}
	case "_mapping":
		if q.nseg == 1 {
			return allow(epMapping, (*Server).handleMapping, http.MethodGet)
		}
	case "_settings":
		if q.nseg == 1 {
			return allow(epSettings, (*Server).handleSettings, http.MethodGet)
		}
	default:
		if s0[0] == '_' && s0 != "_all" {
			if q.nseg == 1 && m == http.MethodPut {
				// Elasticsearch routes this to index creation, which then
				// rejects the name.
				return allow(epIndexCreate, (*Server).handleCreateIndex, http.MethodPut)
			}
			break
		}
		return s.routeIndex(q)
	}
	q.ep = epUnknown
	return (*Server).noHandler
}

// routeIndex routes paths that start with an index expression.
func (s *Server) routeIndex(q *req) handlerFunc {
	allow := q.allow
	s1, s2 := q.seg(1), q.seg(2)
	get, put, post, del := http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete
	switch s1 {
	case "":
		switch q.r.Method {
		case put:
			return allow(epIndexCreate, (*Server).handleCreateIndex, put)
		case del:
			return allow(epIndexDelete, (*Server).handleDeleteIndex, del)
		case http.MethodHead:
			q.ep = epIndexExists
			return (*Server).handleIndexExists
		default:
			return allow(epIndexGet, (*Server).handleGetIndex, get, put, del)
		}
	case "_bulk":
		if q.nseg == 2 {
			return allow(epBulk, (*Server).handleBulk, post, put)
		}
	case "_search":
		switch {
		case q.nseg == 2:
			return allow(epSearch, (*Server).handleSearch, get, post)
		case s2 == "point_in_time" && q.nseg == 3 && s.flavor == FlavorOpenSearch:
			return allow(epPIT, (*Server).handleOpenPIT, post)
		}
	case "_count":
		if q.nseg == 2 {
			return allow(epCount, (*Server).handleCount, get, post)
		}
	case "_pit":
		if q.nseg == 2 && s.flavor == FlavorElasticsearch {
			return allow(epPIT, (*Server).handleOpenPIT, post)
		}
	case "_refresh":
		if q.nseg == 2 {
			return allow(epRefresh, (*Server).handleRefresh, post, get)
		}
	case "_flush":
		if q.nseg == 2 {
			return allow(epFlush, (*Server).handleFlush, post, get)
		}
	case "_forcemerge":
		if q.nseg == 2 {
			return allow(epForceMerge, (*Server).handleForceMerge, post)
		}
	case "_stats":
		if q.nseg <= 3 {
			return allow(epStats, (*Server).handleStats, get)
		}
	case "_settings":
		if q.nseg == 2 {
			return allow(epSettings, (*Server).handleSettings, get, put)
		}
	case "_mapping":
		if q.nseg == 2 {
			return allow(epMapping, (*Server).handleMapping, get, put)
		}
	case "_recovery":
		if q.nseg == 2 {
			return allow(epRecovery, (*Server).handleRecovery, get)
		}
	case "_doc":
		switch q.nseg {
		case 2:
			return allow(epDoc, (*Server).handleDoc, post)
		case 3:
			return allow(epDoc, (*Server).handleDoc, get, put, post, del)
		}
	case "_create":
		if q.nseg == 3 {
			return allow(epDoc, (*Server).handleDoc, put, post)
		}
	case "_update":
		if q.nseg == 3 {
			return allow(epDoc, (*Server).handleDoc, post)
		}
	}
	q.ep = epUnknown
	return (*Server).noHandler
}

func (s *Server) noHandler(w http.ResponseWriter, q *req) {
	s.writeError(w, q.r, badRequest("no handler found for uri [%s] and method [%s]", q.r.URL.RequestURI(), q.r.Method))
}

// allow selects h for endpoint ep when the request's method is one of
// methods (HEAD counts as GET); otherwise the 405 handler.
func (q *req) allow(ep endpoint, h handlerFunc, methods ...string) handlerFunc {
	q.ep = ep
	m := q.r.Method
	for _, mm := range methods {
		if m == mm || (m == http.MethodHead && mm == http.MethodGet) {
			return h
		}
	}
	q.allowed = strings.Join(methods, ", ")
	if strings.Contains(q.allowed, http.MethodGet) {
		q.allowed += ", " + http.MethodHead
	}
	return (*Server).methodNotAllowed
}

// routeNoRoot routes / as Elasticsearch 8 and 9 do without the rest-root
// module: only DELETE / (delete every index) is left there, so any other
// method is a 405 naming DELETE. DELETE / itself is refused as the default
// action.destructive_requires_name refuses it; the target does not delete
// every index.
func (s *Server) routeNoRoot(q *req) handlerFunc {
	q.ep = epRoot
	if q.r.Method == http.MethodDelete {
		return (*Server).refuseDeleteAll
	}
	q.allowed = http.MethodDelete
	return (*Server).methodNotAllowed
}

// refuseDeleteAll answers DELETE / like Elasticsearch with
// action.destructive_requires_name set (the default since 8.0).
func (s *Server) refuseDeleteAll(w http.ResponseWriter, q *req) {
	s.writeError(w, q.r, badRequest("Wildcard expressions or all indices are not allowed"))
}

// methodNotAllowed answers like Elasticsearch: 405 with a plain string
// "error" and an Allow header.
func (s *Server) methodNotAllowed(w http.ResponseWriter, q *req) {
	w.Header().Set("Allow", q.allowed)
	e := getEnc()
	defer putEnc(e)
	e.obj()
	e.kstr("error", "Incorrect HTTP method for uri ["+q.r.URL.RequestURI()+"] and method ["+q.r.Method+"], allowed: ["+q.allowed+"]")
	e.kint("status", http.StatusMethodNotAllowed)
	e.end()
	s.writeJSON(w, q.r, http.StatusMethodNotAllowed, e.b)
}
