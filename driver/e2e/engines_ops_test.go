package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"rally/driver"
	"rally/metrics"
	"rally/provision/enginetest"
	"rally/track"
)

// opsTrack is the track with every operation type, one challenge per
// family (e2e/testdata/tracks/ops-engines).
var opsTrack = filepath.Join("..", "..", "e2e", "testdata", "tracks", "ops-engines")

// opsEngine is a real engine the operation types are proven on, and what
// its integ-test archive cannot serve.
type opsEngine struct {
	name, version, archive string
	// unserved are the challenges that end in a task's failure on this
	// engine, with what the failure must say.
	unserved map[string]refusal
	// ignoredRefusals are the tasks of beyond-the-archives this engine
	// refuses with HTTP 404, which their type ignores (a deletion of what
	// is not there, as in esrally): they complete and nobody is told.
	ignoredRefusals []string
}

// refusal is the failure a task must end in: answer holds the words its
// error must contain (the engine's answer, or what the driver makes of it:
// for a missing capability, notAvailable's words).
type refusal struct {
	task, answer string
}

// notAvailable are the words the driver's error says when engine e lacks a
// capability ("ES|QL is", "transforms are"): the capability, the engine
// and its version.
func notAvailable(capability string, e opsEngine) string {
	title := map[string]string{"elasticsearch": "Elasticsearch", "opensearch": "OpenSearch"}[e.name]
	return capability + " not available on " + title + " " + e.version
}

// beyondTheArchives is the capability each task of beyond-the-archives
// needs and the integ-test archives lack, as the driver names it.
var beyondTheArchives = map[string]string{
	"esql-query":         "ES|QL is",
	"sql-query":          "SQL is",
	"ml-job":             "machine learning is",
	"ml-job-open":        "machine learning is",
	"ml-job-close":       "machine learning is",
	"ml-job-delete":      "machine learning is",
	"ml-datafeed":        "machine learning is",
	"ml-datafeed-start":  "machine learning is",
	"ml-datafeed-stop":   "machine learning is",
	"ml-datafeed-delete": "machine learning is",
	"transform":          "transforms are",
	"transform-start":    "transforms are",
	"transform-wait":     "transforms are",
	"transform-stats":    "transforms are",
	"transform-delete":   "transforms are",
	"ilm-policy":         "index lifecycle management is",
	"ilm-policy-delete":  "index lifecycle management is",
	"async-search":       "async search is",
	"downsample-index":   "downsampling is",
	"ingest-processor":   "ingest processor [set] is",
	"enrich-processor":   "enrich is",
	"painless-script":    "painless scripts are",
}

// opsEngines are the engines every challenge runs on, each on the JDK
// provision chooses for it (provision/enginetest: JDK 17 for OpenSearch 2
// and Elasticsearch 7 and 8, Temurin 25 for OpenSearch 3 and
// Elasticsearch 9). Each runs the whole suite, no subset: measured on this
// project's 2-core machine while other test runs loaded it (load average
// 7 to 29), node start (30 to 55 s) included, Elasticsearch 8.17.0 and
// 9.2.0 took about 80 s each and OpenSearch 3.0.0 63 to 71 s, so the three
// add about 4 minutes to the driver/e2e package. One engine alone:
// go test ./driver/e2e/ -run TestOperationTypesOnRealEngines/opensearch-3.0.0
var opsEngines = []opsEngine{
	{
		name: "opensearch", version: "2.19.1",
		archive: "org/opensearch/distribution/integ-test-zip/opensearch/2.19.1/opensearch-2.19.1.zip",
		unserved: map[string]refusal{
			// OpenSearch's snapshot list has no "total", which esrally's
			// runner reads as well (it fails there with a TypeError).
			"current-snapshots": {"wait-for-current-snapshots-create", "the answer has no total"},
		},
	},
	{
		name: "elasticsearch", version: "7.17.28",
		archive: "org/elasticsearch/distribution/integ-test-zip/elasticsearch/7.17.28/elasticsearch-7.17.28.zip",
		unserved: map[string]refusal{
			// Elasticsearch 7's data streams live in x-pack, which the
			// integ-test archive leaves out: the template of one fails
			// already ("[index_template] unknown field [data_stream]").
			"data-streams": {"create-composable-template", "data streams are not available on Elasticsearch 7.17.28"},
		},
		// DELETE /_ilm/policy/ops-policy reads as the deletion of document
		// ops-policy of type policy in index _ilm: HTTP 404.
		ignoredRefusals: []string{"ilm-policy-delete"},
	},
	{
		name: "elasticsearch", version: "8.17.0",
		archive: "org/elasticsearch/distribution/integ-test-zip/elasticsearch/8.17.0/elasticsearch-8.17.0.zip",
		unserved: map[string]refusal{
			// The data-streams module is not in the integ-test archive:
			// the template of a data stream is taken, but PUT
			// /_data_stream/{name} is not routed (HTTP 405, only POST is).
			"data-streams": {"create-data-stream", "data streams are not available on Elasticsearch 8.17.0"},
		},
	},
	{
		name: "elasticsearch", version: "9.2.0",
		archive: "org/elasticsearch/distribution/integ-test-zip/elasticsearch/9.2.0/elasticsearch-9.2.0.zip",
		unserved: map[string]refusal{
			// As in 8.17.0, without the data-streams module: HTTP 400, no
			// handler found for PUT /_data_stream/{name}.
			"data-streams": {"create-data-stream", "data streams are not available on Elasticsearch 9.2.0"},
		},
	},
	{
		name: "opensearch", version: "3.0.0",
		archive: "org/opensearch/distribution/integ-test-zip/opensearch/3.0.0/opensearch-3.0.0.zip",
		unserved: map[string]refusal{
			// As 2.19.1: the snapshot list has no "total".
			"current-snapshots": {"wait-for-current-snapshots-create", "the answer has no total"},
		},
	},
}

