package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
)

// The request shapes of rally's operations, compared with the requests the
// vendors' official Go clients build for the same call: go-elasticsearch's
// esapi and opensearch-go's opensearchapi, both generated from their
// vendor's API specification. Rally's operation runs against a recording
// stand-in (httptest); the client runs with a Transport that records
// instead of sending. Method, path, query parameters (as sets) and body
// (as JSON) must be equal, except where shapeDifferences names a
// deliberate difference and why. The clients are test-only dependencies.

// recordingTransport is an http.RoundTripper that sends nothing: it keeps
// each request a client makes and answers as the stand-in does.
type recordingTransport struct {
	mu     sync.Mutex
	reqs   []recReq
	answer func(recReq) (int, string)
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	rr := recReq{Method: r.Method, URI: r.URL.RequestURI(), Body: string(body), Header: r.Header.Clone()}
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, rr)
	rt.mu.Unlock()
	status, answer := rt.answer(rr)
	return &http.Response{
		StatusCode: status, Status: strconv.Itoa(status) + " " + http.StatusText(status),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		// go-elasticsearch refuses answers that do not name the product.
		Header:        http.Header{"Content-Type": {"application/json"}, "X-Elastic-Product": {"Elasticsearch"}},
		Body:          io.NopCloser(strings.NewReader(answer)),
		ContentLength: int64(len(answer)),
		Request:       r,
	}, nil
}

func (rt *recordingTransport) requests() []recReq {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return slices.Clone(rt.reqs)
}

// shapeAnswer is what the stand-in and the recording transports answer
// for an engine of distribution: enough for each operation to finish
// after one round (a transform that has stopped, a healthy cluster, a
// snapshot done, an async search with an id that is done, a point in
// time), and the root document rally detects the engine by.
func shapeAnswer(distribution string) func(recReq) (int, string) {
	return func(r recReq) (int, string) {
		path, _, _ := strings.Cut(r.URI, "?")
		if path == "/" {
			if distribution == DistributionOpenSearch {
				return 200, `{"version":{"distribution":"opensearch","number":"2.19.1"}}`
			}
			return 200, `{"version":{"number":"8.17.0"}}`
		}
		return shapeAnswerTo(path)
	}
}

func shapeAnswerTo(path string) (int, string) {
	switch {
	case strings.HasSuffix(path, "/_pit") || strings.HasSuffix(path, "/_search/point_in_time"):
		return 200, `{"id":"pit1","pit_id":"pit1"}`
	case path == "/_search":
		return 200, `{"pit_id":"pit1","hits":{"total":{"value":0,"relation":"eq"},"hits":[]}}`
	case strings.HasSuffix(path, "/_stats") && strings.HasPrefix(path, "/_transform/"):
		return 200, `{"count":1,"transforms":[{"id":"t","state":"stopped","stats":{"documents_processed":10}}]}`
	case strings.HasPrefix(path, "/_cluster/health"):
		return 200, `{"status":"green","relocating_shards":0}`
	case strings.HasSuffix(path, "/_recovery"):
		return 200, `{"geonames":{"shards":[{"stage":"DONE"}]}}`
	case strings.HasSuffix(path, "/_current"):
		return 200, `{"snapshots":[]}`
	case strings.HasSuffix(path, "/_status") && strings.HasPrefix(path, "/_snapshot/"):
		return 200, `{"snapshots":[{"snapshot":"s","state":"SUCCESS","stats":{"total":{"size_in_bytes":1}}}]}`
	case strings.HasSuffix(path, "/_async_search") || strings.HasPrefix(path, "/_async_search/"):
		return 200, `{"id":"abc","is_running":false,"is_partial":false}`
	}
	return 200, `{}`
}

// reqShape is what is compared of a request.
type reqShape struct {
	method, path string
	query        url.Values
	body         string
}

func requestShape(t *testing.T, r recReq) reqShape {
	t.Helper()
	u, err := url.ParseRequestURI(r.URI)
	if err != nil {
		t.Fatalf("request %s: %v", r, err)
	}
	return reqShape{method: r.Method, path: u.Path, query: u.Query(), body: r.Body}
}

// shapeDiff is one way two requests differ: aspect is "method", "path",
// "body", "query <key>" or "requests" (the sequences differ in length);
// rally and client are the two sides ("" for absent).
type shapeDiff struct {
	aspect, rally, client string
}

func (d shapeDiff) String() string {
	return fmt.Sprintf("%s: rally %q, client %q", d.aspect, d.rally, d.client)
}

// shapeDiffs compares two sequences of requests.
func shapeDiffs(t *testing.T, rally, client []recReq) []shapeDiff {
	t.Helper()
	if len(rally) != len(client) {
		return []shapeDiff{{"requests", requestLines(rally), requestLines(client)}}
	}
	var diffs []shapeDiff
	for i := range rally {
		r, c := requestShape(t, rally[i]), requestShape(t, client[i])
		if r.method != c.method {
			diffs = append(diffs, shapeDiff{"method", r.method, c.method})
		}
		if r.path != c.path {
			diffs = append(diffs, shapeDiff{"path", r.path, c.path})
		}
		keys := map[string]bool{}
		for k := range r.query {
			keys[k] = true
		}
		for k := range c.query {
			keys[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			rv, cv := strings.Join(r.query[k], ","), strings.Join(c.query[k], ",")
			if rv != cv && !sameDuration(rv, cv) {
				diffs = append(diffs, shapeDiff{"query " + k, rv, cv})
			}
		}
		if normJSON(r.body) != normJSON(c.body) {
			diffs = append(diffs, shapeDiff{"body", normJSON(r.body), normJSON(c.body)})
		}
	}
	return diffs
}

func requestLines(reqs []recReq) string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Method+" "+r.URI)
	}
	return strings.Join(out, ", ")
}

