package tui

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"rally/control"
)

func TestKeys(t *testing.T) {
	t.Run("number_keys_and_tab_switch_views", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 80, 24)
		steps := []struct {
			key  string
			want tab
		}{
			{"2", tabActors}, {"3", tabRace}, {"4", tabLogs}, {"1", tabCluster},
			{"tab", tabActors}, {"tab", tabRace}, {"tab", tabLogs}, {"tab", tabCluster},
			{"shift+tab", tabLogs}, {"shift+tab", tabRace},
		}
		for _, s := range steps {
			press(m, s.key)
			if m.tab != s.want {
				t.Fatalf("after %q the tab is %s, want %s", s.key, tabNames[m.tab], tabNames[s.want])
			}
			if !strings.Contains(m.View().Content, "["+string(rune('1'+s.want))+" "+tabNames[s.want]+"]") {
				t.Fatalf("after %q the tab bar does not mark %s", s.key, tabNames[s.want])
			}
		}
	})

	t.Run("question_mark_toggles_help", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 80, 24)
		press(m, "?")
		if !m.help || !strings.Contains(m.View().Content, "quit the UI; the cluster keeps running") {
			t.Fatalf("? does not show the help:\n%s", m.View().Content)
		}
		press(m, "?")
		if m.help || strings.Contains(m.View().Content, "KEYS") {
			t.Fatalf("a second ? does not hide the help")
		}
		press(m, "?", "3")
		if m.help || m.tab != tabRace {
			t.Fatalf("a view key does not leave the help for the view")
		}
	})

	t.Run("r_starts_a_race_with_the_options_request", func(t *testing.T) {
		src := newFakeSource()
		m := newLoadedModel(t, src, 80, 24)
		m.opts.Race = control.RaceRequest{TrackPath: "/t/geonames", Challenge: "append-no-conflicts",
			TargetHosts: "10.0.0.21:9200", TrackParams: map[string]any{"bulk_size": 5000}, OnError: "abort"}
		cmd := press(m, "r")
		if cmd == nil {
			t.Fatal("r gave no command")
		}
		if starts, _, _ := src.counts(); starts != 0 {
			t.Fatal("r called the coordinator from Update, not from a command")
		}
		send(m, cmd())
		if len(src.raceReqs) != 1 || !reflect.DeepEqual(src.raceReqs[0], m.opts.Race) {
			t.Fatalf("StartRace got %+v, want one call with %+v", src.raceReqs, m.opts.Race)
		}
		if m.tab != tabRace || !strings.Contains(m.View().Content, "race r-2 started") {
			t.Errorf("after r the Race tab does not say the race started:\n%s", m.View().Content)
		}
	})

	t.Run("r_without_a_track_says_so_and_asks_nothing", func(t *testing.T) {
		src := newFakeSource()
		m := newLoadedModel(t, src, 80, 24)
		m.opts.Race = control.RaceRequest{TargetHosts: "10.0.0.21:9200"}
		if cmd := press(m, "r"); cmd != nil {
			t.Fatal("r without a track path gave a command")
		}
		if !strings.Contains(m.View().Content, "cannot start a race: no track path is set") {
			t.Errorf("no error shown:\n%s", m.View().Content)
		}
	})

	t.Run("a_failed_start_shows_the_coordinators_error", func(t *testing.T) {
		src := newFakeSource()
		src.startErr = errFake
		m := newLoadedModel(t, src, 80, 24)
		send(m, press(m, "r")())
		if !strings.Contains(m.View().Content, "start race: fake failure") {
			t.Errorf("error not shown:\n%s", m.View().Content)
		}
	})

	t.Run("a_then_y_aborts", func(t *testing.T) {
		src := newFakeSource()
		m := newLoadedModel(t, src, 80, 24)
		send(m, items(raceEvent(fixtureRace())))
		if cmd := press(m, "a"); cmd != nil {
			t.Fatal("a acted before the answer")
		}
		if !strings.Contains(m.View().Content, "Abort race r-1? (y/n)") {
			t.Fatalf("a does not ask:\n%s", m.View().Content)
		}
		cmd := press(m, "y")
		if cmd == nil {
			t.Fatal("y gave no command")
		}
		send(m, cmd())
		if _, aborts, _ := src.counts(); aborts != 1 {
			t.Fatalf("AbortRace called %d times, want 1", aborts)
		}
	})

	t.Run("a_then_n_does_nothing", func(t *testing.T) {
		src := newFakeSource()
		m := newLoadedModel(t, src, 80, 24)
		if cmd := press(m, "a", "n"); cmd != nil {
			t.Fatal("a, n gave a command")
		}
		if m.confirm != confirmNone {
			t.Fatal("still asking after n")
		}
	})

	t.Run("d_then_n_does_nothing", func(t *testing.T) {
		src := newFakeSource()
		m := newLoadedModel(t, src, 80, 24)
		press(m, "d")
		if !strings.Contains(m.View().Content, "Tear down cluster demo? (y/n)") {
			t.Fatalf("d does not ask:\n%s", m.View().Content)
		}
		if cmd := press(m, "n"); cmd != nil {
			t.Fatal("d, n gave a command")
		}
		if strings.Contains(m.View().Content, "Tear down") || m.cluster.down != downIdle {
			t.Fatal("d, n left the question or started a teardown")
		}
	})

	t.Run("other_keys_are_ignored_while_asking", func(t *testing.T) {
		src := newFakeSource()
		m := newLoadedModel(t, src, 80, 24)
		if cmd := press(m, "d", "2", "r", "x"); cmd != nil {
			t.Fatal("a key other than y, n or q acted during the question")
		}
		if m.tab != tabCluster || m.confirm != confirmDown {
			t.Fatalf("tab %s, confirm %d: keys leaked through the question", tabNames[m.tab], m.confirm)
		}
	})

	t.Run("d_then_y_tears_down_and_shows_the_report", func(t *testing.T) {
		src := newFakeSource()
		m := newLoadedModel(t, src, 80, 24)
		press(m, "4")
		cmd := press(m, "d", "y")
		if cmd == nil {
			t.Fatal("d, y gave no command")
		}
		if m.tab != tabCluster || !strings.Contains(m.View().Content, "tearing down cluster demo…") {
			t.Fatalf("no progress shown while tearing down:\n%s", m.View().Content)
		}
		if _, _, downs := src.counts(); downs != 0 {
			t.Fatal("Down was called from Update")
		}
		send(m, cmd())
		if _, _, downs := src.counts(); downs != 1 {
			t.Fatalf("Down called %d times, want 1", downs)
		}
		v := m.View().Content
		for _, want := range []string{"driver-1: stopped 1 worker, removed 3 files, fetched worker.log",
			"driver-2: error: connect", "cluster demo is torn down · q quits"} {
			if !strings.Contains(v, want) {
				t.Errorf("view lacks %q:\n%s", want, v)
			}
		}
		if cmd := send(m, tickMsg{}); cmd != nil {
			t.Error("status is still polled after teardown")
		}
		if cmd := press(m, "d"); cmd != nil || m.confirm != confirmNone {
			t.Error("d after teardown asks again")
		}
	})

	t.Run("q_quits_without_tearing_down", func(t *testing.T) {
		for _, key := range []string{"q", "ctrl+c"} {
			src := newFakeSource()
			m := newLoadedModel(t, src, 80, 24)
			press(m, "d")
			cmd := press(m, key)
			if cmd == nil {
				t.Fatalf("%s gave no command", key)
			}
			if _, ok := cmd().(tea.QuitMsg); !ok {
				t.Fatalf("%s does not quit", key)
			}
			if m.ctx.Err() == nil {
				t.Errorf("%s leaves requests running", key)
			}
			if _, _, downs := src.counts(); downs != 0 {
				t.Errorf("%s called Down", key)
			}
		}
	})

	t.Run("f_cycles_the_log_filter_through_hosts", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 80, 24)
		press(m, "f")
		if m.logs.filter != "" {
			t.Fatal("f filters outside the Logs tab")
		}
		press(m, "4")
		var got []string
		for range 4 {
			press(m, "f")
			got = append(got, m.logs.filter)
		}
		if want := []string{"driver-1", "driver-2", "es-1", ""}; !reflect.DeepEqual(got, want) {
			t.Errorf("filter cycle %q, want %q", got, want)
		}
	})

	t.Run("arrows_scroll_within_the_content", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 80, 24)
		send(m, items(raceEvent(fixtureFinishedRace())))
		press(m, "3", "end")
		v := m.View().Content
		if !strings.Contains(v, "race r-1 stored in") || strings.Contains(v, "race r-1 · track") {
			t.Fatalf("end does not show the report's end:\n%s", v)
		}
		y := m.scroll[tabRace].y
		press(m, "down")
		if m.scroll[tabRace].y != y {
			t.Errorf("down scrolls past the end: %d, was %d", m.scroll[tabRace].y, y)
		}
		press(m, "up", "home")
		if m.scroll[tabRace].y != 0 || !strings.Contains(m.View().Content, "race r-1 · track") {
			t.Error("home does not go back to the top")
		}
		press(m, "right")
		if v := m.View().Content; !strings.Contains(v, "→8") {
			t.Errorf("right does not scroll sideways:\n%s", v)
		}
	})
}

