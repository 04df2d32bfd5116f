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

	t.Run("picker_keys_choose_the_challenge_r_sends", func(t *testing.T) {
		src := newFakeSource()
		m := New(src, Options{Cluster: "demo", NoColor: true, Now: fixedNow, Challenges: fixtureChallenges(),
			Race: control.RaceRequest{TrackPath: "/home/me/tracks/geonames", TargetHosts: "10.0.0.21:9200"}})
		t.Cleanup(m.Close)
		tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
		// The keys reach the program in order, so enter comes after the
		// two moves. (Waiting for "challenge     significant-text" in the
		// output raced the renderer, which may rewrite only the changed
		// cells of that row.)
		tm.Type("3jj")
		tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
		src.waitCall(t, "start")
		tm.Type("q")
		final(t, tm)
		if got := src.raceReqs[0].Challenge; got != "significant-text" {
			t.Errorf("StartRace got challenge %q, want significant-text", got)
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
		send(m, items(control.Event{Time: testNow, Kind: control.EventLog, Host: "driver-1", Text: "back"}))
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

func TestRacePicker(t *testing.T) {
	names := func() []string {
		var out []string
		for _, c := range fixtureChallenges() {
			out = append(out, c.Name)
		}
		return out
	}()
	// chosen is the challenge the view marks with the cursor.
	chosen := func(t *testing.T, m *Model) string {
		t.Helper()
		var got []string
		for _, l := range strings.Split(m.View().Content, "\n") {
			if rest, ok := strings.CutPrefix(l, "> "); ok {
				got = append(got, strings.Fields(rest)[0])
			}
		}
		if len(got) != 1 {
			t.Fatalf("the view marks %d challenges, want 1:\n%s", len(got), m.View().Content)
		}
		return got[0]
	}

	t.Run("starts_on_the_default_challenge", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 80, 24, withChallenges)
		press(m, "3")
		if got := chosen(t, m); got != "append-no-conflicts" {
			t.Errorf("cursor on %q, want the default append-no-conflicts", got)
		}
	})

	t.Run("starts_on_the_options_challenge", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 80, 24, withChallenges,
			func(o *Options) { o.Race.Challenge = "append-fast-with-conflicts" })
		press(m, "3")
		if got := chosen(t, m); got != "append-fast-with-conflicts" {
			t.Errorf("cursor on %q, want Options.Race.Challenge append-fast-with-conflicts", got)
		}
	})

	t.Run("starts_on_the_first_without_a_default", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 80, 24, func(o *Options) {
			o.Challenges = fixtureChallenges()
			for i := range o.Challenges {
				o.Challenges[i].Default = false
			}
			o.Race.Challenge = "no-such-challenge"
		})
		press(m, "3")
		if got := chosen(t, m); got != names[0] {
			t.Errorf("cursor on %q, want the first, %q", got, names[0])
		}
	})

	t.Run("cursor_moves_and_stops_at_the_ends", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 80, 24, withChallenges)
		press(m, "3")
		steps := []struct {
			key  string
			want string
		}{
			{"up", names[0]}, {"up", names[0]}, // stops at the top
			{"down", names[1]}, {"j", names[2]}, {"down", names[3]},
			{"down", names[3]}, {"j", names[3]}, // stops at the bottom
			{"k", names[2]}, {"home", names[0]}, {"end", names[3]}, {"g", names[0]}, {"G", names[3]},
		}
		for i, s := range steps {
			press(m, s.key)
			if got := chosen(t, m); got != s.want {
				t.Fatalf("step %d (%s): cursor on %q, want %q", i+1, s.key, got, s.want)
			}
		}
		if m.scroll[tabRace].y != 0 {
			t.Errorf("the picker fits, yet the tab scrolled to %d", m.scroll[tabRace].y)
		}
	})

	t.Run("cursor_keys_leave_the_picker_alone_on_other_tabs_and_in_help", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 80, 24, withChallenges)
		press(m, "4", "down", "1", "j", "3", "?", "down", "esc")
		if got := chosen(t, m); got != "append-no-conflicts" {
			t.Errorf("cursor on %q after keys outside the picker, want append-no-conflicts", got)
		}
	})

	t.Run("the_view_follows_the_cursor_in_a_short_window", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 80, 12, withChallenges) // 7 body lines
		press(m, "3", "end")
		if got := chosen(t, m); got != names[3] {
			t.Fatalf("cursor on %q, want %q", got, names[3])
		}
		press(m, "home")
		if got := chosen(t, m); got != names[0] {
			t.Fatalf("cursor on %q, want %q", got, names[0])
		}
	})

	for _, key := range []string{"r", "enter"} {
		t.Run(key+"_sends_the_chosen_challenge", func(t *testing.T) {
			src := newFakeSource()
			m := newLoadedModel(t, src, 80, 24, withChallenges, func(o *Options) {
				o.Race.TrackParams = map[string]any{"bulk_size": 5000}
				o.Race.ClientOptions = "timeout:60"
			})
			press(m, "3", "down", "down")
			cmd := press(m, key)
			if cmd == nil {
				t.Fatalf("%s gave no command", key)
			}
			send(m, cmd())
			want := m.opts.Race
			want.Challenge = names[3]
			if len(src.raceReqs) != 1 || !reflect.DeepEqual(src.raceReqs[0], want) {
				t.Fatalf("StartRace got %+v, want one call with %+v", src.raceReqs, want)
			}
		})
	}

	t.Run("enter_starts_nothing_without_a_picker", func(t *testing.T) {
		for _, edit := range []func(*Options){
			func(o *Options) {},
			func(o *Options) { o.Challenges = fixtureChallenges()[:1] },
		} {
			m := newLoadedModel(t, newFakeSource(), 80, 24, edit)
			if cmd := press(m, "3", "enter"); cmd != nil {
				t.Errorf("enter with %d challenges gave a command", len(m.opts.Challenges))
			}
		}
		m := newLoadedModel(t, newFakeSource(), 80, 24, withChallenges)
		if cmd := press(m, "1", "enter"); cmd != nil {
			t.Error("enter outside the Race tab gave a command")
		}
	})

	t.Run("one_challenge_keeps_the_options_request", func(t *testing.T) {
		src := newFakeSource()
		m := newLoadedModel(t, src, 80, 24, func(o *Options) { o.Challenges = fixtureChallenges()[:1] })
		press(m, "3", "down")
		if strings.Contains(m.View().Content, "CHALLENGES") {
			t.Errorf("one challenge shows a picker:\n%s", m.View().Content)
		}
		send(m, press(m, "r")())
		if len(src.raceReqs) != 1 || !reflect.DeepEqual(src.raceReqs[0], m.opts.Race) {
			t.Fatalf("StartRace got %+v, want %+v", src.raceReqs, m.opts.Race)
		}
	})

	t.Run("never_shows_while_a_race_runs_and_arrows_scroll_it", func(t *testing.T) {
		plain := newLoadedModel(t, newFakeSource(), 80, 12)
		m := newLoadedModel(t, newFakeSource(), 80, 12, withChallenges)
		for _, mm := range []*Model{plain, m} {
			send(mm, items(raceEvent(fixtureRace())))
			press(mm, "3", "n", "down", "down")
		}
		if v := m.View().Content; strings.Contains(v, "CHALLENGES") || strings.Contains(v, "> ") {
			t.Fatalf("the picker shows during a race:\n%s", v)
		}
		if m.scroll[tabRace].y != 2 {
			t.Errorf("down twice scrolled the running race to %d, want 2", m.scroll[tabRace].y)
		}
		if got, want := m.View().Content, plain.View().Content; got != want {
			t.Errorf("with challenges the running race reads\n%s\nwithout\n%s", got, want)
		}
		if got := m.race.cursor; got != 1 {
			t.Errorf("the arrows moved the hidden cursor to %d", got)
		}
	})

	t.Run("a_finished_race_stays_until_n_then_the_picker_returns", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 80, 24, withChallenges)
		send(m, items(raceEvent(fixtureRace()), raceEvent(fixtureFinishedRace())))
		press(m, "3", "down", "down")
		if m.scroll[tabRace].y != 2 {
			t.Fatalf("arrows do not scroll the finished race: y=%d", m.scroll[tabRace].y)
		}
		press(m, "end")
		v := m.View().Content
		if !strings.Contains(v, "race r-1 stored in") || strings.Contains(v, "CHALLENGES") {
			t.Fatalf("the finished report is not on show:\n%s", v)
		}
		// A repeated event of the same race does not bring the report back
		// once put away, and n on another tab puts nothing away.
		press(m, "1", "n", "3")
		if !m.race.finished() {
			t.Fatal("n outside the Race tab put the report away")
		}
		press(m, "n")
		send(m, items(raceEvent(fixtureFinishedRace())))
		v = m.View().Content
		if !strings.Contains(v, "no race running (the last one, r-1, completed)") || !strings.Contains(v, "CHALLENGES") {
			t.Fatalf("n does not bring the picker back:\n%s", v)
		}
		if got := chosen(t, m); got != "append-no-conflicts" {
			t.Errorf("cursor on %q after the race, want append-no-conflicts", got)
		}
		press(m, "down")
		if got := chosen(t, m); got != "append-fast-with-conflicts" {
			t.Errorf("down in the returned picker: cursor on %q", got)
		}
		// The next race takes the tab over again.
		next := fixtureRace()
		next.ID = "r-2"
		send(m, items(raceEvent(next)))
		if v := m.View().Content; !strings.Contains(v, "race r-2 · track geonames") || strings.Contains(v, "CHALLENGES") {
			t.Errorf("the next race does not replace the picker:\n%s", v)
		}
		done := fixtureFinishedRace()
		done.ID = "r-2"
		send(m, items(raceEvent(done)))
		if v := m.View().Content; !strings.Contains(v, "race r-2 · track geonames") || !strings.Contains(v, "n new race") {
			t.Errorf("the next race's end does not stay on show until n:\n%s", v)
		}
	})

	t.Run("n_with_one_challenge_shows_the_start_view", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 80, 24)
		send(m, items(raceEvent(fixtureFinishedRace())))
		press(m, "3", "n")
		v := m.View().Content
		if !strings.Contains(v, "r starts one:") || strings.Contains(v, "REPORT") {
			t.Errorf("n does not show the start view:\n%s", v)
		}
	})
}