// sameDuration reports whether two query values are one duration in the
// engines' time units: the clients write a time.Duration in milliseconds
// ("30000ms") where a track writes "30s".
func sameDuration(a, b string) bool {
	da, okA := engineDuration(a)
	db, okB := engineDuration(b)
	return okA && okB && da == db
}

func engineDuration(s string) (time.Duration, bool) {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"nanos", time.Nanosecond}, {"micros", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second},
		{"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			if v, err := strconv.ParseInt(n, 10, 64); err == nil {
				return time.Duration(v) * u.unit, true
			}
		}
	}
	return 0, false
}

// shapeCase is one operation and the same requests made with each
// client.
type shapeCase struct {
	name, opType, params string
	// es are the requests through go-elasticsearch; nil when its API has
	// no such call, which noES then explains.
	es   []esapi.Request
	noES string
	// os makes the requests through opensearch-go; nil when OpenSearch
	// has no such API, which noOS then explains.
	os   func(ctx context.Context, c *opensearchapi.Client) error
	noOS string
}

// shapeDifference is a way rally's request deliberately differs from the
// one an official client builds, and why.
type shapeDifference struct {
	// name is the shapeCase's; client is "esapi" or "opensearchapi".
	name, client string
	diff         shapeDiff
	why          string
}

// shapeDifferences are all the differences TestRequestShapesMatchOfficialClients
// accepts; every one must still occur.
var shapeDifferences = []shapeDifference{
	{"search with a painless script", "esapi", shapeDiff{"method", "GET", "POST"}, searchWithGET},
	{"search with a painless script", "opensearchapi", shapeDiff{"method", "GET", "POST"}, searchWithGET},
	{"point in time", "esapi", shapeDiff{"method", "GET", "POST"}, searchWithGET},
	{"point in time", "opensearchapi", shapeDiff{"method", "GET", "POST"}, searchWithGET},
	{"field-caps", "esapi", shapeDiff{"method", "GET", "POST"},
		"esrally's field-caps sends GET without a body and POST with one (elasticsearch-py chooses so), as rally does; the Go clients always send POST"},
	{"field-caps", "opensearchapi", shapeDiff{"method", "GET", "POST"},
		"esrally's field-caps sends GET without a body and POST with one (elasticsearch-py chooses so), as rally does; the Go clients always send POST"},
	{"field-caps with an index filter", "opensearchapi", shapeDiff{"body", `{"index_filter":{"range":{"n":{"gte":1}}}}`, ""},
		"opensearch-go v4.8.1 drops the body of a field capabilities request (IndicesFieldCapsReq.GetRequest builds it with nil); " +
			"OpenSearch's specification and the engine take index_filter in the body, and esrally sends it there"},
	{"async search", "esapi", shapeDiff{"query wait_for_completion_timeout", "0", ""},
		"esrally's submit-async-search sends wait_for_completion_timeout=0 unless request-params set it, so every search runs asynchronously; " +
			"esapi cannot say 0: its WaitForCompletionTimeout is a time.Duration whose zero value means unset"},
}

// Why rally differs where several cases differ alike, and why the
// clients cannot make some calls.
const (
	searchWithGET = "esrally's search runners send GET with the body, as rally does; the clients send POST. Both engines take either for _search"

	noOpenSearchML        = "OpenSearch has no /_ml API: its ml-commons plugin has another one, which opensearchapi does not model"
	noOpenSearchTransform = "OpenSearch has no /_transform API: its index-management plugin has another one, which opensearchapi does not model"
	noOpenSearchILM       = "OpenSearch has no ILM: its index-management plugin has index state management, another API"
)

func reader(s string) io.Reader { return strings.NewReader(s) }