// TestOperationTypesOnRealEngines runs every challenge of the ops-engines
// track in test mode against a real node of each engine (one node per
// engine, reused by every challenge) and then asks the node whether the
// operations did what they say: documents counted, settings and mappings
// in place, templates and pipelines gone after their deletion, snapshots
// restored, search stats per group. The types the integ-test archives
// cannot serve run one at a time and must fail with the engine's refusal,
// named by task and HTTP status. The subtests are one sequence on one
// node: a challenge may use what the one before left (point-in-time reads
// the search challenge's index, current-snapshots the snapshots
// challenge's repository). Every engine of opsEngines runs every
// challenge; none runs a subset.
func TestOperationTypesOnRealEngines(t *testing.T) {
	for _, e := range opsEngines {
		t.Run(e.name+"-"+e.version, func(t *testing.T) {
			n := startOpsNode(t, e)
			t.Run("index-management", func(t *testing.T) {
				runOpsChallenge(t, n, "index-management")
				n.wantCount(t, "ops-shrunk", 1000)
				n.wantSetting(t, "ops-shrunk", "index.number_of_shards", "1")
				n.wantSetting(t, "ops", "index.blocks.write", "true")
				// force-merge left one segment in each of the two shards.
				n.wantValue(t, "/ops/_stats/segments", "_all.primaries.segments.count", 2.0)
				// The composable template (shards from its component, the
				// mapping its own) shaped ops-composed-1, whose document
				// went through the pipeline (an unknown one is refused).
				n.wantSetting(t, "ops-composed-1", "index.number_of_shards", "2")
				n.wantValue(t, "/ops-composed-1/_mapping", "ops-composed-1.mappings.properties.tag.type", "keyword")
				n.wantValue(t, "/ops-composed-1/_doc/1", "_source.tag", "composed")
				n.wantSetting(t, "ops-legacy-kept", "index.number_of_shards", "3")
				n.wantValue(t, "/_cluster/settings?flat_settings=true", `persistent.indices\.recovery\.max_bytes_per_sec`, "41mb")
				for _, gone := range []string{"/ops-legacy-deleted", "/_ingest/pipeline/ops-pipeline", "/_index_template/ops-composable",
					"/_component_template/ops-component", "/_template/ops-legacy"} {
					n.wantStatus(t, gone, 404)
				}
			})
			t.Run("search", func(t *testing.T) {
				runOpsChallenge(t, n, "search")
				n.wantCount(t, "ops", 1000)
				stats := "/ops/_stats/search?groups=plain,scroll,paginated,composite-agg,composite"
				groups := "_all.primaries.search.groups."
				// Each search is a query on each of the two shards: one plain
				// search, three pages of the scroll and of the search_after
				// walk, and for five categories two a page, three pages and
				// the empty one.
				n.wantAtLeast(t, stats, groups+"plain.query_total", 2)
				n.wantAtLeast(t, stats, groups+"scroll.query_total", 6)
				n.wantAtLeast(t, stats, groups+"scroll.fetch_total", 6)
				n.wantAtLeast(t, stats, groups+"paginated.query_total", 6)
				n.wantAtLeast(t, stats, groups+"composite-agg.query_total", 8)
				n.wantAtLeast(t, stats, groups+"composite.query_total", 2)
				// The scroll was cleared at its end.
				n.wantValue(t, "/ops/_stats/search", "_all.primaries.search.open_contexts", 0.0)
			})
			t.Run("point-in-time", func(t *testing.T) {
				if n.unserved(t, "point-in-time") {
					return
				}
				runOpsChallenge(t, n, "point-in-time")
				// One search and two pages, on each of the two shards.
				n.wantAtLeast(t, "/ops/_stats/search?groups=pit", "_all.primaries.search.groups.pit.query_total", 6)
				n.wantValue(t, "/ops/_stats/search", "_all.primaries.search.open_contexts", 0.0)
			})
			t.Run("snapshots", func(t *testing.T) {
				runOpsChallenge(t, n, "snapshots")
				n.wantCount(t, "ops-restored", 1000)
				n.wantValue(t, "/_snapshot/ops-repo/ops-1", "snapshots.0.state", "SUCCESS")
				n.wantValue(t, "/_snapshot/ops-repo/ops-2", "snapshots.0.state", "SUCCESS")
				n.wantStatus(t, "/_snapshot/ops-repo-gone", 404)
				if files, _ := filepath.Glob(filepath.Join(n.repoDir, "ops-repo", "index-*")); len(files) == 0 {
					t.Errorf("no repository index file in %s", filepath.Join(n.repoDir, "ops-repo"))
				}
			})
			t.Run("current-snapshots", func(t *testing.T) {
				if !n.unserved(t, "current-snapshots") {
					runOpsChallenge(t, n, "current-snapshots")
				}
				// Done by now, or soon: the cluster challenge deletes the
				// index the snapshot reads.
				n.waitFor(t, "/_snapshot/ops-repo/ops-3", "snapshots.0.state", "SUCCESS")
			})
			t.Run("cluster", func(t *testing.T) {
				runOpsChallenge(t, n, "cluster")
				// run-until saw the bulk's 1000, then a raw request added one.
				n.wantCount(t, "ops", 1001)
				n.wantValue(t, "/ops/_doc/extra", "_source.name", "extra kettle")
			})
			t.Run("data-streams", func(t *testing.T) {
				if n.unserved(t, "data-streams") {
					return
				}
				runOpsChallenge(t, n, "data-streams")
				n.wantValue(t, "/_data_stream/ops-stream-kept", "data_streams.0.name", "ops-stream-kept")
				n.wantCount(t, "ops-stream-kept", 1)
				n.wantStatus(t, "/_data_stream/ops-stream-deleted", 404)
			})
			t.Run("beyond-the-archives", func(t *testing.T) {
				tr := loadOpsTrack(t, n)
				for _, st := range challengeOf(t, tr, "beyond-the-archives").Schedule {
					task := st.Tasks[0].Name
					if slices.Contains(e.ignoredRefusals, task) {
						res, _, err := raceOps(t, n, "beyond-the-archives", task)
						if err != nil || res.Tasks[0].Status != driver.StatusCompleted {
							t.Errorf("task %s: %v %+v; want it completed, the engine's 404 ignored", task, err, res.Tasks)
						}
						continue
					}
					capability, ok := beyondTheArchives[task]
					if !ok {
						t.Errorf("task %s of beyond-the-archives: no capability named for it in beyondTheArchives", task)
						continue
					}
					wantRefusal(t, n, "beyond-the-archives", refusal{task, notAvailable(capability, e)}, task)
				}
			})
		})
	}
}

