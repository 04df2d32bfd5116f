package race

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"rally/estarget"
	"rally/report"
	"rally/track"
)

func filterOf(t *testing.T, spec string, exclude bool) track.TaskFilter {
	t.Helper()
	f, err := track.ParseTaskFilter(spec, exclude)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func summaryTasks(r *report.Race) []string {
	var names []string
	for _, ts := range r.Summary.Tasks {
		names = append(names, ts.Task)
	}
	return names
}

// TestRaceWithTaskFilter: --exclude-tasks type:search indexes the tiny
// track without searching it; --include-tasks type:search then runs only
// the search, on two members, which must filter the schedule exactly as
// the coordinator did (a step's index means the same step on both sides).
func TestRaceWithTaskFilter(t *testing.T) {
	addr := startTarget(t, estarget.Faults{})
	const tiny = "../examples/tracks/tiny"

	indexed := runRace(t, Request{TrackPath: tiny, TargetHosts: addr, TaskFilter: filterOf(t, "type:search", true)})
	if indexed.Status != report.StatusCompleted || indexed.Summary.Cluster.DocCount != 2000 {
		t.Fatalf("indexing race: status %s (%s), %d documents", indexed.Status, indexed.Error, indexed.Summary.Cluster.DocCount)
	}
	if ok, _, _ := task(indexed, "search-kitchen"); ok {
		t.Errorf("the excluded search ran: tasks %v", summaryTasks(indexed))
	}
	if ok, n, errs := task(indexed, "index-append"); !ok || n == 0 || errs != 0 {
		t.Errorf("index-append: found %v, %d requests, %d errors", ok, n, errs)
	}

	searched, err, _ := raceOn(t, Request{TrackPath: tiny, TargetHosts: addr, TaskFilter: filterOf(t, "type:search", false)}, []string{"h1", "h2"}, nil)
	if err != nil || searched.Status != report.StatusCompleted {
		t.Fatalf("search race: %v, status %s (%s)", err, searched.Status, searched.Error)
	}
	if got := summaryTasks(searched); !slices.Equal(got, []string{"search-kitchen"}) {
		t.Errorf("tasks reported %v, want only search-kitchen", got)
	}
	// Two clients of 200 iterations each, one per member, against the
	// index the first race filled.
	if _, n, errs := task(searched, "search-kitchen"); n != 400 || errs != 0 {
		t.Errorf("search-kitchen: %d requests, %d errors; want 400 without errors", n, errs)
	}
	for name, byHost := range searched.HostRequests {
		if name != "search-kitchen" {
			t.Errorf("host-requests has %s (%v): only the search may have run", name, byHost)
		}
	}
	if searched.HostRequests["search-kitchen"]["h1"] == 0 || searched.HostRequests["search-kitchen"]["h2"] == 0 {
		t.Errorf("host-requests %v, want both members", searched.HostRequests)
	}
	if searched.Summary.Cluster.DocCount != 2000 {
		t.Errorf("documents %d after the search race, want the 2000 indexed before", searched.Summary.Cluster.DocCount)
	}
}

// TestCheckRefusals: a task filter that matches nothing and a bad
// --load-driver-hosts list are refused before anything runs.
func TestCheckRefusals(t *testing.T) {
	base := Request{TrackPath: "../examples/tracks/tiny", TargetHosts: "127.0.0.1:9200"}
	for _, tc := range []struct {
		name   string
		adjust func(*Request)
		want   string
	}{
		{"a misspelt task name", func(r *Request) { r.TaskFilter = filterOf(t, "serch-kitchen", false) },
			`track tiny: --include-tasks: no task of challenge "index-and-search" matches "serch-kitchen" (did you mean "search-kitchen"?)`},
		{"a tag the challenge lacks", func(r *Request) { r.TaskFilter = filterOf(t, "tag:read", true) },
			`--exclude-tasks: no task of challenge "index-and-search" matches "tag:read" (no task there has tags)`},
		{"an empty host", func(r *Request) { r.LoadDriverHosts = []string{"h1", " "} }, "--load-driver-hosts: an empty entry"},
		{"a host named twice", func(r *Request) { r.LoadDriverHosts = []string{"h1", "h2", "h1"} }, "--load-driver-hosts: h1 is named twice"},
		{"min-load-drivers above the hosts named", func(r *Request) { r.LoadDriverHosts, r.MinLoadDrivers = []string{"h1", "h2"}, 3 },
			"--min-load-drivers 3: --load-driver-hosts names only 2 (h1,h2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := base
			tc.adjust(&req)
			if _, err := Check(req); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("the plan's challenge is the filtered one", func(t *testing.T) {
		req := base
		req.TaskFilter = filterOf(t, "index-append,refresh-after-index", false)
		p, err := Check(req)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range p.Challenge.Schedule {
			names = append(names, s.Tasks[0].Name)
		}
		if !slices.Equal(names, []string{"index-append", "refresh-after-index"}) {
			t.Errorf("schedule %v", names)
		}
	})
}

// TestCheckLocalLoadDrivers: a race on this machine takes only this
// machine as its load driver.
func TestCheckLocalLoadDrivers(t *testing.T) {
	for _, ok := range [][]string{nil, {"localhost"}, {"127.0.0.1", "localhost"}} {
		if err := CheckLocalLoadDrivers(ok); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
	err := CheckLocalLoadDrivers([]string{"localhost", "10.0.0.11"})
	if err == nil || !strings.Contains(err.Error(), "--load-driver-hosts localhost,10.0.0.11: this race's one load driver is this machine") ||
		!strings.Contains(err.Error(), "to race from 10.0.0.11, bring up a cluster") {
		t.Errorf("err %v", err)
	}
}

// TestCheckChallenge_a_custom_scheduler_blocks_only_its_challenge: the test
// track's track.py registers a scheduler that challenge spiky uses; the
// track loads, spiky is refused with the scheduler and where it is, and a
// race of the other challenge runs to its end.
func TestCheckChallenge_a_custom_scheduler_blocks_only_its_challenge(t *testing.T) {
	const path = "../track/testdata/custom-scheduler"
	_, err := Check(Request{TrackPath: path, Challenge: "spiky", TargetHosts: "127.0.0.1:9200"})
	var cannot *track.CannotRunError
	if !errors.As(err, &cannot) || len(cannot.Lines) != 1 ||
		cannot.Lines[0] != `challenges/spiky.json:12:19: task bursts: schedule "bursty" is a scheduler from track.py:21, which rally does not run` {
		t.Fatalf("spiky: err %v (%T)", err, err)
	}
	// Excluding the task that needs the scheduler leaves a challenge that
	// can run, as the same filter shows in rally info.
	if _, err := Check(Request{TrackPath: path, Challenge: "spiky", TargetHosts: "127.0.0.1:9200", TaskFilter: filterOf(t, "bursts", true)}); err != nil {
		t.Errorf("spiky without bursts: %v", err)
	}

	addr := startTarget(t, estarget.Faults{})
	r := runRace(t, Request{TrackPath: path, Challenge: "plain", TargetHosts: addr})
	if r.Status != report.StatusCompleted {
		t.Fatalf("plain: status %s (%s)", r.Status, r.Error)
	}
	if ok, n, errs := task(r, "match-all"); !ok || n != 40 || errs != 0 {
		t.Errorf("match-all: found %v, %d requests, %d errors; want 2 clients x 20 iterations", ok, n, errs)
	}
}

// TestCheckChallenge_shared_tracks: every challenge of the shared tracks
// gets an answer; what keeps one from running is only what their missing
// track.py would provide (runners, param sources): the load driver runs
// everything else they use.
func TestCheckChallenge_shared_tracks(t *testing.T) {
	for _, name := range []string{"geonames", "http_logs", "nested", "percolator", "so"} {
		tr, err := track.Load(track.LoadOptions{Path: "../track/testdata/rally-tracks/" + name})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		runnable := 0
		for i := range tr.Challenges {
			st := CheckChallenge(tr, &tr.Challenges[i])
			if st.Runnable() {
				runnable++
			}
			for _, p := range st.Problems {
				if p.Kind != track.ProblemRunner && p.Kind != track.ProblemParamSource {
					t.Errorf("%s/%s: %s", name, st.Challenge, strings.Join(st.Lines(), "; "))
				}
			}
		}
		if runnable == 0 {
			t.Errorf("%s: no challenge can run", name)
		}
	}
}
