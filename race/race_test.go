package race

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"rally/actor"
	"rally/estarget"
	"rally/report"
	"rally/track"
)

// startTarget serves estarget's canned mode with faults f on a free
// loopback port until the test ends: the races here need requests answered
// and documents counted, not an engine's search results.
func startTarget(t *testing.T, f estarget.Faults) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv := estarget.New(estarget.Options{})
	if err := srv.SetFaults(f); err != nil {
		t.Fatal(err)
	}
	sv, err := estarget.Listen(ctx, "127.0.0.1:0", srv)
	if err != nil {
		t.Fatal(err)
	}
	return sv.Addr().String()
}

func runRace(t *testing.T, req Request) *report.Race {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	local, err := StartLocal(ctx, "test", actor.HostFacts{}, MemberConfig{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	plan, err := Check(req)
	if err != nil {
		t.Fatal(err)
	}
	var last Progress
	c := NewConductor(Config{System: local.System, Store: report.Store{Dir: t.TempDir()},
		Progress: func(p Progress) { last = p }})
	r, err := c.Run(ctx, plan, []string{LocalMember})
	if err != nil {
		t.Fatalf("race: %v", err)
	}
	if last.State != StateCompleted || !strings.Contains(last.Report, "Min Throughput") {
		t.Errorf("final progress: state %q, report:\n%s", last.State, last.Report)
	}
	return r
}

func task(r *report.Race, name string) (found bool, requests int64, errs int64) {
	for _, ts := range r.Summary.Tasks {
		if ts.Task == name {
			return true, ts.Requests, ts.Errors
		}
	}
	return false, 0, 0
}

// TestTinyTrackEndToEnd runs the sample track through the coordinator
// side, the actor protocol and an in-process member against the test
// target, and checks what the target counted.
func TestTinyTrackEndToEnd(t *testing.T) {
	addr := startTarget(t, estarget.Faults{})
	r := runRace(t, Request{TrackPath: "../examples/tracks/tiny", TargetHosts: addr,
		TrackParams: map[string]any{"search_target_throughput": 200}})
	if r.Status != report.StatusCompleted || r.Distribution != "elasticsearch" {
		t.Fatalf("race: status %s (%s), distribution %s", r.Status, r.Error, r.Distribution)
	}
	ok, n, errs := task(r, "index-append")
	if !ok || errs != 0 {
		t.Fatalf("index-append: found %v, %d requests, %d errors; tasks %+v", ok, n, errs, r.Summary.Tasks)
	}
	if !r.Summary.Cluster.Available || r.Summary.Cluster.DocCount != 2000 {
		t.Errorf("cluster figures: %+v (want 2000 documents stored)", r.Summary.Cluster)
	}
	// estarget counts young collections as it serves requests: the race's
	// difference is positive, its lifetime before the race left out.
	if gc := r.Summary.Cluster.GCFigures; !gc.GCAvailable || gc.YoungGCCount <= 0 || gc.YoungGCTime <= 0 || gc.OldGCCount != 0 {
		t.Errorf("gc figures: %+v (want young collections during the race, no old ones)", gc)
	}
	// One node: its GC is the cluster's, its CPU time was read at both
	// ends; the test target reports no disk figures, so none are shown.
	if len(r.Nodes) != 1 {
		t.Fatalf("nodes %+v, want the target's one node", r.Nodes)
	}
	if n := r.Nodes[0]; n.Name == "" || n.Version == "" || n.GCFigures != r.Summary.Cluster.GCFigures ||
		n.CPUTime == nil || n.CPUPercent == nil || n.Duration <= 0 || n.HeapMaxBytes == nil || n.DiskWriteBytes != nil {
		t.Errorf("node telemetry %+v", n)
	}
	var sb strings.Builder
	if err := report.WriteSummary(&sb, r, report.Text); err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{"Total Young Gen GC time", "Total Young Gen GC count", "Total Old Gen GC time", "Total Old Gen GC count"} {
		if !strings.Contains(sb.String(), row) {
			t.Errorf("summary has no %q row:\n%s", row, sb.String())
		}
	}
	sb.Reset()
	if err := report.WriteSummary(&sb, r, report.CSV); err != nil {
		t.Fatal(err)
	}
	for _, metric := range []string{"Young Gen GC time", "CPU time", "Average CPU usage", "Max heap"} {
		if row := "\n" + metric + "," + r.Nodes[0].Name + ","; !strings.Contains(sb.String(), row) {
			t.Errorf("summary has no %q row of node %s:\n%s", metric, r.Nodes[0].Name, sb.String())
		}
	}
}

// TestSpreadRoundRobin: clients spread over members, the rotation running
// on across a parallel block's tasks.
func TestSpreadRoundRobin(t *testing.T) {
	step := track.Step{Parallel: true, Tasks: []track.Task{{Name: "a", Clients: 3}, {Name: "b", Clients: 2}}}
	got := spread(step, []string{"h1", "h2"})
	want := map[string][]TaskShare{
		"h1": {{Task: 0, ClientIndexes: []int{0, 2}}, {Task: 1, ClientIndexes: []int{1}}},
		"h2": {{Task: 0, ClientIndexes: []int{1}}, {Task: 1, ClientIndexes: []int{0}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spread = %+v, want %+v", got, want)
	}
}

// TestClientLimits: a block's "clients" splits over the members that run
// its clients, in proportion and at least one each.
func TestClientLimits(t *testing.T) {
	for _, tc := range []struct {
		name    string
		limit   int
		members []string
		want    map[string]int
	}{
		{"no limit", 0, []string{"h1", "h2"}, nil},
		{"limit above the clients", 9, []string{"h1", "h2"}, nil},
		{"even split", 2, []string{"h1", "h2"}, map[string]int{"h1": 1, "h2": 1}},
		{"remainder goes first", 3, []string{"h1", "h2"}, map[string]int{"h1": 2, "h2": 1}},
		{"at least one each", 1, []string{"h1", "h2", "h3"}, map[string]int{"h1": 1, "h2": 1, "h3": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step := track.Step{Parallel: true, Clients: tc.limit,
				Tasks: []track.Task{{Name: "a", Clients: 1}, {Name: "b", Clients: 1}, {Name: "c", Clients: 1}, {Name: "d", Clients: 1}}}
			got := clientLimits(step, spread(step, tc.members), tc.members)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("limits %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCorpusDownloadReportsProgress: a corpus that is neither in the track
// directory nor in the data directory is downloaded from its base-url by
// the member, which reports its progress to the coordinator.
func TestCorpusDownloadReportsProgress(t *testing.T) {
	var docs bytes.Buffer
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&docs, "{\"n\":%d,\"text\":\"document %d\"}\n", i, i)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(docs.Bytes())
	zw.Close()
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/corpus/documents.json.gz" {
			http.NotFound(w, r)
			return
		}
		w.Write(gz.Bytes())
	}))
	defer files.Close()
	dir := t.TempDir()
	trackJSON := fmt.Sprintf(`{"version": 2, "indices": [{"name": "dl"}],
  "corpora": [{"name": "dl", "base-url": %q, "documents": [
    {"source-file": "documents.json.gz", "document-count": 100, "compressed-bytes": %d, "uncompressed-bytes": %d}]}],
  "schedule": [
    {"operation": {"operation-type": "create-index"}},
    {"operation": {"name": "load", "operation-type": "bulk", "bulk-size": 50}},
    {"operation": {"operation-type": "refresh"}}]}`, files.URL+"/corpus", gz.Len(), docs.Len())
	if err := os.WriteFile(filepath.Join(dir, "track.json"), []byte(trackJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := startTarget(t, estarget.Faults{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	local, err := StartLocal(ctx, "test", actor.HostFacts{}, MemberConfig{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	plan, err := Check(Request{TrackPath: dir, TargetHosts: addr})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	c := NewConductor(Config{System: local.System, Store: report.Store{Dir: t.TempDir()}, Progress: func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		for h, line := range p.Preparing {
			seen = append(seen, h+": "+line)
		}
	}})
	r, err := c.Run(ctx, plan, []string{LocalMember})
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Cluster.DocCount != 100 {
		t.Errorf("documents stored: %d, want 100", r.Summary.Cluster.DocCount)
	}
	mu.Lock()
	defer mu.Unlock()
	joined := strings.Join(seen, "\n")
	if !strings.Contains(joined, "local: download documents.json.gz done") || !strings.Contains(joined, "decompress") {
		t.Errorf("preparation progress not reported:\n%s", joined)
	}
}

// TestUnreachableTargetEndsTheRaceForItsFollowers: a race whose target does
// not answer ends with a failed final progress, so a client following the
// race by its events is never left waiting.
func TestUnreachableTargetEndsTheRaceForItsFollowers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	local, err := StartLocal(ctx, "test", actor.HostFacts{}, MemberConfig{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	plan, err := Check(Request{TrackPath: "../examples/tracks/tiny", TargetHosts: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	var last Progress
	c := NewConductor(Config{System: local.System, Store: report.Store{Dir: t.TempDir()},
		Progress: func(p Progress) { last = p }})
	if _, err := c.Run(ctx, plan, []string{LocalMember}); err == nil {
		t.Fatal("a race against a closed port must fail")
	}
	if last.State != StateFailed || !strings.Contains(last.Error, "127.0.0.1:1") || last.ID != plan.ID {
		t.Errorf("final progress %+v", last)
	}
	if c.current("") != nil || c.Current() != nil {
		t.Error("no race may be current after the end, nor for an empty id")
	}
}