// TestOpsTrackRunsEveryOperationType checks that the ops-engines track
// names every operation type the driver has, so that a new type cannot
// slip past the real-engine test.
func TestOpsTrackRunsEveryOperationType(t *testing.T) {
	tr, err := track.Load(track.LoadOptions{Path: opsTrack, TestMode: true, Now: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ch := range tr.Challenges {
		for _, st := range ch.Schedule {
			for _, task := range st.Tasks {
				seen[task.Operation.Type] = true
				if reqs, ok := task.Operation.Params["requests"].([]any); ok {
					for _, r := range reqs {
						if m, ok := r.(map[string]any); ok {
							seen[fmt.Sprint(m["operation-type"])] = true
						}
					}
				}
			}
		}
	}
	for _, typ := range driver.OperationTypes() {
		if why, ok := unreachableTypes[typ]; ok {
			if track.IsBuiltinOperationType(typ) {
				t.Errorf("operation type %s is built in now (was: %s): give it a task in the ops-engines track", typ, why)
			}
			continue
		}
		if !seen[typ] {
			t.Errorf("operation type %s: no task of the ops-engines track runs it", typ)
		}
	}
}

// unreachableTypes are the driver's types no track can name: the track
// loader takes them for custom runners (they are not esrally's).
var unreachableTypes = map[string]string{
	"delete-pipeline": "not in esrally's operation types, so track.BuiltinOperationTypes leaves it out",
}

// opsNode is a running node of an engine and what the tests need of it.
type opsNode struct {
	engine  opsEngine
	target  driver.Target
	client  driver.Client
	repoDir string
	// trackDir is a copy of the track (the driver writes offset tables
	// beside its documents file); dataDir is Rally's benchmarks/data.
	trackDir, dataDir string
}

// startOpsNode starts one node of e with path.repo pointing at a directory
// the node user can write, and stops it when the test ends.
func startOpsNode(t *testing.T, e opsEngine) *opsNode {
	t.Helper()
	archive := enginetest.Archive(t, e.name, e.version)
	// The node user must write the snapshot repository.
	repoDir := enginetest.Dir(t, "rally-e2e-ops-repo-", 0o777)
	cl, _ := enginetest.Start(t, archive, enginetest.Options{Name: "rally-ops-" + e.name + "-" + e.version, Car: "defaults,lean-watermarks",
		CarParams: map[string]any{"additional_cluster_settings": map[string]any{"path.repo": repoDir}}})
	target := driver.Target{Scheme: "http", Host: cl.TargetHosts()}
	client, err := driver.NewClient("", target, driver.DefaultClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := client.(interface{ Close() }); ok {
		t.Cleanup(c.Close)
	}
	trackDir := filepath.Join(t.TempDir(), "ops-engines")
	if err := os.CopyFS(trackDir, os.DirFS(opsTrack)); err != nil {
		t.Fatal(err)
	}
	return &opsNode{engine: e, target: target, client: client, repoDir: repoDir, trackDir: trackDir, dataDir: t.TempDir()}
}

// loadOpsTrack loads the node's copy of the track in test mode.
func loadOpsTrack(t *testing.T, n *opsNode) *track.Track {
	t.Helper()
	tr, err := track.Load(track.LoadOptions{Path: n.trackDir, TestMode: true, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func challengeOf(t *testing.T, tr *track.Track, name string) *track.Challenge {
	t.Helper()
	for i := range tr.Challenges {
		if tr.Challenges[i].Name == name {
			return &tr.Challenges[i]
		}
	}
	t.Fatalf("track %s has no challenge %s", tr.Name, name)
	return nil
}

// raceOps runs the challenge's tasks named by only (all when empty) against
// the node, as `rally race --test-mode` does, stopping at the first error.
func raceOps(t *testing.T, n *opsNode, challenge string, only ...string) (driver.Result, metrics.Summary, error) {
	t.Helper()
	tr := loadOpsTrack(t, n)
	ch := challengeOf(t, tr, challenge)
	if len(only) > 0 {
		ch.Schedule = slices.DeleteFunc(ch.Schedule, func(st track.Step) bool { return !slices.Contains(only, st.Tasks[0].Name) })
	}
	epoch := time.Now()
	agg := metrics.NewAggregator(epoch)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := driver.Run(ctx, driver.Plan{
		Track: tr, Challenge: ch, Targets: []driver.Target{n.target},
		OnError: driver.OnErrorAbort, TestMode: true, DataDir: n.dataDir, Epoch: epoch,
	}, func(d *metrics.Delta) { agg.Add(d) })
	for _, r := range res.Tasks {
		t.Logf("%-28s %-26s %-9s %3d requests %2d errors %s", r.Info.Task, r.Info.OpType, r.Status, r.Requests, r.Errors, r.Error)
	}
	return res, agg.Summary(res.TaskInfos()), err
}

// runOpsChallenge runs a whole challenge and fails unless every task
// completed with requests and without an error.
func runOpsChallenge(t *testing.T, n *opsNode, challenge string) {
	t.Helper()
	res, sum, err := raceOps(t, n, challenge)
	if err != nil {
		t.Fatalf("%s %s, challenge %s: %v", n.engine.name, n.engine.version, challenge, err)
	}
	for _, r := range res.Tasks {
		if r.Status != driver.StatusCompleted || r.Requests == 0 || r.Errors != 0 {
			t.Errorf("task %s (%s): %s, %d requests, %d errors %s", r.Info.Task, r.Info.OpType, r.Status, r.Requests, r.Errors, r.Error)
		}
	}
	for _, ts := range sum.Tasks {
		if ts.Errors != 0 {
			t.Errorf("task %s: summary counts %d errors %v", ts.Task, ts.Errors, ts.ErrorsByType)
		}
	}
}

// unserved runs the challenge when this engine cannot serve it, wants it
// to fail as the engine's unserved table says, and tells whether it did.
func (n *opsNode) unserved(t *testing.T, challenge string) bool {
	t.Helper()
	r, ok := n.engine.unserved[challenge]
	if ok {
		wantRefusal(t, n, challenge, r)
	}
	return ok
}

// wantRefusal runs the challenge (its tasks named by only, when given) and
// wants it to fail at task r.task with r.answer: the error names the task
// and the engine's answer, and so does the task's result.
func wantRefusal(t *testing.T, n *opsNode, challenge string, r refusal, only ...string) {
	t.Helper()
	res, _, err := raceOps(t, n, challenge, only...)
	if err == nil {
		t.Errorf("task %s ran on %s %s; want it to fail with %q", r.task, n.engine.name, n.engine.version, r.answer)
		return
	}
	msg := err.Error()
	if !strings.Contains(msg, `task "`+r.task+`"`) || !strings.Contains(msg, r.answer) {
		t.Errorf("error %q, want task %q and %q named", msg, r.task, r.answer)
	}
	// A missing capability is named with the engine's own answer kept.
	if strings.Contains(r.answer, " not available on ") && !strings.Contains(msg, "(the engine answered ") {
		t.Errorf("error %q names no answer of the engine", msg)
	}
	var failed bool
	for _, tr := range res.Tasks {
		if tr.Info.Task == r.task {
			failed = tr.Status != driver.StatusCompleted && strings.Contains(tr.Error, r.answer)
		}
	}
	if !failed {
		t.Errorf("task %s: results %+v, want it failed with %q", r.task, res.Tasks, r.answer)
	}
	t.Logf("%s %s: %s", n.engine.name, n.engine.version, msg)
}

// query sends one request to the node and decodes its JSON answer.
func (n *opsNode) query(t *testing.T, method, path, body string) map[string]any {
	t.Helper()
	status, got := n.do(t, method, path, body)
	if status != 200 {
		t.Fatalf("%s %s: HTTP %d: %.300s", method, path, status, got)
	}
	var m map[string]any
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatalf("%s %s: %v: %.300s", method, path, err, got)
	}
	return m
}

func (n *opsNode) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	// One context for every check: FastClient breaks the connection of a
	// request in flight when the context of the request before it ends.
	req := driver.Request{Method: method, Path: path, Timeout: 30 * time.Second}
	if body != "" {
		req.Body = []byte(body)
	}
	var resp driver.Response
	if err := n.client.Do(context.Background(), &req, &resp); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.Status, slices.Clone(resp.Body)
}

func (n *opsNode) wantStatus(t *testing.T, path string, want int) {
	t.Helper()
	if status, body := n.do(t, "GET", path, ""); status != want {
		t.Errorf("GET %s: HTTP %d, want %d: %.300s", path, status, want, body)
	}
}

func (n *opsNode) wantValue(t *testing.T, path, key string, want any) {
	t.Helper()
	if got := lookup(n.query(t, "GET", path, ""), key); got != want {
		t.Errorf("GET %s: %s is %v (%T), want %v", path, key, got, got, want)
	}
}

// waitFor polls path until key has the value want, for at most a minute.
func (n *opsNode) waitFor(t *testing.T, path, key string, want any) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got := lookup(n.query(t, "GET", path, ""), key)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %s is %v after a minute, want %v", path, key, got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (n *opsNode) wantAtLeast(t *testing.T, path, key string, least float64) {
	t.Helper()
	got, _ := lookup(n.query(t, "GET", path, ""), key).(float64)
	if got < least {
		t.Errorf("GET %s: %s is %v, want at least %v", path, key, got, least)
	}
}

func (n *opsNode) wantCount(t *testing.T, index string, want float64) {
	t.Helper()
	n.wantValue(t, "/"+index+"/_count", "count", want)
}

func (n *opsNode) wantSetting(t *testing.T, index, key, want string) {
	t.Helper()
	n.wantValue(t, "/"+index+"/_settings?flat_settings=true", index+".settings."+strings.ReplaceAll(key, ".", "\\."), want)
}

// lookup walks a decoded JSON answer along a dotted key ("\." is a dot
// inside a key; a number indexes an array).
func lookup(v any, key string) any {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(key); i++ {
		switch {
		case key[i] == '\\' && i+1 < len(key) && key[i+1] == '.':
			cur.WriteByte('.')
			i++
		case key[i] == '.':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(key[i])
		}
	}
	parts = append(parts, cur.String())
	for _, p := range parts {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			var i int
			if _, err := fmt.Sscan(p, &i); err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}