// TestProgram drives the model in a real Bubble Tea program (teatest):
// keys go through the terminal input path and commands run on their own.
func TestProgram(t *testing.T) {
	run := func(t *testing.T, src *fakeSource) (*teatest.TestModel, *Model) {
		t.Helper()
		m := New(src, Options{Cluster: "demo", NoColor: true, Now: fixedNow,
			Race: control.RaceRequest{TrackPath: "/home/me/tracks/geonames", TargetHosts: "10.0.0.21:9200"}})
		t.Cleanup(m.Close)
		tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("driver-2")) },
			teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
		return tm, m
	}
	final := func(t *testing.T, tm *teatest.TestModel) *Model {
		t.Helper()
		return tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	}

	t.Run("race_abort_and_quit_keep_the_cluster", func(t *testing.T) {
		src := newFakeSource()
		tm, _ := run(t, src)
		tm.Type("3r")
		src.waitCall(t, "start")
		tm.Type("ay")
		src.waitCall(t, "abort")
		tm.Type("dn2q")
		fm := final(t, tm)
		starts, aborts, downs := src.counts()
		if starts != 1 || aborts != 1 || downs != 0 {
			t.Fatalf("calls: %d starts, %d aborts, %d downs; want 1, 1, 0", starts, aborts, downs)
		}
		if src.raceReqs[0].TrackPath != "/home/me/tracks/geonames" || src.raceReqs[0].TargetHosts != "10.0.0.21:9200" {
			t.Errorf("StartRace got %+v", src.raceReqs[0])
		}
		if fm.tab != tabActors || fm.confirm != confirmNone {
			t.Errorf("final tab %s, confirm %d; want Actors and no question", tabNames[fm.tab], fm.confirm)
		}
		if len(fm.cluster.hosts) != 3 || fm.logs.count() == 0 {
			t.Errorf("the program did not show the status and events: %d hosts, %d log lines", len(fm.cluster.hosts), fm.logs.count())
		}
	})

	t.Run("d_y_tears_down_then_stays_until_q", func(t *testing.T) {
		src := newFakeSource()
		tm, _ := run(t, src)
		tm.Type("4dy")
		src.waitCall(t, "down")
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("q quits")) },
			teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
		tm.Type("q")
		fm := final(t, tm)
		if !fm.tornDown || !strings.Contains(fm.View().Content, "driver-1: stopped 1 worker") {
			t.Errorf("final view lacks the teardown report:\n%s", fm.View().Content)
		}
	})
}

