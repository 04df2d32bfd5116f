package driver

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"rally/estarget"
)

// rootGone is what Elasticsearch 8.17.0 and 9.2.0 integ-test archives
// (no rest-root module) answer to GET /.
const rootGone = `{"error":"Incorrect HTTP method for uri [/] and method [GET], allowed: [DELETE]","status":405}`

// Nodes info answers of real nodes to GET /_nodes/_local/plugins, trimmed
// to one module each.
const (
	nodesES8170 = `{"_nodes":{"total":1,"successful":1,"failed":0},"cluster_name":"probe","nodes":{"0BhO6N7ASOGXXbE79zfGvg":{` +
		`"name":"probe-1","transport_address":"127.0.0.1:19300","host":"127.0.0.1","ip":"127.0.0.1","version":"8.17.0",` +
		`"transport_version":8797002,"index_version":8521000,"component_versions":{"ml_config_version":12000099,` +
		`"api_key_version":8150099,"transform_config_version":10000099},"build_flavor":"default","build_type":"zip",` +
		`"build_hash":"2b6a7fed44faa321997703718f07ee0420804b41","roles":["data","data_cold","data_content","data_frozen",` +
		`"data_hot","data_warm","ingest","master","ml","remote_cluster_client","transform"],"attributes":{"xpack.installed":"true"},` +
		`"plugins":[],"modules":[{"name":"transport-netty4","version":"8.17.0","elasticsearch_version":"8.17.0","java_version":"17",` +
		`"description":"Netty 4 based transport implementation","classname":"org.elasticsearch.transport.netty4.Netty4Plugin",` +
		`"extended_plugins":[],"has_native_controller":false,"licensed":false}]}}}`
	nodesES920 = `{"_nodes":{"total":1,"successful":1,"failed":0},"cluster_name":"probe","nodes":{"0F6FUB2FQNaBqawJQXlZwA":{` +
		`"name":"probe-9","transport_address":"127.0.0.1:19300","host":"127.0.0.1","ip":"127.0.0.1","version":"9.2.0",` +
		`"transport_version":9185002,"index_version":9039001,"component_versions":{},"build_flavor":"default","build_type":"zip",` +
		`"build_hash":"25d88452371273dd27356c98598287b669a03eae","roles":["data","ingest","master"],"attributes":{},` +
		`"plugins":[],"modules":[{"name":"apm","version":"9.2.0","elasticsearch_version":"9.2.0","java_version":"21",` +
		`"description":"Provides APM integration for Elasticsearch","classname":"org.elasticsearch.telemetry.apm.APM",` +
		`"extended_plugins":[],"has_native_controller":false,"licensed":false}]}}}`
	nodesOS2191 = `{"_nodes":{"total":1,"successful":1,"failed":0},"cluster_name":"probe","nodes":{"hlC8HzoVRii5fHt94qDDSw":{` +
		`"name":"probe-os","transport_address":"127.0.0.1:19300","host":"127.0.0.1","ip":"127.0.0.1","version":"2.19.1",` +
		`"build_type":"zip","build_hash":"2e4741fb45d1b150aaeeadf66d41445b23ff5982",` +
		`"roles":["cluster_manager","data","ingest","remote_cluster_client"],"attributes":{"shard_indexing_pressure_enabled":"true"},` +
		`"plugins":[],"modules":[{"name":"transport-netty4","version":"2.19.1","opensearch_version":"2.19.1","java_version":"11",` +
		`"description":"Netty 4 based transport implementation","classname":"org.opensearch.transport.Netty4Plugin",` +
		`"custom_foldername":"","extended_plugins":[],"has_native_controller":false,"optional_extended_plugins":[]}]}}}`
)

// detectAgainst runs DetectDistribution against a server answering with
// handle and returns what it found and the requests it sent ("GET /", ...).
func detectAgainst(t *testing.T, handle func(recReq) (int, string)) (name, version string, sent []string, err error) {
	t.Helper()
	srv := newTestES(t, handle)
	c, _ := NewFastClient(srv.target(), DefaultClientOptions())
	defer c.Close()
	name, version, err = DetectDistribution(context.Background(), c)
	for _, r := range srv.requests() {
		sent = append(sent, r.Method+" "+r.URI)
	}
	return name, version, sent, err
}

