package estarget

import (
	"net/http"
	"strings"
	"testing"
)

// rootInfo mirrors GET / as documented.
type rootInfo struct {
	Name        string `json:"name"`
	ClusterName string `json:"cluster_name"`
	ClusterUUID string `json:"cluster_uuid"`
	Version     struct {
		Distribution                     string `json:"distribution"`
		Number                           string `json:"number"`
		BuildFlavor                      string `json:"build_flavor"`
		BuildType                        string `json:"build_type"`
		BuildHash                        string `json:"build_hash"`
		BuildDate                        string `json:"build_date"`
		BuildSnapshot                    bool   `json:"build_snapshot"`
		LuceneVersion                    string `json:"lucene_version"`
		MinimumWireCompatibilityVersion  string `json:"minimum_wire_compatibility_version"`
		MinimumIndexCompatibilityVersion string `json:"minimum_index_compatibility_version"`
	} `json:"version"`
	Tagline string `json:"tagline"`
}

func TestRoot(t *testing.T) {
	tests := []struct {
		name         string
		opts         Options
		number       string
		distribution string
		flavor       string
		tagline      string
		product      bool
		cluster      string
	}{
		{"elasticsearch_default_is_8.15.0", Options{}, "8.15.0", "", "default", "You Know, for Search", true, "elasticsearch"},
		{"elasticsearch_9_expands_to_9.0.0", Options{Version: "9"}, "9.0.0", "", "default", "You Know, for Search", true, "elasticsearch"},
		{"cluster_name_is_reported", Options{ClusterName: "bench"}, "8.15.0", "", "default", "You Know, for Search", true, "bench"},
		{"opensearch_has_distribution_and_no_product_header", Options{Flavor: FlavorOpenSearch}, "2.17.0", "opensearch", "", "The OpenSearch Project: https://opensearch.org/", false, "opensearch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.opts)
			res := must(t, s, http.StatusOK, http.MethodGet, "/", "")
			var info rootInfo
			decode(t, res.body, &info)
			if info.Version.Number != tt.number || info.Version.Distribution != tt.distribution ||
				info.Version.BuildFlavor != tt.flavor || info.Tagline != tt.tagline || info.ClusterName != tt.cluster {
				t.Fatalf("root info: %s", res.body)
			}
			if info.Name == "" || len(info.ClusterUUID) != 22 || info.Version.LuceneVersion == "" ||
				info.Version.MinimumWireCompatibilityVersion == "" || info.Version.MinimumIndexCompatibilityVersion == "" ||
				info.Version.BuildType == "" || info.Version.BuildDate == "" {
				t.Fatalf("root info incomplete: %s", res.body)
			}
			if !strings.Contains(info.Version.BuildHash, "estarget") {
				t.Fatalf("build_hash %q must say this is the test target", info.Version.BuildHash)
			}
			got := res.header.Get("X-Elastic-Product")
			if tt.product && got != "Elasticsearch" || !tt.product && got != "" {
				t.Fatalf("X-Elastic-Product = %q, want present=%v", got, tt.product)
			}
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type = %q", ct)
			}
			head := must(t, s, http.StatusOK, http.MethodHead, "/", "")
			if len(head.body) != 0 {
				t.Fatalf("HEAD / has a body: %q", head.body)
			}
			if tt.product && head.header.Get("X-Elastic-Product") != "Elasticsearch" {
				t.Fatal("HEAD / lacks X-Elastic-Product")
			}
		})
	}
}

func TestProductHeaderOnEveryResponse(t *testing.T) {
	s := New(Options{})
	for _, p := range []struct{ method, path string }{
		{http.MethodGet, "/missing"}, {http.MethodGet, "/_nope"}, {http.MethodDelete, "/_bulk"}, {http.MethodGet, "/_cluster/health"},
	} {
		res := call(t, s, p.method, p.path, "")
		if res.header.Get("X-Elastic-Product") != "Elasticsearch" {
			t.Errorf("%s %s (%d): no X-Elastic-Product header", p.method, p.path, res.status)
		}
	}
}

func TestCompatibleWithMediaTypeIsEchoed(t *testing.T) {
	s := New(Options{})
	req := "/"
	r := call(t, s, http.MethodGet, req, "")
	if r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("plain request: %q", r.header.Get("Content-Type"))
	}
	rec := httptestCompat(t, s)
	if rec != "application/vnd.elasticsearch+json;compatible-with=8" {
		t.Fatalf("compat request: Content-Type %q", rec)
	}
}

func TestUnknownEndpoints(t *testing.T) {
	s := New(Options{})
	tests := []struct {
		name, method, path string
		status             int
	}{
		{"unknown_underscore_path_is_400", http.MethodGet, "/_nope", http.StatusBadRequest},
		{"unknown_index_suffix_is_400", http.MethodGet, "/idx/_nope", http.StatusBadRequest},
		{"too_deep_is_400", http.MethodGet, "/a/b/c/d/e/f/g/h", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, s, tt.method, tt.path, "")
			mustError(t, res, tt.status, "illegal_argument_exception")
		})
	}
	t.Run("wrong_method_is_405_with_allow", func(t *testing.T) {
		res := call(t, s, http.MethodGet, "/_bulk", "")
		if res.status != http.StatusMethodNotAllowed || !strings.Contains(res.header.Get("Allow"), "POST") {
			t.Fatalf("status %d allow %q: %s", res.status, res.header.Get("Allow"), res.body)
		}
		var eb struct {
			Error  string `json:"error"`
			Status int    `json:"status"`
		}
		decode(t, res.body, &eb)
		if eb.Status != 405 || !strings.Contains(eb.Error, "Incorrect HTTP method") {
			t.Fatalf("405 body: %s", res.body)
		}
	})
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"zero_value_is_valid", Options{}, true},
		{"opensearch_2", Options{Flavor: FlavorOpenSearch, Version: "2.11.0"}, true},
		{"unknown_flavor", Options{Flavor: "solr"}, false},
		{"bad_version", Options{Version: "eight"}, false},
		{"unknown_major", Options{Version: "5.6.0"}, false},
		{"stall_for_not_shorter_than_every", Options{Faults: Faults{StallEvery: 1, StallFor: 1}}, false},
		{"rate_above_one", Options{Faults: Faults{Rate429: 1.5}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.opts.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