func TestRun(t *testing.T) {
	t.Run("runs_headless_until_the_context_ends_and_tears_nothing_down", func(t *testing.T) {
		src := newFakeSource()
		var out safeBuffer
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		err := Run(ctx, src, Options{Cluster: "demo", NoColor: true, Now: fixedNow}, nil, &out)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		got := out.String()
		if !strings.Contains(got, "driver-1") || !strings.Contains(got, "1 Cluster") {
			t.Errorf("output lacks the cluster view:\n%q", got)
		}
		if _, _, downs := src.counts(); downs != 0 {
			t.Error("Run tore the cluster down")
		}
	})
}

// safeBuffer is a bytes.Buffer for a writer goroutine and a reader.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStatusLine(t *testing.T) {
	t.Run("a_failed_poll_is_shown_until_one_succeeds", func(t *testing.T) {
		src := newFakeSource()
		m := newLoadedModel(t, src, 80, 24)
		send(m, statusMsg{err: errFake})
		if !strings.Contains(m.View().Content, "status: fake failure") {
			t.Fatalf("poll error not shown:\n%s", m.View().Content)
		}
		send(m, statusMsg{status: src.status})
		if strings.Contains(m.View().Content, "fake failure") {
			t.Fatal("poll error still shown after a good poll")
		}
	})
	t.Run("a_broken_stream_is_shown_until_events_flow", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 80, 24)
		send(m, eventsMsg{items: []pumpItem{{err: errFake}}})
		if !strings.Contains(m.View().Content, "events: fake failure (reconnecting)") {
			t.Fatalf("stream error not shown:\n%s", m.View().Content)
		}
		send(m, items(control.Event{Time: testNow, Kind: "log", Host: "driver-1", Text: "back"}))
		if strings.Contains(m.View().Content, "fake failure") {
			t.Fatal("stream error still shown after an event")
		}
	})
	t.Run("polls_do_not_overlap", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 80, 24)
		m.polling = true
		if cmd := send(m, tickMsg{}); cmd == nil {
			t.Fatal("tick does not schedule the next tick")
		}
		if !m.polling {
			t.Fatal("tick cleared polling")
		}
	})
}
