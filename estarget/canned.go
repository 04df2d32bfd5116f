package estarget

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// reply is one canned answer: a status and a JSON body.
type reply struct {
	status int
	body   []byte
}

var hdrJSON = http.Header{"Content-Type": {"application/json; charset=UTF-8"}}

func (rep reply) answer() answer {
	return answer{status: rep.status, header: hdrJSON, body: bytes.NewReader(rep.body), length: int64(len(rep.body))}
}

func jsonReply(status int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		return errorReply(errf(http.StatusInternalServerError, "exception", "estarget: encode answer: %v", err))
	}
	return reply{status, b}
}

func rawReply(status int, body string) reply { return reply{status, []byte(body)} }

func errorReply(e *esError) reply { return reply{e.status, e.body()} }

// obj is a JSON object under construction.
type obj = map[string]any

var ack = rawReply(http.StatusOK, `{"acknowledged":true}`)

// methodNotAllowed answers like Elasticsearch: 405, a plain string "error"
// and no Allow header (the caller's list is in the message).
func methodNotAllowed(r *http.Request, allowed string) reply {
	return jsonReply(http.StatusMethodNotAllowed, obj{"error": "Incorrect HTTP method for uri [" + r.URL.RequestURI() +
		"] and method [" + r.Method + "], allowed: [" + allowed + "]", "status": http.StatusMethodNotAllowed})
}

// notImplemented is the answer to every API the canned mode lacks.
func notImplemented(r *http.Request) reply {
	return errorReply(badRequest("no handler found for uri [%s] and method [%s]: estarget's canned mode does not implement it "+
		"(run estarget --upstream in front of a real engine for the whole API)", r.URL.RequestURI(), r.Method))
}

// maxContentLength is Elasticsearch's default http.max_content_length.
const maxContentLength = 100 << 20

// readBody returns the request body, gunzipped when the client compressed
// it (as Elasticsearch accepts with http.compression).
func readBody(r *http.Request) ([]byte, *esError) {
	if r.Body == nil {
		return nil, nil
	}
	var src io.Reader = r.Body
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, badRequest("request body is not valid gzip: %v", err)
		}
		defer zr.Close()
		src = zr
	}
	b, err := io.ReadAll(io.LimitReader(src, maxContentLength+1))
	if err != nil {
		return nil, badRequest("cannot read request body: %v", err)
	}
	if len(b) > maxContentLength {
		return nil, errf(http.StatusRequestEntityTooLarge, "content_too_long_exception",
			"request body is too large: more than %d bytes (http.max_content_length)", maxContentLength)
	}
	return b, nil
}

// flag reports a boolean query parameter: present without value or "true".
func flag(r *http.Request, name string) bool {
	v, ok := r.URL.Query()[name]
	return ok && (len(v) == 0 || v[0] == "" || v[0] == "true")
}

// canned answers r from the canned API.
func (s *Server) canned(r *http.Request) answer {
	var segs []string
	for _, seg := range strings.Split(r.URL.Path, "/") {
		if seg != "" {
			segs = append(segs, seg)
		}
	}
	return s.route(r, segs).answer()
}