func TestDetectDistributionFallsBackToNodesInfo(t *testing.T) {
	tests := []struct {
		name          string
		rootStatus    int
		rootBody      string
		nodes         string
		wantName      string
		wantVersion   string
		wantRequests  int
		wantErrSubstr []string
	}{
		{"elasticsearch_8.17.0_archive_answers_405", 405, rootGone, nodesES8170, "elasticsearch", "8.17.0", 2, nil},
		{"elasticsearch_9.2.0_archive_answers_405", 405, rootGone, nodesES920, "elasticsearch", "9.2.0", 2, nil},
		{"opensearch_names_itself_in_its_modules", 404, `{}`, nodesOS2191, "opensearch", "2.19.1", 2, nil},
		{"opensearch_without_modules_by_its_cluster_manager_role", 405, rootGone,
			`{"nodes":{"a":{"version":"3.0.0","roles":["cluster_manager","data"],"plugins":[],"modules":[]}}}`, "opensearch", "3.0.0", 2, nil},
		{"no_handler_found_400", 400, `{"error":{"type":"illegal_argument_exception","reason":"no handler found for uri [/] and method [GET]"},"status":400}`,
			nodesES8170, "elasticsearch", "8.17.0", 2, nil},
		{"unauthorized_root_is_not_retried", 401, `{"error":"security_exception"}`, nodesES8170, "", "", 1,
			[]string{"GET /: HTTP 401", "security_exception"}},
		{"server_error_is_not_retried", 503, `{"error":"unavailable"}`, nodesES8170, "", "", 1, []string{"GET /: HTTP 503"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, version, sent, err := detectAgainst(t, func(r recReq) (int, string) {
				if r.URI == "/" {
					return tt.rootStatus, tt.rootBody
				}
				return 200, tt.nodes
			})
			if len(sent) != tt.wantRequests || sent[0] != "GET /" || (len(sent) == 2 && sent[1] != "GET /_nodes/_local/plugins") {
				t.Fatalf("requests %q", sent)
			}
			if tt.wantErrSubstr != nil {
				if err == nil {
					t.Fatalf("got %s %s, want an error", name, version)
				}
				for _, s := range tt.wantErrSubstr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				return
			}
			if err != nil || name != tt.wantName || version != tt.wantVersion {
				t.Fatalf("got %s %s %v, want %s %s", name, version, err, tt.wantName, tt.wantVersion)
			}
		})
	}
}

func TestDetectDistributionNamesBothRequestsWhenBothFail(t *testing.T) {
	tests := []struct {
		name  string
		nodes func() (int, string)
		want  []string
	}{
		{"nodes_forbidden", func() (int, string) { return 403, `{"error":"forbidden"}` },
			[]string{"GET /: HTTP 405", "allowed: [DELETE]", "GET /_nodes/_local/plugins: HTTP 403", "forbidden"}},
		{"nodes_answer_is_no_nodes_info", func() (int, string) { return 200, `[1,2]` },
			[]string{"GET /: HTTP 405", "GET /_nodes/_local/plugins: response is not a nodes info answer"}},
		{"no_node_in_the_answer", func() (int, string) { return 200, `{"nodes":{}}` },
			[]string{"GET /: HTTP 405", "GET /_nodes/_local/plugins: no node in the response"}},
		{"node_without_version", func() (int, string) { return 200, `{"nodes":{"x1":{"name":"n"}}}` },
			[]string{"GET /: HTTP 405", "GET /_nodes/_local/plugins: node x1 has no version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, sent, err := detectAgainst(t, func(r recReq) (int, string) {
				if r.URI == "/" {
					return 405, rootGone
				}
				return tt.nodes()
			})
			if len(sent) != 2 {
				t.Fatalf("requests %q", sent)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "detect distribution: ") {
				t.Errorf("error %q does not start with what failed", err)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestDetectDistributionAgainstTargetWithoutRootAPI(t *testing.T) {
	tests := []struct {
		name string
		opts estarget.Options
		want string
	}{
		{"elasticsearch_9", estarget.Options{Version: "9.2.0", NoRootAPI: true}, "elasticsearch"},
		{"elasticsearch_8", estarget.Options{Version: "8.17.0", NoRootAPI: true}, "elasticsearch"},
		{"opensearch", estarget.Options{Flavor: estarget.FlavorOpenSearch, Version: "3.0.0", NoRootAPI: true}, "opensearch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(estarget.New(tt.opts))
			defer srv.Close()
			c, _ := NewFastClient(Target{Scheme: "http", Host: strings.TrimPrefix(srv.URL, "http://")}, DefaultClientOptions())
			defer c.Close()
			// The target really refuses GET /, so detection cannot have read it.
			var resp Response
			if err := c.Do(context.Background(), &Request{Method: "GET", Path: "/"}, &resp); err != nil || resp.Status != 405 {
				t.Fatalf("GET /: %d %v", resp.Status, err)
			}
			name, version, err := DetectDistribution(context.Background(), c)
			if err != nil || name != tt.want || version != tt.opts.Version {
				t.Fatalf("got %s %s %v, want %s %s", name, version, err, tt.want, tt.opts.Version)
			}
		})
	}
}