// osCalls runs opensearch-go calls one after another, stopping at the
// first error.
func osCalls(calls ...func(ctx context.Context, c *opensearchapi.Client) error) func(ctx context.Context, c *opensearchapi.Client) error {
	return func(ctx context.Context, c *opensearchapi.Client) error {
		for _, call := range calls {
			if err := call(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}
}

func shapeCases() []shapeCase {
	const (
		mlJob       = `{"analysis_config":{"bucket_span":"15m","detectors":[{"function":"count"}]},"data_description":{"time_field":"created"}}`
		transform   = `{"source":{"index":"ops"},"dest":{"index":"ops-pivot"},"pivot":{"group_by":{"c":{"terms":{"field":"c"}}},"aggregations":{"n":{"value_count":{"field":"id"}}}}}`
		setPipeline = `{"description":"d","processors":[{"set":{"field":"tag","value":"set"}}]}`
		enrich      = `{"processors":[{"enrich":{"policy_name":"p","field":"name","target_field":"e"}}]}`
		painless    = `{"query":{"script_score":{"query":{"match_all":{}},"script":{"source":"doc['n'].value * params.f","params":{"f":2}}}}}`
		asyncQuery  = `{"query":{"match_all":{}}}`

		// What rally makes of opsTrack's definitions.
		geonamesBody       = `{"mappings":{"dynamic":"strict"},"settings":{"index.number_of_replicas":0,"index.number_of_shards":5}}`
		otherBody          = `{"settings":{"index.number_of_replicas":0}}`
		legacyTemplate     = `{"index_patterns":["legacy-*"],"settings":{"number_of_shards":1}}`
		composableTemplate = `{"index_patterns":["comp-*"],"template":{"settings":{"index":{"number_of_shards":2}}}}`
		componentTemplate  = `{"template":{"mappings":{"properties":{"f":{"type":"keyword"}}}}}`

		clusterSettings = `{"persistent":{"indices.recovery.max_bytes_per_sec":"41mb"}}`
		repository      = `{"type":"fs","settings":{"location":"r"}}`
		restore         = `{"indices":"geonames","rename_pattern":"(.+)","rename_replacement":"restored-$1"}`
		indexFilter     = `{"range":{"n":{"gte":1}}}`
		pitSearch       = `{"pit":{"id":"pit1","keep_alive":"1m"},"query":{"match_all":{}},"size":10}`
	)
	return []shapeCase{
		// The types the minimal archives cannot serve.
		{name: "esql", opType: "esql", params: `{"query":"FROM ops | LIMIT 1","filter":{"range":{"n":{"gte":1}}}}`,
			es:   []esapi.Request{esapi.EsqlQueryRequest{Body: reader(`{"query":"FROM ops | LIMIT 1","filter":{"range":{"n":{"gte":1}}}}`)}},
			noOS: "OpenSearch has no ES|QL"},
		{name: "sql", opType: "sql", params: `{"body":{"query":"SELECT id FROM ops","fetch_size":10}}`,
			es:   []esapi.Request{esapi.SQLQueryRequest{Body: reader(`{"query":"SELECT id FROM ops","fetch_size":10}`)}},
			noOS: "OpenSearch has no /_sql API: its SQL plugin answers at /_plugins/_sql, which opensearchapi does not model"},
		{name: "create-ml-job", opType: "create-ml-job", params: `{"job-id":"j","body":` + mlJob + `}`,
			es: []esapi.Request{esapi.MLPutJobRequest{JobID: "j", Body: reader(mlJob)}}, noOS: noOpenSearchML},
		{name: "open-ml-job", opType: "open-ml-job", params: `{"job-id":"j"}`,
			es: []esapi.Request{esapi.MLOpenJobRequest{JobID: "j"}}, noOS: noOpenSearchML},
		{name: "close-ml-job", opType: "close-ml-job", params: `{"job-id":"j","force":true,"timeout":"30s"}`,
			es: []esapi.Request{esapi.MLCloseJobRequest{JobID: "j", Force: ptr(true), Timeout: 30 * time.Second}}, noOS: noOpenSearchML},
		{name: "delete-ml-job", opType: "delete-ml-job", params: `{"job-id":"j"}`,
			es: []esapi.Request{esapi.MLDeleteJobRequest{JobID: "j", Force: ptr(false)}}, noOS: noOpenSearchML},
		{name: "create-ml-datafeed", opType: "create-ml-datafeed", params: `{"datafeed-id":"f","body":{"job_id":"j","indices":["ops"]}}`,
			es: []esapi.Request{esapi.MLPutDatafeedRequest{DatafeedID: "f", Body: reader(`{"job_id":"j","indices":["ops"]}`)}}, noOS: noOpenSearchML},
		{name: "start-ml-datafeed", opType: "start-ml-datafeed",
			params: `{"datafeed-id":"f","start":"2024-01-01T00:00:00Z","end":"2024-01-02T00:00:00Z","timeout":"20s"}`,
			es:     []esapi.Request{esapi.MLStartDatafeedRequest{DatafeedID: "f", Start: "2024-01-01T00:00:00Z", End: "2024-01-02T00:00:00Z", Timeout: 20 * time.Second}},
			noOS:   noOpenSearchML},
		{name: "stop-ml-datafeed", opType: "stop-ml-datafeed", params: `{"datafeed-id":"f","force":true,"timeout":"20s"}`,
			es: []esapi.Request{esapi.MLStopDatafeedRequest{DatafeedID: "f", Force: ptr(true), Timeout: 20 * time.Second}}, noOS: noOpenSearchML},
		{name: "delete-ml-datafeed", opType: "delete-ml-datafeed", params: `{"datafeed-id":"f"}`,
			es: []esapi.Request{esapi.MLDeleteDatafeedRequest{DatafeedID: "f", Force: ptr(false)}}, noOS: noOpenSearchML},
		{name: "create-transform", opType: "create-transform", params: `{"transform-id":"t","defer-validation":true,"body":` + transform + `}`,
			es: []esapi.Request{esapi.TransformPutTransformRequest{TransformID: "t", DeferValidation: ptr(true), Body: reader(transform)}}, noOS: noOpenSearchTransform},
		{name: "start-transform", opType: "start-transform", params: `{"transform-id":"t","timeout":"30s"}`,
			es: []esapi.Request{esapi.TransformStartTransformRequest{TransformID: "t", Timeout: 30 * time.Second}}, noOS: noOpenSearchTransform},
		{name: "wait-for-transform", opType: "wait-for-transform", params: `{"transform-id":"t","wait-for-checkpoint":false}`,
			es: []esapi.Request{
				esapi.TransformStopTransformRequest{TransformID: "t", Force: ptr(false), WaitForCheckpoint: ptr(false), WaitForCompletion: ptr(false)},
				esapi.TransformGetTransformStatsRequest{TransformID: "t"},
			}, noOS: noOpenSearchTransform},
		{name: "transform-stats", opType: "transform-stats", params: `{"transform-id":"t"}`,
			es: []esapi.Request{esapi.TransformGetTransformStatsRequest{TransformID: "t"}}, noOS: noOpenSearchTransform},
		{name: "delete-transform", opType: "delete-transform", params: `{"transform-id":"t","force":true}`,
			es: []esapi.Request{esapi.TransformDeleteTransformRequest{TransformID: "t", Force: ptr(true)}}, noOS: noOpenSearchTransform},
		{name: "create-ilm-policy", opType: "create-ilm-policy",
			params: `{"policy-name":"p","body":{"policy":{"phases":{"hot":{"actions":{}}}}},"request-params":{"master_timeout":"30s","timeout":"10s"}}`,
			es: []esapi.Request{esapi.ILMPutLifecycleRequest{Policy: "p", Body: reader(`{"policy":{"phases":{"hot":{"actions":{}}}}}`),
				MasterTimeout: 30 * time.Second, Timeout: 10 * time.Second}},
			noOS: noOpenSearchILM},
		{name: "delete-ilm-policy", opType: "delete-ilm-policy", params: `{"policy-name":"p"}`,
			es: []esapi.Request{esapi.ILMDeleteLifecycleRequest{Policy: "p"}}, noOS: noOpenSearchILM},
		{name: "create-data-stream", opType: "create-data-stream",
			es: []esapi.Request{esapi.IndicesCreateDataStreamRequest{Name: "logs-ds"}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.DataStream.Create(ctx, opensearchapi.DataStreamCreateReq{DataStream: "logs-ds"})
				return err
			}},
		{name: "delete-data-stream", opType: "delete-data-stream",
			es: []esapi.Request{esapi.IndicesExistsRequest{Index: []string{"logs-ds"}}, esapi.IndicesDeleteDataStreamRequest{Name: []string{"logs-ds"}}},
			os: osCalls(
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.Indices.Exists(ctx, opensearchapi.IndicesExistsReq{Indices: []string{"logs-ds"}})
					return err
				},
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.DataStream.Delete(ctx, opensearchapi.DataStreamDeleteReq{DataStream: "logs-ds"})
					return err
				})},
		{name: "put-pipeline with an ingest processor", opType: "put-pipeline",
			params: `{"id":"p","body":` + setPipeline + `,"master-timeout":"30s","timeout":"10s"}`,
			es: []esapi.Request{esapi.IngestPutPipelineRequest{PipelineID: "p", Body: reader(setPipeline),
				MasterTimeout: 30 * time.Second, Timeout: 10 * time.Second}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Ingest.Create(ctx, opensearchapi.IngestCreateReq{PipelineID: "p", Body: reader(setPipeline),
					Params: opensearchapi.IngestCreateParams{MasterTimeout: 30 * time.Second, Timeout: 10 * time.Second}})
				return err
			}},
		{name: "put-pipeline with an enrich processor", opType: "put-pipeline", params: `{"id":"e","body":` + enrich + `}`,
			es: []esapi.Request{esapi.IngestPutPipelineRequest{PipelineID: "e", Body: reader(enrich)}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Ingest.Create(ctx, opensearchapi.IngestCreateReq{PipelineID: "e", Body: reader(enrich)})
				return err
			}},
		{name: "search with a painless script", opType: "search", params: `{"index":"ops","body":` + painless + `}`,
			es: []esapi.Request{esapi.SearchRequest{Index: []string{"ops"}, Body: reader(painless)}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Search(ctx, &opensearchapi.SearchReq{Indices: []string{"ops"}, Body: reader(painless)})
				return err
			}},
		{name: "async search", opType: "composite",
			params: `{"requests":[{"name":"a","operation-type":"submit-async-search","index":"ops","body":` + asyncQuery + `},` +
				`{"operation-type":"get-async-search","retrieve-results-for":["a"]},` +
				`{"operation-type":"delete-async-search","delete-results-for":["a"]}]}`,
			es: []esapi.Request{
				esapi.AsyncSearchSubmitRequest{Index: []string{"ops"}, Body: reader(asyncQuery)},
				esapi.AsyncSearchGetRequest{DocumentID: "abc"},
				esapi.AsyncSearchDeleteRequest{DocumentID: "abc"},
			},
			noOS: "OpenSearch has no /_async_search API: its asynchronous-search plugin has another one, which opensearchapi does not model"},
		{name: "downsample", opType: "downsample", params: `{"source-index":"ops","target-index":"ops-1h","fixed-interval":"1h"}`,
			es:   []esapi.Request{esapi.IndicesDownsampleRequest{Index: "ops", TargetIndex: "ops-1h", Body: reader(`{"fixed_interval":"1h"}`)}},
			noOS: "OpenSearch has no downsample API"},

		// The other types whose API the clients model, with the track's
		// indices and templates (opsTrack).
		{name: "create-index", opType: "create-index", params: `{"settings":{"index.number_of_replicas":0},"request-params":{"wait_for_active_shards":"1"}}`,
			es: []esapi.Request{
				esapi.IndicesCreateRequest{Index: "geonames", WaitForActiveShards: "1", Body: reader(geonamesBody)},
				esapi.IndicesCreateRequest{Index: "other", WaitForActiveShards: "1", Body: reader(otherBody)},
			},
			os: osCalls(
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.Indices.Create(ctx, opensearchapi.IndicesCreateReq{Index: "geonames", Body: reader(geonamesBody),
						Params: opensearchapi.IndicesCreateParams{WaitForActiveShards: "1"}})
					return err
				},
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.Indices.Create(ctx, opensearchapi.IndicesCreateReq{Index: "other", Body: reader(otherBody),
						Params: opensearchapi.IndicesCreateParams{WaitForActiveShards: "1"}})
					return err
				})},
		{name: "delete-index", opType: "delete-index", params: `{"index":"other"}`,
			es: []esapi.Request{esapi.IndicesExistsRequest{Index: []string{"other"}}, esapi.IndicesDeleteRequest{Index: []string{"other"}}},
			os: osCalls(
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.Indices.Exists(ctx, opensearchapi.IndicesExistsReq{Indices: []string{"other"}})
					return err
				},
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.Indices.Delete(ctx, opensearchapi.IndicesDeleteReq{Indices: []string{"other"}})
					return err
				})},
		{name: "create-index-template", opType: "create-index-template",
			es: []esapi.Request{esapi.IndicesPutTemplateRequest{Name: "legacy", Body: reader(legacyTemplate)}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Template.Create(ctx, opensearchapi.TemplateCreateReq{Template: "legacy", Body: reader(legacyTemplate)})
				return err
			}},
		{name: "delete-index-template", opType: "delete-index-template",
			es: []esapi.Request{
				esapi.IndicesExistsTemplateRequest{Name: []string{"legacy"}},
				esapi.IndicesDeleteTemplateRequest{Name: "legacy"},
				esapi.IndicesDeleteRequest{Index: []string{"legacy-*"}},
			},
			os: osCalls(
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.Template.Exists(ctx, opensearchapi.TemplateExistsReq{Template: "legacy"})
					return err
				},
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.Template.Delete(ctx, opensearchapi.TemplateDeleteReq{Template: "legacy"})
					return err
				},
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.Indices.Delete(ctx, opensearchapi.IndicesDeleteReq{Indices: []string{"legacy-*"}})
					return err
				})},
		{name: "create-composable-template", opType: "create-composable-template",
			es: []esapi.Request{esapi.IndicesPutIndexTemplateRequest{Name: "comp", Body: reader(composableTemplate)}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.IndexTemplate.Create(ctx, opensearchapi.IndexTemplateCreateReq{IndexTemplate: "comp", Body: reader(composableTemplate)})
				return err
			}},
		{name: "delete-composable-template", opType: "delete-composable-template",
			es: []esapi.Request{esapi.IndicesExistsIndexTemplateRequest{Name: "comp"}, esapi.IndicesDeleteIndexTemplateRequest{Name: "comp"}},
			os: osCalls(
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.IndexTemplate.Exists(ctx, opensearchapi.IndexTemplateExistsReq{IndexTemplate: "comp"})
					return err
				},
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.IndexTemplate.Delete(ctx, opensearchapi.IndexTemplateDeleteReq{IndexTemplate: "comp"})
					return err
				})},
		{name: "create-component-template", opType: "create-component-template",
			es: []esapi.Request{esapi.ClusterPutComponentTemplateRequest{Name: "part", Body: reader(componentTemplate)}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.ComponentTemplate.Create(ctx, opensearchapi.ComponentTemplateCreateReq{ComponentTemplate: "part", Body: reader(componentTemplate)})
				return err
			}},
		{name: "delete-component-template", opType: "delete-component-template",
			es: []esapi.Request{esapi.ClusterExistsComponentTemplateRequest{Name: "part"}, esapi.ClusterDeleteComponentTemplateRequest{Name: "part"}},
			os: osCalls(
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.ComponentTemplate.Exists(ctx, opensearchapi.ComponentTemplateExistsReq{ComponentTemplate: "part"})
					return err
				},
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.ComponentTemplate.Delete(ctx, opensearchapi.ComponentTemplateDeleteReq{ComponentTemplate: "part"})
					return err
				})},
		{name: "cluster-health", opType: "cluster-health",
			params: `{"index":"geonames","request-params":{"wait_for_status":"green","wait_for_no_relocating_shards":"true"}}`,
			es:     []esapi.Request{esapi.ClusterHealthRequest{Index: []string{"geonames"}, WaitForStatus: "green", WaitForNoRelocatingShards: ptr(true)}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Cluster.Health(ctx, &opensearchapi.ClusterHealthReq{Indices: []string{"geonames"},
					Params: opensearchapi.ClusterHealthParams{WaitForStatus: "green", WaitForNoRelocatingShards: ptr(true)}})
				return err
			}},
		{name: "refresh", opType: "refresh", params: `{"index":"geonames"}`,
			es: []esapi.Request{esapi.IndicesRefreshRequest{Index: []string{"geonames"}}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Indices.Refresh(ctx, &opensearchapi.IndicesRefreshReq{Index: []string{"geonames"}})
				return err
			}},
		{name: "force-merge", opType: "force-merge", params: `{"index":"geonames","max-num-segments":1}`,
			es: []esapi.Request{esapi.IndicesForcemergeRequest{Index: []string{"geonames"}, MaxNumSegments: ptr(1)}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Indices.Forcemerge(ctx, &opensearchapi.IndicesForcemergeReq{Indices: []string{"geonames"},
					Params: opensearchapi.IndicesForcemergeParams{MaxNumSegments: ptr(1)}})
				return err
			}},
		{name: "index-stats", opType: "index-stats", params: `{"index":"geonames"}`,
			es: []esapi.Request{esapi.IndicesStatsRequest{Index: []string{"geonames"}}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Indices.Stats(ctx, &opensearchapi.IndicesStatsReq{Indices: []string{"geonames"}})
				return err
			}},
		{name: "node-stats", opType: "node-stats",
			es: []esapi.Request{esapi.NodesStatsRequest{}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Nodes.Stats(ctx, &opensearchapi.NodesStatsReq{})
				return err
			}},
		{name: "put-settings", opType: "put-settings", params: `{"body":` + clusterSettings + `}`,
			es: []esapi.Request{esapi.ClusterPutSettingsRequest{Body: reader(clusterSettings)}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Cluster.PutSettings(ctx, opensearchapi.ClusterPutSettingsReq{Body: reader(clusterSettings)})
				return err
			}},
		{name: "delete-pipeline", opType: "delete-pipeline", params: `{"id":"p"}`,
			es: []esapi.Request{esapi.IngestDeletePipelineRequest{PipelineID: "p"}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Ingest.Delete(ctx, opensearchapi.IngestDeleteReq{PipelineID: "p"})
				return err
			}},
		{name: "create-snapshot-repository", opType: "create-snapshot-repository",
			params: `{"repository":"r","body":` + repository + `,"request-params":{"verify":"false"}}`,
			es:     []esapi.Request{esapi.SnapshotCreateRepositoryRequest{Repository: "r", Body: reader(repository), Verify: ptr(false)}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Snapshot.Repository.Create(ctx, opensearchapi.SnapshotRepositoryCreateReq{Repo: "r", Body: reader(repository),
					Params: opensearchapi.SnapshotRepositoryCreateParams{Verify: ptr(false)}})
				return err
			}},
		{name: "delete-snapshot-repository", opType: "delete-snapshot-repository", params: `{"repository":"r"}`,
			es: []esapi.Request{esapi.SnapshotDeleteRepositoryRequest{Repository: []string{"r"}}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Snapshot.Repository.Delete(ctx, opensearchapi.SnapshotRepositoryDeleteReq{Repos: []string{"r"}})
				return err
			}},
		{name: "create-snapshot", opType: "create-snapshot", params: `{"repository":"r","snapshot":"s","body":{"indices":"geonames"},"wait-for-completion":true}`,
			es: []esapi.Request{esapi.SnapshotCreateRequest{Repository: "r", Snapshot: "s", Body: reader(`{"indices":"geonames"}`), WaitForCompletion: ptr(true)}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Snapshot.Create(ctx, opensearchapi.SnapshotCreateReq{Repo: "r", Snapshot: "s", Body: reader(`{"indices":"geonames"}`),
					Params: opensearchapi.SnapshotCreateParams{WaitForCompletion: ptr(true)}})
				return err
			}},
		{name: "restore-snapshot", opType: "restore-snapshot", params: `{"repository":"r","snapshot":"s","body":` + restore + `}`,
			es: []esapi.Request{esapi.SnapshotRestoreRequest{Repository: "r", Snapshot: "s", Body: reader(restore), WaitForCompletion: ptr(false)}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Snapshot.Restore(ctx, opensearchapi.SnapshotRestoreReq{Repo: "r", Snapshot: "s", Body: reader(restore),
					Params: opensearchapi.SnapshotRestoreParams{WaitForCompletion: ptr(false)}})
				return err
			}},
		{name: "wait-for-snapshot-create", opType: "wait-for-snapshot-create", params: `{"repository":"r","snapshot":"s"}`,
			es: []esapi.Request{
				esapi.SnapshotGetRequest{Repository: "r", Snapshot: []string{"_current"}, Verbose: ptr(false)},
				esapi.SnapshotStatusRequest{Repository: "r", Snapshot: []string{"s"}, IgnoreUnavailable: ptr(true)},
			},
			os: osCalls(
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.Snapshot.Get(ctx, opensearchapi.SnapshotGetReq{Repo: "r", Snapshots: []string{"_current"},
						Params: opensearchapi.SnapshotGetParams{Verbose: ptr(false)}})
					return err
				},
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.Snapshot.Status(ctx, opensearchapi.SnapshotStatusReq{Repo: "r", Snapshots: []string{"s"},
						Params: opensearchapi.SnapshotStatusParams{IgnoreUnavailable: ptr(true)}})
					return err
				})},
		{name: "field-caps", opType: "field-caps", params: `{"index":"geonames","fields":"name"}`,
			es: []esapi.Request{esapi.FieldCapsRequest{Index: []string{"geonames"}, Fields: []string{"name"}}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Indices.FieldCaps(ctx, opensearchapi.IndicesFieldCapsReq{Indices: []string{"geonames"},
					Params: opensearchapi.IndicesFieldCapsParams{Fields: []string{"name"}}})
				return err
			}},
		{name: "field-caps with an index filter", opType: "field-caps", params: `{"index":"geonames","index_filter":` + indexFilter + `}`,
			es: []esapi.Request{esapi.FieldCapsRequest{Index: []string{"geonames"}, Fields: []string{"*"}, Body: reader(`{"index_filter":` + indexFilter + `}`)}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Indices.FieldCaps(ctx, opensearchapi.IndicesFieldCapsReq{Indices: []string{"geonames"}, Body: reader(`{"index_filter":` + indexFilter + `}`),
					Params: opensearchapi.IndicesFieldCapsParams{Fields: []string{"*"}}})
				return err
			}},
		{name: "wait-for-recovery", opType: "wait-for-recovery", params: `{"index":"geonames"}`,
			es: []esapi.Request{esapi.IndicesRecoveryRequest{Index: []string{"geonames"}}},
			os: func(ctx context.Context, c *opensearchapi.Client) error {
				_, err := c.Indices.Recovery(ctx, &opensearchapi.IndicesRecoveryReq{Indices: []string{"geonames"}})
				return err
			}},
		{name: "point in time", opType: "composite",
			params: `{"requests":[{"name":"p","operation-type":"open-point-in-time","index":"geonames"},` +
				`{"operation-type":"paginated-search","index":"geonames","with-point-in-time-from":"p","pages":1,"results-per-page":10,"body":{"query":{"match_all":{}}}},` +
				`{"operation-type":"close-point-in-time","with-point-in-time-from":"p"}]}`,
			es: []esapi.Request{
				esapi.OpenPointInTimeRequest{Index: []string{"geonames"}, KeepAlive: "1m"},
				esapi.SearchRequest{Body: reader(pitSearch)},
				esapi.ClosePointInTimeRequest{Body: reader(`{"id":"pit1"}`)},
			},
			os: osCalls(
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.PointInTime.Create(ctx, opensearchapi.PointInTimeCreateReq{Indices: []string{"geonames"},
						Params: opensearchapi.PointInTimeCreateParams{KeepAlive: time.Minute}})
					return err
				},
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.Search(ctx, &opensearchapi.SearchReq{Body: reader(pitSearch)})
					return err
				},
				func(ctx context.Context, c *opensearchapi.Client) error {
					_, err := c.PointInTime.Delete(ctx, opensearchapi.PointInTimeDeleteReq{PitID: []string{"pit1"}})
					return err
				})},
	}
}

