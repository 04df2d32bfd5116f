package driver

import (
	"context"
	"strconv"
	"strings"
	"sync"
)

// Engine is the distribution and version a node runs, as DetectEngine
// finds them. Where the driver's requests or its reading of an answer
// differ between Elasticsearch and OpenSearch, or between their versions,
// a method of Engine decides, and nothing else does:
//   - pit: the point-in-time API (Elasticsearch's /_pit, OpenSearch's
//     /_search/point_in_time).
//   - currentSnapshotsQuery: index_names=false on the current snapshots
//     list, which Elasticsearch takes from 8.3 on and OpenSearch refuses.
//
// Detection (distribution.go) deals with the differences in how a node
// names itself: GET / answered with HTTP 405 by Elasticsearch 8 and 9
// builds without the rest-root module, version.distribution and the
// cluster_manager role of OpenSearch.
//
// What the five engines the driver is tested on (Elasticsearch 7.17.28,
// 8.17.0 and 9.2.0, OpenSearch 2.19.1 and 3.0.0, driver/e2e) answer alike
// has no method: master_timeout (OpenSearch 2 and 3 still take it beside
// cluster_manager_timeout), legacy /_template, /_cluster/settings with
// flat_settings, composite aggregations and search_after, and request
// bodies without include_type_name, which the driver never sends (every
// one of the five but Elasticsearch 7 refuses it). The product headers
// (X-Elastic-Product on Elasticsearch's answers, X-Opensearch-Version on
// OpenSearch 3's) are not read: a Response carries no headers, and
// engine_test.go checks on recorded answers that detection agrees with
// them. Where an engine answers unlike esrally's runner expects (no
// "total" in OpenSearch's current snapshots list) the runner fails with
// the engine's answer, as esrally does.
type Engine struct {
	// Distribution is DistributionElasticsearch or DistributionOpenSearch.
	Distribution string
	// Version is the engine's version number, such as "8.17.0".
	Version string
}

// DetectEngine asks a node which engine it runs (DetectDistribution).
func DetectEngine(ctx context.Context, c Client) (Engine, error) {
	name, version, err := DetectDistribution(ctx, c)
	if err != nil {
		return Engine{}, err
	}
	return Engine{Distribution: name, Version: version}, nil
}

// engineInfo is the engine a client's node runs, asked once and shared
// by the streams of a composite operation.
type engineInfo struct {
	mu     sync.Mutex
	engine Engine
}

// engineOf returns the engine the session's node runs, asking it (outside
// the measured requests) the first time.
func (s *session) engineOf(ctx context.Context) (Engine, error) {
	if s.engine == nil {
		s.engine = &engineInfo{}
	}
	s.engine.mu.Lock()
	defer s.engine.mu.Unlock()
	if s.engine.engine.Distribution == "" {
		e, err := DetectEngine(ctx, s.client)
		if err != nil {
			return Engine{}, err
		}
		s.engine.engine = e
	}
	return s.engine.engine, nil
}

// String names the engine for messages: "opensearch 3.0.0".
func (e Engine) String() string { return e.Distribution + " " + e.Version }

// openSearch reports whether the engine is OpenSearch, whose version
// numbers say nothing about Elasticsearch's.
func (e Engine) openSearch() bool { return e.Distribution == DistributionOpenSearch }

// elasticsearchAtLeast reports whether the engine is Elasticsearch at
// major.minor or later.
func (e Engine) elasticsearchAtLeast(major, minor int) bool {
	return !e.openSearch() && !versionBefore(e.Version, major, minor)
}

// currentSnapshotsQuery is what GET /_snapshot/{repo}/_current?verbose=false
// adds to its query: esrally asks Elasticsearch 8.3 and later for no index
// names, which keeps the answers small; earlier versions and OpenSearch 2
// and 3 refuse the parameter (HTTP 400, unrecognized parameter).
func (e Engine) currentSnapshotsQuery() string {
	if e.elasticsearchAtLeast(8, 3) {
		return "&index_names=false"
	}
	return ""
}

// pitAPI is an engine's point-in-time API: both distributions search a
// point in time with the body's "pit": {"id", "keep_alive"} and answer
// with "pit_id", but they open and close it differently.
type pitAPI struct {
	// open follows the index in the path; keep_alive goes in the query.
	open string
	// idField names the id in the open answer.
	idField string
	// close is the path of the DELETE that closes a point in time with
	// closeBody(id).
	close     string
	closeBody func(id string) any
}

// pit returns the engine's point-in-time API: Elasticsearch (7.10 and
// later, in X-Pack before 8) POST /{index}/_pit and DELETE /_pit {"id"};
// OpenSearch (2.4 and later) POST
// /{index}/_search/point_in_time and DELETE /_search/point_in_time
// {"pit_id": [...]}.
func (e Engine) pit() pitAPI {
	if e.openSearch() {
		return pitAPI{open: "/_search/point_in_time", idField: "pit_id", close: "/_search/point_in_time",
			closeBody: func(id string) any { return map[string]any{"pit_id": []string{id}} }}
	}
	return pitAPI{open: "/_pit", idField: "id", close: "/_pit",
		closeBody: func(id string) any { return map[string]any{"id": id} }}
}

// versionBefore reports whether a version number ("8.2.3", "9.0.0-SNAPSHOT")
// is before major.minor.
func versionBefore(v string, major, minor int) bool {
	parts := strings.SplitN(v, ".", 3)
	num := func(i int) int {
		if i >= len(parts) {
			return 0
		}
		s := parts[i]
		if j := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
			s = s[:j]
		}
		n, _ := strconv.Atoi(s)
		return n
	}
	if num(0) != major {
		return num(0) < major
	}
	return num(1) < minor
}