// TestQuietRaceIsPolled: when a running race's events go quiet (dropped
// by a slow stream, or the stream broke), the UI asks the coordinator for
// the race and shows its end from that answer.
func TestQuietRaceIsPolled(t *testing.T) {
	src := newFakeSource()
	m := newLoadedModel(t, src, 100, 30)
	send(m, items(raceEvent(fixtureRace())))
	if !m.race.running() {
		t.Fatal("the fixture race does not run")
	}
	ended := fixtureRace()
	ended.State, ended.Report = control.RaceCompleted, "Min Throughput | search | 10 | ops/s"
	src.byID = &ended
	if cmd := m.pollQuietRace(); cmd != nil {
		t.Fatal("polled a race whose events are fresh")
	}
	m.at = m.raceSeen.Add(raceQuiet + time.Second)
	cmd := m.pollQuietRace()
	if cmd == nil {
		t.Fatal("a race quiet for longer than raceQuiet is not polled")
	}
	if m.pollQuietRace() != nil {
		t.Error("a second poll started while the first runs")
	}
	send(m, cmd())
	if m.race.running() || !m.race.finished() {
		t.Fatalf("the race's end from the poll was not applied: %+v", m.race.progress)
	}
	press(m, "4")
	if !strings.Contains(m.View().Content, "race r-1 completed") {
		t.Errorf("the logs do not say the race completed:\n%s", m.View().Content)
	}
}