// TestRequestShapesMatchOfficialClients runs each operation of
// shapeCases against a recording stand-in and makes the same call with
// go-elasticsearch and opensearch-go, then compares what was sent.
func TestRequestShapesMatchOfficialClients(t *testing.T) {
	esRec := &recordingTransport{answer: shapeAnswer(DistributionElasticsearch)}
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{"http://es.invalid:9200"}, Transport: esRec})
	if err != nil {
		t.Fatal(err)
	}
	osRec := &recordingTransport{answer: shapeAnswer(DistributionOpenSearch)}
	osc, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{Addresses: []string{"http://os.invalid:9200"}, Transport: osRec}})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[shapeDifference]bool{}
	names := map[string]bool{}
	ran := map[string]bool{}
	for _, tc := range shapeCases() {
		if names[tc.name] {
			t.Fatalf("two cases are named %q", tc.name)
		}
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			ran[tc.name] = true
			ctx := context.Background()
			compare := func(client string, sent []recReq) {
				distribution := DistributionElasticsearch
				if client == "opensearchapi" {
					distribution = DistributionOpenSearch
				}
				rally := rallyRequests(t, tc, distribution)
				want := map[shapeDiff]string{}
				for _, d := range shapeDifferences {
					if d.name == tc.name && d.client == client {
						want[d.diff] = d.why
					}
				}
				for _, d := range shapeDiffs(t, rally, sent) {
					why, ok := want[d]
					if !ok {
						t.Errorf("%s: rally differs from the client: %s\n  rally:  %s\n  client: %s", client, d, requestLines(rally), requestLines(sent))
						continue
					}
					t.Logf("%s: %s (%s)", client, d, why)
					seen[shapeDifference{tc.name, client, d, why}] = true
				}
			}
			switch {
			case tc.es != nil:
				before := len(esRec.requests())
				for _, req := range tc.es {
					res, err := req.Do(ctx, es)
					if err != nil {
						t.Fatalf("esapi %T: %v", req, err)
					}
					res.Body.Close()
				}
				compare("esapi", esRec.requests()[before:])
			case tc.noES == "":
				t.Errorf("no esapi call and no reason why")
			}
			switch {
			case tc.os != nil:
				before := len(osRec.requests())
				if err := tc.os(ctx, osc); err != nil {
					t.Logf("opensearchapi: %v (after sending)", err)
				}
				compare("opensearchapi", osRec.requests()[before:])
			case tc.noOS == "":
				t.Errorf("no opensearchapi call and no reason why")
			}
		})
	}
	for _, d := range shapeDifferences {
		if !names[d.name] {
			t.Errorf("shapeDifferences names case %q, which does not exist", d.name)
		} else if ran[d.name] && !seen[d] {
			t.Errorf("%s, %s: difference %s no longer occurs: remove it from shapeDifferences", d.name, d.client, d.diff)
		}
	}
}

