package e2e

import (
	"slices"
	"strings"
	"testing"

	"rally/lab"
	"rally/report"
)

// summaryTasks names the tasks of a race's summary, in its order.
func summaryTasks(r *report.Race) []string {
	var names []string
	for _, ts := range r.Summary.Tasks {
		names = append(names, ts.Task)
	}
	return names
}

// TestRaceIncludeTasks races the sample track in two parts with the real
// binary (no cluster up): --exclude-tasks type:search indexes without
// searching, then --include-tasks "type:search" runs only the search, on
// the index the first race filled.
func TestRaceIncludeTasks(t *testing.T) {
	addr := startTarget(t)
	u := newUser(t)
	args := []string{"race", "--track-path", "../examples/tracks/tiny", "--target-hosts", addr, "--report-format", "json"}

	indexed := savedRace(t, u, u.must(append(args, "--exclude-tasks", "type:search")...))
	if slices.Contains(summaryTasks(indexed), "search-kitchen") {
		t.Errorf("the excluded search ran: %v", summaryTasks(indexed))
	}
	if ts := taskSummary(t, indexed, "index-append"); ts.Errors != 0 || indexed.Summary.Cluster.DocCount != 2000 {
		t.Errorf("index-append: %d errors, %d documents stored; want none and 2000", ts.Errors, indexed.Summary.Cluster.DocCount)
	}

	r := u.must(append(args, "--include-tasks", "type:search")...)
	searched := savedRace(t, u, r)
	if searched.Status != report.StatusCompleted {
		t.Fatalf("status %s (%s)", searched.Status, searched.Error)
	}
	if got := summaryTasks(searched); !slices.Equal(got, []string{"search-kitchen"}) {
		t.Errorf("tasks %v, want only search-kitchen", got)
	}
	for task := range searched.HostRequests {
		if task != "search-kitchen" {
			t.Errorf("host-requests has %s: only the search may have run (%v)", task, searched.HostRequests)
		}
	}
	// Two clients of 200 iterations each (and 50 warmup iterations each).
	if ts := taskSummary(t, searched, "search-kitchen"); ts.Requests != 400 || ts.Errors != 0 {
		t.Errorf("search-kitchen: %d requests, %d errors; want 400 without errors", ts.Requests, ts.Errors)
	}
	if strings.Contains(r.stderr, "index-append") || strings.Contains(r.stderr, "delete-index") {
		t.Errorf("progress names a task the filter left out:\n%s", r.stderr)
	}

	if refused := u.rally(append(args, "--include-tasks", "type:serch")...); refused.code != 2 ||
		!strings.Contains(refused.stderr, `no task of challenge "index-and-search" matches "type:serch" (did you mean "type:search"?)`) {
		t.Errorf("a misspelt type should be refused with a hint: %s", refused)
	}
}

// TestRaceOnLoadDriverHosts races from two of a 3-host lab cluster's load
// drivers: only they run clients (race.json's hosts and host-requests);
// one named by address races alone; an unknown one is refused, named.
func TestRaceOnLoadDriverHosts(t *testing.T) {
	l := lab.Require(t, 3)
	u := newUser(t)
	target := startTarget(t, "--listen", l.Gateway()+":0")
	upCluster(t, u, l)
	args := []string{"race", "--track-path", spreadTrack, "--target-hosts", target,
		"--track-params", "clients:4,period:4,rate:40", "--report-format", "json"}

	race := savedRace(t, u, u.must(append(args, "--load-driver-hosts", "h1,h2")...))
	if race.Status != report.StatusCompleted {
		t.Errorf("status %s (%s), want completed", race.Status, race.Error)
	}
	if !slices.Equal(race.Hosts, []string{"h1", "h2"}) {
		t.Errorf("hosts %v, want h1 and h2", race.Hosts)
	}
	checkHostRequests(t, race, spreadTask, "h1", "h2")

	h3, err := l.Host("h3")
	if err != nil {
		t.Fatal(err)
	}
	alone := savedRace(t, u, u.must(append(args, "--load-driver-hosts", h3.Address)...))
	if !slices.Equal(alone.Hosts, []string{"h3"}) {
		t.Errorf("hosts %v, want h3 (named by its address %s)", alone.Hosts, h3.Address)
	}
	checkHostRequests(t, alone, spreadTask, "h3")

	if r := u.rally(append(args, "--load-driver-hosts", "h1,h7")...); r.code != 2 || !strings.Contains(r.stderr, "h7 is no host of the inventory") {
		t.Errorf("a race from h7 should be refused naming it: %s", r)
	}
	downAndCheckClean(t, u, l)
}
