package estarget

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// namedKinds are the APIs whose resources the canned mode remembers by
// name only: templates, pipelines and data streams, and what the minimal
// integ-test archives lack (ILM, enrich policies, transforms, ML jobs and
// datafeeds). Each
// is created, listed, acted on and deleted with fixed answers in the
// shapes Rally's runners read.
var namedKinds = [][]string{{"_index_template"}, {"_component_template"}, {"_template"}, {"_data_stream"},
	{"_transform"}, {"_ingest", "pipeline"}, {"_ilm", "policy"}, {"_ml", "anomaly_detectors"}, {"_ml", "datafeeds"}, {"_enrich", "policy"}}

// namedPath splits a path of a named resource into its kind ("transform",
// "ml/datafeeds"), the name (or name expression) and the action after it
// ("_start", "_stats"). Elasticsearch 6's /_xpack/ml/... paths are the
// same as /_ml/....
func namedPath(segs []string) (kind, name, action string, ok bool) {
	if len(segs) > 1 && segs[0] == "_xpack" {
		segs = append([]string{"_" + segs[1]}, segs[2:]...)
	}
	for _, k := range namedKinds {
		if len(segs) < len(k) || len(segs) > len(k)+2 || !slices.Equal(segs[:len(k)], k) {
			continue
		}
		rest := append(slices.Clone(segs[len(k):]), "", "")
		return strings.TrimPrefix(strings.Join(k, "/"), "_"), rest[0], rest[1], true
	}
	return "", "", "", false
}

// named serves the named resources: PUT creates (a data stream is an
// index too), GET and HEAD list, DELETE removes, POST acts (start, stop,
// open, close, execute); a name that was not created is a 404.
func (s *Server) named(r *http.Request, m, kind, name, action string) reply {
	st := &s.store
	if (m == http.MethodPut || m == http.MethodPost) && name != "" && action == "" {
		body, e := readBody(r)
		if e != nil {
			return errorReply(e)
		}
		if len(strings.TrimSpace(string(body))) > 0 && !json.Valid(body) {
			return errorReply(errf(http.StatusBadRequest, "x_content_parse_exception", "failed to parse the %s body: not JSON", kind))
		}
		if kind == "data_stream" {
			if st.has(kind, name) {
				return errorReply(errf(http.StatusBadRequest, "resource_already_exists_exception", "data_stream [%s] already exists", name))
			}
			st.create(name, true)
		}
		st.put(kind, name)
		switch kind {
		case "ml/anomaly_detectors":
			return jsonReply(http.StatusOK, obj{"job_id": name, "job_type": "anomaly_detector", "create_time": time.Now().UnixMilli()})
		case "ml/datafeeds":
			return jsonReply(http.StatusOK, obj{"datafeed_id": name})
		}
		return ack
	}
	names, missing := st.list(kind, name)
	if missing != "" || (name != "" && len(names) == 0 && m != http.MethodGet) {
		return errorReply(errf(http.StatusNotFound, "resource_not_found_exception", "%s [%s] not found", kind, cmp.Or(missing, name)))
	}
	switch {
	case m == http.MethodGet && (action == "" || action == "_stats"):
		return jsonReply(http.StatusOK, namedListing(kind, names, action == "_stats"))
	case m == http.MethodDelete && name != "" && action == "":
		for _, n := range names {
			st.remove(kind, n)
			if kind == "data_stream" {
				st.mu.Lock()
				delete(st.indices, n)
				st.mu.Unlock()
			}
		}
		return ack
	case m == http.MethodPost && name != "":
		switch kind + "/" + action {
		case "transform/_start", "transform/_stop":
			return ack
		case "ml/anomaly_detectors/_open":
			return jsonReply(http.StatusOK, obj{"opened": true, "node": s.nodeID})
		case "ml/anomaly_detectors/_close":
			return rawReply(http.StatusOK, `{"closed":true}`)
		case "ml/datafeeds/_start":
			return jsonReply(http.StatusOK, obj{"started": true, "node": s.nodeID})
		case "ml/datafeeds/_stop":
			return rawReply(http.StatusOK, `{"stopped":true}`)
		case "enrich/policy/_execute":
			return rawReply(http.StatusOK, `{"status":{"phase":"COMPLETE"}}`)
		}
	}
	return notImplemented(r)
}

// namedListing is the GET answer of names of kind, in each API's shape;
// stats asks for a transform's statistics: stopped, nothing processed.
func namedListing(kind string, names []string, stats bool) obj {
	list := func(key string, item func(n string) obj) obj {
		items := []obj{}
		for _, n := range names {
			items = append(items, item(n))
		}
		return obj{"count": len(items), key: items}
	}
	byName := func(item func(n string) obj) obj {
		out := obj{}
		for _, n := range names {
			out[n] = item(n)
		}
		return out
	}
	switch kind {
	case "index_template":
		out := list("index_templates", func(n string) obj {
			return obj{"name": n, "index_template": obj{"index_patterns": []string{}, "composed_of": []string{}, "template": obj{}}}
		})
		delete(out, "count")
		return out
	case "component_template":
		out := list("component_templates", func(n string) obj { return obj{"name": n, "component_template": obj{"template": obj{}}} })
		delete(out, "count")
		return out
	case "data_stream":
		out := list("data_streams", func(n string) obj {
			return obj{"name": n, "timestamp_field": obj{"name": "@timestamp"}, "indices": []obj{}, "generation": 1,
				"status": "GREEN", "template": ""}
		})
		delete(out, "count")
		return out
	case "transform":
		if stats {
			return list("transforms", func(n string) obj {
				return obj{"id": n, "state": "stopped", "stats": obj{"documents_processed": 0, "search_time_in_ms": 0,
					"processing_time_in_ms": 0, "index_time_in_ms": 0, "pages_processed": 0},
					"checkpointing": obj{"last": obj{"checkpoint": 1}}}
			})
		}
		return list("transforms", func(n string) obj { return obj{"id": n} })
	case "ml/anomaly_detectors":
		return list("jobs", func(n string) obj { return obj{"job_id": n, "job_type": "anomaly_detector"} })
	case "ml/datafeeds":
		return list("datafeeds", func(n string) obj { return obj{"datafeed_id": n} })
	case "ilm/policy":
		return byName(func(string) obj {
			return obj{"version": 1, "modified_date": "2024-01-01T00:00:00.000Z", "policy": obj{"phases": obj{}}}
		})
	case "enrich/policy":
		out := list("policies", func(n string) obj { return obj{"config": obj{"match": obj{"name": n, "indices": []string{}}}} })
		delete(out, "count")
		return out
	case "ingest/pipeline":
		return byName(func(string) obj { return obj{"processors": []any{}} })
	}
	// Legacy templates.
	return byName(func(string) obj {
		return obj{"order": 0, "index_patterns": []string{}, "settings": obj{}, "mappings": obj{}, "aliases": obj{}}
	})
}
