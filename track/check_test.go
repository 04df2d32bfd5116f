package track

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// testDriver stands in for the load driver: it runs every operation type
// built into esrally but those in missing, and refuses the tasks named in
// refuse with their message.
type testDriver struct {
	missing []string
	refuse  map[string]string
}

func (d testDriver) RunsOperationType(typ string) bool { return !slices.Contains(d.missing, typ) }

func (d testDriver) CheckTask(_ *Track, task *Task) error {
	if msg, ok := d.refuse[task.Name]; ok {
		return errors.New(msg)
	}
	return nil
}

// checkWith is the status function Describe gets in tests.
func checkWith(tr *Track) func(*Challenge) Status {
	return func(c *Challenge) Status { return Check(tr, c, testDriver{}) }
}

// problemsOf checks a challenge and returns its status.
func statusOf(t *testing.T, tr *Track, challenge string, d Driver) Status {
	t.Helper()
	return Check(tr, mustChallenge(t, tr, challenge), d)
}

func TestCheck_a_custom_scheduler_keeps_only_its_challenge_from_running(t *testing.T) {
	tr := mustLoad(t, LoadOptions{Path: "testdata/custom-scheduler"})
	if tr.TrackPy == nil || len(tr.TrackPy.Schedulers) != 1 {
		t.Fatalf("track.py read as %+v", tr.TrackPy)
	}
	if st := statusOf(t, tr, "plain", testDriver{}); !st.Runnable() || st.Err() != nil {
		t.Errorf("plain: %+v", st)
	}
	st := statusOf(t, tr, "spiky", testDriver{})
	want := Problem{Kind: ProblemScheduler, Task: "bursts", Name: "bursty", Where: "challenges/spiky.json:12:19",
		Message: `schedule "bursty" is a scheduler from track.py:21, which rally does not run`}
	if st.Runnable() || len(st.Problems) != 1 || st.Problems[0] != want {
		t.Fatalf("spiky: %+v\nwant the one problem %+v", st, want)
	}
	err := st.Err()
	var cannot *CannotRunError
	if !errors.As(err, &cannot) {
		t.Fatalf("Err() = %v (%T)", err, err)
	}
	wantMsg := "challenge spiky of track custom-scheduler cannot run here:\n" +
		`  challenges/spiky.json:12:19: task bursts: schedule "bursty" is a scheduler from track.py:21, which rally does not run`
	if err.Error() != wantMsg {
		t.Errorf("error:\n%s\nwant:\n%s", err, wantMsg)
	}
}

func TestCheck_a_track_processor_refuses_every_challenge(t *testing.T) {
	tr := mustLoad(t, LoadOptions{Path: "testdata/track-processor"})
	for _, c := range tr.Challenges {
		st := statusOf(t, tr, c.Name, testDriver{})
		if len(st.Problems) != 1 {
			t.Fatalf("%s: problems %+v, want the processor alone (esrally's DefaultTrackPreparator is none)", c.Name, st.Problems)
		}
		p := st.Problems[0]
		if p.Kind != ProblemTrackProcessor || p.Name != "FieldRenamer" || p.Where != "track.py:29" || p.Task != "" ||
			!strings.Contains(p.Message, "cannot tell which challenges it changes, so it refuses them all") {
			t.Errorf("%s: problem %+v", c.Name, p)
		}
	}
}

