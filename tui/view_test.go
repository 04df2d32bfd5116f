package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"rally/control"
	"rally/report"
)

// viewCases are the states the golden views show. Each builds on a model
// that has seen the fixture status and events.
var viewCases = []struct {
	name  string
	opts  func(*Options) // nil: the default options
	setup func(m *Model)
}{
	{"cluster", nil, func(m *Model) {}},
	{"actors", nil, func(m *Model) { press(m, "2") }},
	{"race_none", nil, func(m *Model) { press(m, "3") }},
	{"race_running", nil, func(m *Model) {
		send(m, items(raceEvent(fixtureRace())))
		press(m, "3")
	}},
	{"race_corpus_push", nil, func(m *Model) {
		send(m, items(raceEvent(fixturePushingRace())))
		press(m, "3")
	}},
	{"race_finished", nil, func(m *Model) {
		send(m, items(raceEvent(fixtureRace()), raceEvent(fixtureFinishedRace())))
		press(m, "3")
	}},
	{"race_picker", withChallenges, func(m *Model) { press(m, "3") }},
	{"race_picker_moved", withChallenges, func(m *Model) { press(m, "3", "down", "down") }},
	{"race_picker_after_race", withChallenges, func(m *Model) {
		send(m, items(raceEvent(fixtureRace()), raceEvent(fixtureFinishedRace())))
		press(m, "3", "end", "n")
	}},
	{"logs", nil, func(m *Model) { press(m, "4") }},
	{"logs_filtered", nil, func(m *Model) { press(m, "4", "f") }},
	{"help", nil, func(m *Model) { press(m, "?") }},
	{"confirm_down", nil, func(m *Model) { press(m, "d") }},
	{"torn_down", nil, func(m *Model) {
		send(m, press(m, "d", "y")())
	}},
}

// TestViews compares every tab, at 80×24 and 120×40, with colours off,
// against testdata/TestViews/*.golden (go test -update rewrites them).
func TestViews(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for _, tc := range viewCases {
			t.Run(fmt.Sprintf("%s_%dx%d", tc.name, size[0], size[1]), func(t *testing.T) {
				m := newLoadedModel(t, newFakeSource(), size[0], size[1], optsOf(tc.opts)...)
				tc.setup(m)
				view := m.View().Content
				checkFrame(t, view, size[0], size[1])
				golden.RequireEqual(t, view)
			})
		}
	}
}

func optsOf(edit func(*Options)) []func(*Options) {
	if edit == nil {
		return nil
	}
	return []func(*Options){edit}
}

// checkFrame asserts the frame is exactly height lines, none wider than
// width, with no escape sequence (colours are off).
func checkFrame(t *testing.T, view string, width, height int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != height {
		t.Errorf("view has %d lines, want %d", len(lines), height)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > width {
			t.Errorf("line %d is %d wide, more than %d: %q", i+1, w, width, l)
		}
		if strings.ContainsAny(l, "\x1b\r\t\a") {
			t.Errorf("line %d has a control character: %q", i+1, l)
		}
	}
}

func TestViewFitsAnySize(t *testing.T) {
	sizes := [][2]int{{1, 1}, {10, 3}, {20, 5}, {40, 10}, {79, 23}, {200, 60}}
	for _, size := range sizes {
		for _, tc := range viewCases {
			t.Run(fmt.Sprintf("%s_%dx%d", tc.name, size[0], size[1]), func(t *testing.T) {
				m := newLoadedModel(t, newFakeSource(), size[0], size[1], optsOf(tc.opts)...)
				tc.setup(m)
				checkFrame(t, m.View().Content, size[0], size[1])
			})
		}
	}
}

func TestColours(t *testing.T) {
	t.Run("NoColor_views_have_no_escape_sequences", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 120, 40)
		send(m, items(raceEvent(fixtureRace())))
		for _, k := range []string{"1", "2", "3", "4", "?"} {
			press(m, k)
			if v := m.View().Content; strings.Contains(v, "\x1b") {
				t.Errorf("view after %q has an escape sequence:\n%q", k, v)
			}
		}
	})
	t.Run("colour_views_colour_phases", func(t *testing.T) {
		src := newFakeSource()
		m := New(src, Options{Now: fixedNow})
		send(m, statusMsg{status: src.status})
		v := m.View().Content
		if !strings.Contains(v, "\x1b[") {
			t.Fatalf("colour view has no escape sequence:\n%s", v)
		}
		if plain := ansi.Strip(v); !strings.Contains(plain, "joined") {
			t.Errorf("stripped view lost its text:\n%s", plain)
		}
	})
}