// route picks the canned handler of a path; HEAD is served as GET without
// a body.
func (s *Server) route(r *http.Request, segs []string) reply {
	at := func(i int) string {
		if i < len(segs) {
			return segs[i]
		}
		return ""
	}
	m := r.Method
	if m == http.MethodHead {
		m = http.MethodGet
	}
	read, write := m == http.MethodGet || m == http.MethodPost, m == http.MethodPut || m == http.MethodPost
	n := len(segs)
	switch first := at(0); {
	case n == 0:
		return s.root(r, m)
	case first == "_bulk" && n == 1 && write:
		return s.bulk(r, "")
	case (first == "_search" || first == "_count") && n == 1 && read:
		return s.search(r, "", first == "_count")
	case first == "_search" && at(1) == "scroll" && n <= 3:
		if m == http.MethodDelete {
			return rawReply(http.StatusOK, `{"succeeded":true,"num_freed":1}`)
		}
		return s.search(r, "", false)
	case first == "_cluster" && at(1) == "health" && n <= 3 && m == http.MethodGet:
		return s.health(r, at(2))
	case first == "_cluster" && at(1) == "settings" && n == 2:
		if m == http.MethodPut {
			return rawReply(http.StatusOK, `{"acknowledged":true,"persistent":{},"transient":{}}`)
		}
		return rawReply(http.StatusOK, `{"persistent":{},"transient":{}}`)
	case first == "_nodes" && m == http.MethodGet && (at(1) == "stats" || at(2) == "stats"):
		return s.nodesStats()
	case first == "_nodes" && m == http.MethodGet && n <= 3:
		return s.nodesInfo()
	case first == "_stats" && n <= 2 && m == http.MethodGet:
		return s.indexStats("")
	case (first == "_refresh" || first == "_flush" || first == "_forcemerge") && n == 1 && read:
		return s.maintain("", first)
	case first == "_tasks" && m == http.MethodGet:
		return rawReply(http.StatusOK, `{"nodes":{}}`)
	case first == "_query" && n == 1 && m == http.MethodPost:
		// ES|QL: no rows, as a query over nothing answers.
		return rawReply(http.StatusOK, `{"took":0,"columns":[{"name":"estarget","type":"keyword"}],"values":[]}`)
	case first == "_sql" && n == 1 && m == http.MethodPost:
		// Every page carries a cursor, so any number of pages can be read.
		return rawReply(http.StatusOK, `{"columns":[{"name":"estarget","type":"keyword"}],"rows":[],"cursor":"estarget-canned-cursor"}`)
	case first == "_sql" && at(1) == "close" && m == http.MethodPost:
		return rawReply(http.StatusOK, `{"succeeded":true}`)
	case first == "_async_search":
		return s.asyncSearch(r, m, at(1))
	case first[0] == '_' && first != "_all":
		if kind, name, action, ok := namedPath(segs); ok {
			return s.named(r, m, kind, name, action)
		}
		return notImplemented(r)
	}
	// Paths below an index expression.
	idx := at(0)
	switch api := at(1); {
	case n == 1:
		switch m {
		case http.MethodPut:
			return s.createIndex(r, idx)
		case http.MethodDelete:
			return s.deleteIndex(r, idx)
		case http.MethodGet:
			return s.getIndex(idx, false)
		}
	case api == "_bulk" && n == 2 && write:
		return s.bulk(r, idx)
	case (api == "_search" || api == "_count") && n == 2 && read:
		return s.search(r, idx, api == "_count")
	case (api == "_refresh" || api == "_flush" || api == "_forcemerge") && n == 2 && read:
		return s.maintain(idx, api)
	case api == "_stats" && n <= 3 && m == http.MethodGet:
		return s.indexStats(idx)
	case api == "_settings" && n == 2 && m == http.MethodGet:
		return s.getIndex(idx, true)
	case (api == "_settings" || api == "_mapping") && n == 2 && m == http.MethodPut:
		if _, e := s.store.resolve(idx, false); e != nil {
			return errorReply(e)
		}
		return ack
	case (api == "_doc" && (n == 2 && m == http.MethodPost || n == 3 && write)) || (api == "_create" && n == 3 && write):
		return s.indexOne(r, idx, at(2))
	case api == "_async_search" && n == 2 && m == http.MethodPost:
		return s.asyncSearch(r, m, "")
	case api == "_downsample" && n == 3 && m == http.MethodPost:
		s.store.create(at(2), false)
		return ack
	}
	return notImplemented(r)
}

// root answers GET / with the node's name and version, or as a build
// without the rest-root module does.
func (s *Server) root(r *http.Request, m string) reply {
	if m == http.MethodDelete {
		return errorReply(badRequest("Wildcard expressions or all indices are not allowed"))
	}
	if s.noRootAPI {
		return methodNotAllowed(r, "DELETE")
	}
	if m != http.MethodGet {
		return methodNotAllowed(r, "GET, HEAD, DELETE")
	}
	v := obj{"number": s.version.number, "build_type": "tar", "build_hash": buildHash, "build_date": s.version.buildDate,
		"build_snapshot": false, "lucene_version": s.version.lucene,
		"minimum_wire_compatibility_version": s.version.minWire, "minimum_index_compatibility_version": s.version.minIndex}
	tagline := "You Know, for Search"
	if s.flavor == FlavorOpenSearch {
		v["distribution"] = FlavorOpenSearch
		tagline = "The OpenSearch Project: https://opensearch.org/"
	} else {
		v["build_flavor"] = "default"
	}
	return jsonReply(http.StatusOK, obj{"name": s.nodeName, "cluster_name": s.clusterName, "cluster_uuid": s.clusterUUID,
		"version": v, "tagline": tagline})
}

// shards is the "_shards" member of n shards, all successful.
func shards(n int) obj { return obj{"total": n, "successful": n, "failed": 0} }

