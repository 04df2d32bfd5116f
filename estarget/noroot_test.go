package estarget

import (
	"net/http"
	"testing"
)

func TestNoRootAPI(t *testing.T) {
	s := New(Options{Version: "9.2.0", NoRootAPI: true})
	t.Run("get_is_405_naming_delete_as_real_archives_answer", func(t *testing.T) {
		res := must(t, s, http.StatusMethodNotAllowed, http.MethodGet, "/", "")
		// The exact body Elasticsearch 8.17.0 and 9.2.0 integ-test archives send.
		want := `{"error":"Incorrect HTTP method for uri [/] and method [GET], allowed: [DELETE]","status":405}`
		if string(res.body) != want || res.header.Get("Allow") != "DELETE" {
			t.Fatalf("Allow %q, body %s", res.header.Get("Allow"), res.body)
		}
	})
	t.Run("head_is_405_too", func(t *testing.T) {
		must(t, s, http.StatusMethodNotAllowed, http.MethodHead, "/", "")
	})
	t.Run("delete_all_is_refused", func(t *testing.T) {
		mustError(t, call(t, s, http.MethodDelete, "/", ""), http.StatusBadRequest, "illegal_argument_exception")
	})
	t.Run("other_apis_answer", func(t *testing.T) {
		must(t, s, http.StatusOK, http.MethodGet, "/_cluster/health", "")
	})
	t.Run("default_target_still_answers_get", func(t *testing.T) {
		must(t, New(Options{}), http.StatusOK, http.MethodGet, "/", "")
	})
}

func TestNodesInfoNamesTheDistributionInItsModule(t *testing.T) {
	for _, flavor := range []string{FlavorElasticsearch, FlavorOpenSearch} {
		t.Run(flavor, func(t *testing.T) {
			s := New(Options{Flavor: flavor, NoRootAPI: true})
			var info struct {
				Nodes map[string]struct {
					Version string           `json:"version"`
					Modules []map[string]any `json:"modules"`
					Plugins []map[string]any `json:"plugins"`
				} `json:"nodes"`
			}
			decode(t, must(t, s, http.StatusOK, http.MethodGet, "/_nodes/_local/plugins", "").body, &info)
			if len(info.Nodes) != 1 {
				t.Fatalf("nodes %v", info.Nodes)
			}
			for _, n := range info.Nodes {
				if len(n.Modules) != 1 || n.Modules[0][flavor+"_version"] != n.Version || n.Version != s.version.number {
					t.Fatalf("node %+v", n)
				}
			}
		})
	}
}