// rallyRequests runs the case's operation once against a stand-in of
// distribution and returns what it sent, without the GET / by which rally
// asks the node which engine it is (outside the operation's requests, and
// no call of the operation's API).
func rallyRequests(t *testing.T, tc shapeCase, distribution string) []recReq {
	t.Helper()
	srv := newTestES(t, shapeAnswer(distribution))
	r := runTask(t, opsTrack(t), opTask(t, tc.name, tc.opType, tc.params), srv, func(tp *TaskPlan) { tp.OnError = OnErrorAbort })
	if r.err != nil {
		t.Fatalf("rally against %s: %v", distribution, r.err)
	}
	return slices.DeleteFunc(srv.requests(), func(r recReq) bool { return r.Method == "GET" && r.URI == "/" })
}

// TestShapeCasesCoverTheTypesBeyondTheArchives wants a shape case for
// every operation type of the ops-engines track's beyond-the-archives
// challenge (the types real-engine tests can only see refused).
func TestShapeCasesCoverTheTypesBeyondTheArchives(t *testing.T) {
	var tr struct {
		Challenges []struct {
			Name     string `json:"name"`
			Schedule []struct {
				// An operation of the challenge is an object here, not
				// the name of one of the track's operations.
				Operation json.RawMessage `json:"operation"`
			} `json:"schedule"`
		} `json:"challenges"`
	}
	data, err := os.ReadFile("../e2e/testdata/tracks/ops-engines/track.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &tr); err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, tc := range shapeCases() {
		covered[tc.opType] = true
		var p struct {
			Requests []struct {
				Type string `json:"operation-type"`
			} `json:"requests"`
		}
		json.Unmarshal([]byte(tc.params), &p)
		for _, r := range p.Requests {
			covered[r.Type] = true
		}
	}
	found := false
	for _, ch := range tr.Challenges {
		if ch.Name != "beyond-the-archives" {
			continue
		}
		found = true
		for _, st := range ch.Schedule {
			var op struct {
				Type     string `json:"operation-type"`
				Requests []struct {
					Type string `json:"operation-type"`
				} `json:"requests"`
			}
			if err := json.Unmarshal(st.Operation, &op); err != nil || op.Type == "" {
				t.Fatalf("beyond-the-archives: operation %s is no inline operation: %v", st.Operation, err)
			}
			types := []string{op.Type}
			for _, r := range op.Requests {
				types = append(types, r.Type)
			}
			for _, typ := range types {
				if !covered[typ] {
					t.Errorf("operation type %s of beyond-the-archives has no case in shapeCases", typ)
				}
			}
		}
	}
	if !found {
		t.Fatal("the ops-engines track has no challenge beyond-the-archives")
	}
}