func TestCheck_says_why_each_task_cannot_run(t *testing.T) {
	files := map[string]string{
		"track.json": `{"operations": [
  {"name": "q", "operation-type": "search", "param-source": "my-queries"},
  {"name": "bulk", "operation-type": "bulk", "param-source": "file-reader"}
],
"challenges": [{"name": "c", "schedule": [
  {"operation": "q"},
  {"operation": "bulk"},
  {"operation": {"operation-type": "reindex"}},
  {"operation": {"operation-type": "shrink-index"}},
  {"name": "s", "operation": {"operation-type": "sleep", "duration": 1}},
  {"name": "r", "operation": {"operation-type": "raw-request", "path": "/"}},
  {"name": "odd", "operation": {"operation-type": "refresh"}, "schedule": "odd"}
]}]}`,
		"track.py": `def register(registry):
    registry.register_param_source("my-queries", Queries)
    registry.register_runner("reindex", reindex, async_runner=True)
    registry.register_runner("sleep", MySleep(), async_runner=True)
    for name, s in SCHEDULERS.items():
        registry.register_scheduler(name, s)
`,
	}
	tr := mustLoad(t, LoadOptions{Path: writeTrack(t, files)})
	st := statusOf(t, tr, "c", testDriver{missing: []string{"shrink-index"}, refuse: map[string]string{"r": `operation "raw-request": parameter "path" is odd`}})
	want := []string{
		`track.json:2:61: task q: param-source "my-queries" comes from track.py:2, which rally does not run`,
		`track.json:8:36: task reindex: operation type "reindex" is a runner from track.py:3, which rally does not run`,
		`track.json:9:36: task shrink-index: operation type "shrink-index" is built into esrally, but rally's load driver does not run it yet`,
		`track.json:10:49: task s: operation type "sleep" has its own runner in track.py:4, which esrally runs instead of its built-in one and rally does not run`,
		`track.json:11:3: task r: operation "raw-request": parameter "path" is odd`,
		`track.json:12:75: task odd: schedule "odd" is neither one of esrally's (deterministic, poisson) nor registered by track.py` +
			` (track.py:6 registers schedulers under a name computed when it runs: name)`,
	}
	if got := st.Lines(); !slices.Equal(got, want) {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCheck_without_track_py_names_what_is_missing(t *testing.T) {
	tr := mustLoad(t, LoadOptions{Path: sharedTrackPath("nested")})
	st := statusOf(t, tr, "nested-search-challenge", testDriver{})
	if st.Runnable() || st.Problems[0].Kind != ProblemParamSource || st.Problems[0].Name != "nested-query-source" ||
		st.Problems[0].Message != `param-source "nested-query-source" is not esrally's own (file-reader), and the track has no track.py that could register it` {
		t.Errorf("problems %+v", st.Problems)
	}
	if st := statusOf(t, tr, "index-only", testDriver{}); !st.Runnable() {
		t.Errorf("index-only: %+v", st.Problems)
	}
}

func TestStatus_Lines_are_grouped_and_bounded(t *testing.T) {
	st := Status{Track: "t", Challenge: "c"}
	for i := 0; i < 5; i++ {
		st.Problems = append(st.Problems, Problem{Kind: ProblemScheduler, Task: string(rune('a' + i)), Name: "x", Message: "same"})
	}
	for i := 0; i < 14; i++ {
		st.Problems = append(st.Problems, Problem{Kind: ProblemDriver, Task: "t" + string(rune('a'+i)), Message: "own " + string(rune('a'+i))})
	}
	lines := st.Lines()
	if len(lines) != MaxProblemLines+1 || lines[0] != "tasks a, b and 3 more: same" || lines[1] != "task ta: own a" ||
		lines[MaxProblemLines] != "and 5 more" || st.Count() != 15 {
		t.Errorf("%d lines (count %d):\n%s", len(lines), st.Count(), strings.Join(lines, "\n"))
	}
	st.Problems = st.Problems[:5+10] // eleven groups are shown whole
	if lines := st.Lines(); len(lines) != 11 || strings.HasPrefix(lines[10], "and ") {
		t.Errorf("eleven problems:\n%s", strings.Join(lines, "\n"))
	}
}

// TestCheck_every_track_gets_an_answer_for_every_challenge: the shared
// tracks, the example and the test tracks load, and every challenge is
// checked (positions of problems found, no panics).
func TestCheck_every_track_gets_an_answer_for_every_challenge(t *testing.T) {
	paths := []string{"testdata/custom-scheduler", "testdata/track-processor", "../examples/tracks/tiny"}
	for _, name := range sharedTracks {
		paths = append(paths, sharedTrackPath(name))
	}
	for _, p := range paths {
		tr := mustLoad(t, LoadOptions{Path: p})
		for i := range tr.Challenges {
			st := Check(tr, &tr.Challenges[i], testDriver{})
			for _, prob := range st.Problems {
				if prob.Where == "" || prob.Message == "" {
					t.Errorf("%s/%s: problem without a position or message: %+v", tr.Name, st.Challenge, prob)
				}
			}
		}
	}
}

func TestCheck_registrations_rally_cannot_read_refuse_every_challenge(t *testing.T) {
	trackJSON := `{"challenges": [{"name": "a", "default": true, "schedule": [{"operation": "refresh"}]},
  {"name": "b", "schedule": [{"operation": "refresh"}]}]}`
	for _, tc := range []struct{ name, py, want string }{
		{"register imported", "from shared.track import register\n",
			"track.py: track.py defines no register function (it may import one), so rally cannot read what it registers; " +
				"a track processor registered there could change any challenge, so rally refuses them all"},
		{"registry handed on", "import shared\n\ndef register(registry):\n    shared.register_all(registry)\n",
			"track.py:4: track.py hands its registry to shared.register_all, which rally cannot read (it does not run track.py); " +
				"a track processor registered there could change any challenge, so rally refuses them all"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := mustLoad(t, LoadOptions{Path: writeTrack(t, map[string]string{"track.json": trackJSON, "track.py": tc.py})})
			for _, c := range []string{"a", "b"} {
				if got := statusOf(t, tr, c, testDriver{}).Lines(); !slices.Equal(got, []string{tc.want}) {
					t.Errorf("challenge %s: %q\nwant %q", c, got, tc.want)
				}
			}
		})
	}
}