func TestClusterView(t *testing.T) {
	m := newLoadedModel(t, newFakeSource(), 120, 40)
	view := m.View().Content
	for _, want := range []string{
		"●●○○○ upload 25%",
		"failed: connect: dial tcp 10.0.0.12:22",
		"└ no nodes (rally up with --distribution-path starts them)",
		"8  16.0 GiB  350µs  400ms ago  1900  811",
		"3 hosts: 1 upload, 1 joined, 1 failed",
	} {
		if !strings.Contains(view, want) {
			t.Errorf("cluster view lacks %q:\n%s", want, view)
		}
	}
	if n := strings.Count(view, "no nodes"); n != 1 {
		t.Errorf("%d node lines, want 1 (one provisioner host)", n)
	}

	t.Run("a_provisioner_host_lists_its_nodes", func(t *testing.T) {
		var c clusterView
		st := control.Status{Hosts: []control.HostStatus{{Name: "es-1", Roles: []string{"provisioner"}, Phase: control.PhaseJoined}},
			Nodes: []control.NodeStatus{
				{Host: "es-1", Name: "es-1-node-0", HTTP: "10.0.0.21:24001", PID: 77, Engine: "opensearch", Version: "2.19.1",
					Health: "green", HeapUsed: 512 << 20, HeapMax: 1 << 30, CPUPercent: 9},
				{Host: "es-2", Name: "es-2-node-0", HTTP: "10.0.0.22:24001", Engine: "opensearch", Version: "2.19.1"},
			}}
		c.setHosts(st.Hosts)
		got := strings.Join(c.lines(renderCtx{width: 120, at: testNow, th: newTheme(true)}, st, nil), "\n")
		if !strings.Contains(got, "└ node es-1-node-0  opensearch 2.19.1  http 10.0.0.21:24001  pid 77  green  heap 512.0 MiB/1.0 GiB  cpu 9%") || strings.Contains(got, "es-2-node-0") {
			t.Errorf("cluster view:\n%s", got)
		}
	})

	t.Run("an_error_is_cut_at_the_width", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 80, 24)
		for _, l := range strings.Split(m.View().Content, "\n") {
			if strings.Contains(l, "driver-2") && !strings.HasSuffix(l, "…") {
				t.Errorf("driver-2's long error is not cut with an ellipsis: %q", l)
			}
		}
	})

	t.Run("host_events_update_rows", func(t *testing.T) {
		m := newLoadedModel(t, newFakeSource(), 120, 40)
		hs := fixtureStatus().Hosts[2]
		hs.UploadSent = hs.UploadTotal
		hs.Phase = control.PhaseTunnel
		send(m, items(control.Event{Time: testNow, Kind: control.EventHost, Host: "es-1", Phase: control.PhaseTunnel, HostStatus: &hs}))
		if v := m.View().Content; !strings.Contains(v, "●●●○○ tunnel") {
			t.Errorf("es-1 does not show the tunnel phase:\n%s", v)
		}
	})
}

func TestLogsAreSanitised(t *testing.T) {
	m := newLoadedModel(t, newFakeSource(), 120, 40)
	press(m, "4")
	v := m.View().Content
	if !strings.Contains(v, "client 4: ?[31mbulk?[0m of 5000 docs in 39ms") {
		t.Errorf("escape sequences in a log line are not neutralised:\n%q", v)
	}
}

// fixturePushingRace is a race whose corpora are being pushed: one host
// done, one sending, one checking what it has.
func fixturePushingRace() control.RaceProgress {
	p := fixtureRace()
	for i := range p.Tasks {
		p.Tasks[i].State, p.Tasks[i].Done, p.Tasks[i].Requests, p.Tasks[i].Throughput = control.TaskWaiting, 0, 0, 0
	}
	p.CorpusPush = map[string]report.CorpusPush{
		"h1": {Phase: report.PushDone, Files: 1, Pieces: 4, Bytes: 3649762, ToSend: 3649762, Sent: 3649762},
		"h2": {Phase: report.PushSend, Files: 1, Pieces: 4, Bytes: 3663991, ToSend: 1834005, Sent: 785429},
		"h3": {Phase: report.PushCheck, Files: 1, Pieces: 4, Bytes: 3668009},
	}
	return p
}