// TestShapeDiffsSeeWhatDiffers pins the comparison itself: query order,
// JSON key order and duration units do not count; everything else does.
func TestShapeDiffsSeeWhatDiffers(t *testing.T) {
	req := func(method, uri, body string) []recReq { return []recReq{{Method: method, URI: uri, Body: body}} }
	for _, tc := range []struct {
		name          string
		rally, client []recReq
		want          []shapeDiff
	}{
		{"equal but for order and units", req("PUT", "/_ilm/policy/p?timeout=10s&master_timeout=1m", `{"a":1,"b":[1,2]}`),
			req("PUT", "/_ilm/policy/p?master_timeout=60000ms&timeout=10000ms", `{"b":[1,2],"a":1}`), nil},
		{"method", req("GET", "/x/_search", ""), req("POST", "/x/_search", ""), []shapeDiff{{"method", "GET", "POST"}}},
		{"path", req("GET", "/x", ""), req("GET", "/y", ""), []shapeDiff{{"path", "/x", "/y"}}},
		{"a query parameter on one side", req("GET", "/x?force=false", ""), req("GET", "/x", ""), []shapeDiff{{"query force", "false", ""}}},
		{"another duration", req("GET", "/x?timeout=1s", ""), req("GET", "/x?timeout=1001ms", ""), []shapeDiff{{"query timeout", "1s", "1001ms"}}},
		{"body", req("PUT", "/x", `{"a":1}`), req("PUT", "/x", `{"a":2}`), []shapeDiff{{"body", `{"a":1}`, `{"a":2}`}}},
		{"more requests", append(req("HEAD", "/x", ""), req("DELETE", "/x", "")...), req("DELETE", "/x", ""),
			[]shapeDiff{{"requests", "HEAD /x, DELETE /x", "DELETE /x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := shapeDiffs(t, tc.rally, tc.client); !slices.Equal(got, tc.want) {
				t.Fatalf("shapeDiffs = %v, want %v", got, tc.want)
			}
		})
	}
}