// health answers the cluster health: green with every index, red (and
// timed out, 408) when it names an index that does not exist.
func (s *Server) health(r *http.Request, expr string) reply {
	status, code, n := "green", http.StatusOK, 0
	if expr != "" {
		ixs, e := s.store.resolve(expr, false)
		if e != nil {
			status, code = "red", http.StatusRequestTimeout
		}
		n = len(ixs)
	} else {
		n, _ = s.store.totals()
	}
	return jsonReply(code, obj{"cluster_name": s.clusterName, "status": status, "timed_out": code != http.StatusOK,
		"number_of_nodes": 1, "number_of_data_nodes": 1, "active_primary_shards": n, "active_shards": n,
		"relocating_shards": 0, "initializing_shards": 0, "unassigned_shards": 0, "delayed_unassigned_shards": 0,
		"number_of_pending_tasks": 0, "number_of_in_flight_fetch": 0, "task_max_waiting_in_queue_millis": 0,
		"active_shards_percent_as_number": 100.0})
}

// search answers _search with no hits (the total is the documents
// counted in the targeted indices; no query is evaluated) and _count with
// that count.
func (s *Server) search(r *http.Request, expr string, count bool) reply {
	ixs, e := s.store.resolve(expr, flag(r, "ignore_unavailable"))
	if e != nil {
		return errorReply(e)
	}
	docs := s.store.docs(ixs)
	sh := shards(max(len(ixs), 1))
	if count {
		return jsonReply(http.StatusOK, obj{"count": docs, "_shards": sh})
	}
	sh["skipped"] = 0
	total := any(obj{"value": docs, "relation": "eq"})
	if flag(r, "rest_total_hits_as_int") {
		total = docs
	}
	out := obj{"took": 0, "timed_out": false, "_shards": sh, "hits": obj{"total": total, "max_score": nil, "hits": []any{}}}
	if r.URL.Query().Has("scroll") || strings.HasPrefix(r.URL.Path, "/_search/scroll") {
		out["_scroll_id"] = "estarget-canned-scroll"
	}
	return jsonReply(http.StatusOK, out)
}

// maintain answers _refresh, _flush and _forcemerge, counted per index.
func (s *Server) maintain(expr, api string) reply {
	ixs, e := s.store.resolve(expr, false)
	if e != nil {
		return errorReply(e)
	}
	s.store.maintained(ixs, api)
	return jsonReply(http.StatusOK, obj{"_shards": shards(len(ixs))})
}

// asyncSearch submits (id ""), fetches or deletes an async search: each
// is done at once, with the canned search answer inside.
func (s *Server) asyncSearch(r *http.Request, m, id string) reply {
	answerOf := func(id string) reply {
		return jsonReply(http.StatusOK, obj{"id": id, "is_partial": false, "is_running": false,
			"start_time_in_millis": s.started.UnixMilli(), "expiration_time_in_millis": s.started.Add(24 * time.Hour).UnixMilli(),
			"response": obj{"took": 0, "timed_out": false, "_shards": shards(1),
				"hits": obj{"total": obj{"value": 0, "relation": "eq"}, "max_score": nil, "hits": []any{}}}})
	}
	switch {
	case id == "" && m == http.MethodPost:
		id = randomID(15)
		s.store.put("async_search", id)
		return answerOf(id)
	case id != "" && !s.store.has("async_search", id):
		return errorReply(errf(http.StatusNotFound, "resource_not_found_exception", "%s", id))
	case id != "" && m == http.MethodGet:
		return answerOf(id)
	case id != "" && m == http.MethodDelete:
		s.store.remove("async_search", id)
		return ack
	}
	return notImplemented(r)
}

// nodesInfo answers the nodes info API with the one node: its addresses,
// version and roles, and one module whose version key names the
// distribution, as real nodes list theirs.
func (s *Server) nodesInfo() reply {
	roles := []string{"data", "ingest", "master", "ml", "remote_cluster_client", "transform"}
	module := obj{"name": "estarget", "version": s.version.number, s.flavor + "_version": s.version.number,
		"description": "estarget test target, not a real module", "classname": "estarget", "extended_plugins": []any{},
		"has_native_controller": false}
	node := obj{"name": s.nodeName, "transport_address": "127.0.0.1:9300", "host": "127.0.0.1", "ip": "127.0.0.1",
		"version": s.version.number, "build_type": "tar", "build_hash": buildHash, "roles": roles, "attributes": obj{},
		"plugins": []any{}, "modules": []any{module}}
	if s.flavor == FlavorOpenSearch {
		node["roles"] = []string{"cluster_manager", "data", "ingest", "remote_cluster_client"}
	} else {
		node["build_flavor"] = "default"
	}
	return jsonReply(http.StatusOK, obj{"_nodes": shards(1), "cluster_name": s.clusterName, "nodes": obj{s.nodeID: node}})
}
