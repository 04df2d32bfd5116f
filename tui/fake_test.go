package tui

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"rally/actor"
	"rally/control"
)

// testNow is the fixed clock of every test view.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// fakeSource is a coordinator that answers from fixtures and records the
// requests it gets.
type fakeSource struct {
	mu        sync.Mutex
	status    control.Status
	statusErr error
	events    []control.Event // sent on every Events call, which then blocks until ctx ends
	started   control.RaceStarted
	startErr  error
	report    control.DownReport

	// byID answers RaceByID.
	byID *control.RaceProgress

	raceReqs []control.RaceRequest
	aborts   int
	downs    []control.DownRequest
	calls    chan string // "start", "abort", "down" as they happen
}

func newFakeSource() *fakeSource {
	return &fakeSource{
		status:  fixtureStatus(),
		events:  fixtureEvents(),
		started: control.RaceStarted{ID: "r-2"},
		report:  fixtureDownReport(),
		calls:   make(chan string, 16),
	}
}

func (f *fakeSource) Status(ctx context.Context) (control.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, f.statusErr
}

func (f *fakeSource) Events(ctx context.Context, fn func(control.Event)) error {
	f.mu.Lock()
	evs := f.events
	f.mu.Unlock()
	for _, ev := range evs {
		fn(ev)
	}
	<-ctx.Done()
	return ctx.Err()
}

func (f *fakeSource) Down(ctx context.Context, req control.DownRequest) (control.DownReport, error) {
	f.mu.Lock()
	f.downs = append(f.downs, req)
	f.mu.Unlock()
	f.calls <- "down"
	return f.report, nil
}

func (f *fakeSource) StartRace(ctx context.Context, req control.RaceRequest) (control.RaceStarted, error) {
	f.mu.Lock()
	f.raceReqs = append(f.raceReqs, req)
	f.mu.Unlock()
	f.calls <- "start"
	return f.started, f.startErr
}

func (f *fakeSource) AbortRace(ctx context.Context) error {
	f.mu.Lock()
	f.aborts++
	f.mu.Unlock()
	f.calls <- "abort"
	return nil
}

func (f *fakeSource) RaceByID(ctx context.Context, id string) (*control.RaceProgress, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byID == nil || f.byID.ID != id {
		return nil, nil
	}
	p := *f.byID
	return &p, nil
}

func (f *fakeSource) counts() (starts, aborts, downs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.raceReqs), f.aborts, len(f.downs)
}

// waitCall waits for the fake to be called with want.
func (f *fakeSource) waitCall(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-f.calls:
		if got != want {
			t.Fatalf("source got %s, want %s", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("source was never asked to %s", want)
	}
}

var _ Source = (*fakeSource)(nil)

// fixtureStatus is a cluster of three hosts: one joined, one failed on
// connect, a provisioner uploading.
func fixtureStatus() control.Status {
	return control.Status{
		Cluster: "demo",
		Phase:   control.ClusterUp,
		Coordinator: control.CoordinatorInfo{
			PID: 4242, Version: "1.0.0-test", Socket: "/home/me/.rally/run/demo.sock",
			Started: testNow.Add(-5*time.Minute - 2*time.Second), Inventory: "/home/me/hosts.yaml",
		},
		Hosts: []control.HostStatus{
			{Name: "driver-1", Address: "10.0.0.11", Roles: []string{"load-driver"}, Phase: control.PhaseJoined,
				Platform: "linux/amd64", Uploaded: true, TunnelPort: 1900, WorkerPID: 811},
			{Name: "driver-2", Address: "10.0.0.12", Roles: []string{"load-driver"}, Phase: control.PhaseFailed,
				Error: "connect: dial tcp 10.0.0.12:22: i/o timeout after 10s (check the address and that sshd listens on port 22)"},
			{Name: "es-1", Address: "10.0.0.21", Roles: []string{"provisioner", "load-driver"}, Phase: control.PhaseUpload,
				Platform: "linux/arm64", UploadSent: 3 << 20, UploadTotal: 12 << 20},
		},
		Uploads:       1,
		UploadedBytes: 12 << 20,
		Actors: actor.Status{
			Leader: actor.LeaderStatus{Address: "127.0.0.1:41234", Version: "1.0.0-test", Started: testNow.Add(-5 * time.Minute),
				HeartbeatInterval: time.Second, Expiry: 10 * time.Second},
			Members: []actor.MemberStatus{
				{Name: "driver-1", Via: "driver-1", State: actor.MemberJoined, PID: 811,
					Facts:  actor.HostFacts{Hostname: "driver-1", OS: "linux", Arch: "amd64", CPUs: 8, MemoryBytes: 16 << 30},
					Joined: testNow.Add(-4 * time.Minute), LastHeartbeat: testNow.Add(-400 * time.Millisecond),
					ExpiresIn: 9600 * time.Millisecond, RTT: 350 * time.Microsecond, ClockOffset: -1200 * time.Microsecond,
					BytesIn: 12 << 10, BytesOut: 11 << 10, MessagesIn: 1204, MessagesOut: 1180},
				{Name: "driver-2", State: actor.MemberExpected},
				{Name: "es-1", State: actor.MemberExpected},
			},
			Actors: []actor.ActorStatus{
				{Name: "coordinator", Mailbox: 0, Received: 44, Sent: 4},
				{Name: "member/driver-1", Mailbox: 2, Received: 1204, Sent: 1180},
			},
			Received:    map[string]int64{"heartbeat": 1160, "hello": 1, "race-progress": 43},
			Sent:        map[string]int64{"heartbeat": 1176, "welcome": 1, "start-task": 3},
			Pending:     2,
			DeadLetters: 1, MailboxFull: 0, Rejected: 1, Malformed: 0, UnknownType: 0,
			BytesIn: 14 << 10, BytesOut: 12 << 10,
		},
	}
}

func at(d time.Duration) time.Time { return testNow.Add(-d) }

// fixtureEvents is a recorded bring-up: host phases, the worker's logs,
// the actor system's join.
func fixtureEvents() []control.Event {
	return []control.Event{
		{Time: at(4*time.Minute + 10*time.Second), Kind: control.EventCluster, Phase: control.ClusterForming},
		{Time: at(4*time.Minute + 9*time.Second), Kind: control.EventHost, Host: "driver-1", Phase: control.PhaseConnect},
		{Time: at(4*time.Minute + 9*time.Second), Kind: control.EventHost, Host: "driver-2", Phase: control.PhaseConnect},
		{Time: at(4*time.Minute + 9*time.Second), Kind: control.EventHost, Host: "es-1", Phase: control.PhaseConnect},
		{Time: at(4*time.Minute + 8*time.Second), Kind: control.EventHost, Host: "driver-1", Phase: control.PhaseUpload},
		{Time: at(4*time.Minute + 5*time.Second), Kind: control.EventHost, Host: "driver-1", Phase: control.PhaseTunnel},
		{Time: at(4*time.Minute + 4*time.Second), Kind: control.EventHost, Host: "driver-1", Phase: control.PhaseStart},
		{Time: at(4*time.Minute + 3*time.Second), Kind: control.EventLog, Host: "driver-1", Text: "worker 1.0.0-test starting, pid 811"},
		{Time: at(4*time.Minute + 2*time.Second), Kind: control.EventLog, Host: "driver-1", Text: "dialing 127.0.0.1:1900"},
		{Time: at(4 * time.Minute), Kind: control.EventActor, Host: "driver-1", Phase: actor.EventJoined, Text: "pid 811, linux/amd64, 8 cpus"},
		{Time: at(4 * time.Minute), Kind: control.EventHost, Host: "driver-1", Phase: control.PhaseJoined},
		{Time: at(3*time.Minute + 59*time.Second), Kind: control.EventHost, Host: "driver-2", Phase: control.PhaseFailed,
			Text: "connect: dial tcp 10.0.0.12:22: i/o timeout after 10s (check the address and that sshd listens on port 22)"},
		{Time: at(3 * time.Minute), Kind: control.EventHost, Host: "es-1", Phase: control.PhaseUpload},
		{Time: at(time.Minute), Kind: control.EventLog, Host: "es-1", Text: "uploading rally-linux-arm64 (12.0 MiB)"},
		{Time: at(30 * time.Second), Kind: control.EventCluster, Phase: control.ClusterUp},
		{Time: at(2 * time.Second), Kind: control.EventLog, Host: "driver-1", Text: "client 3: bulk of 5000 docs in 41ms"},
		{Time: at(time.Second), Kind: control.EventLog, Host: "driver-1", Text: "client 4: \x1b[31mbulk\x1b[0m of 5000 docs in 39ms\r"},
	}
}

// fixtureRace is a race in progress: one task running, one done, one
// waiting.
func fixtureRace() control.RaceProgress {
	return control.RaceProgress{
		ID: "r-1", Track: "geonames", Challenge: "append-no-conflicts", State: control.RaceRunning,
		Started: at(83 * time.Second),
		Tasks: []control.TaskProgress{
			{Task: "delete-index", State: control.TaskDone, Done: 1, Requests: 1, Throughput: 1.5, Unit: "ops/s",
				LatencyP50: 12 * time.Millisecond, LatencyP99: 12 * time.Millisecond,
				ServiceTimeP50: 12 * time.Millisecond, ServiceTimeP99: 12 * time.Millisecond, PerHost: map[string]int64{"driver-1": 1}},
			{Task: "index-append", State: control.TaskRunning, Done: 0.62, Requests: 12034, Errors: 3, Throughput: 84231.4, Unit: "docs/s",
				LatencyP50: 12 * time.Millisecond, LatencyP99: 45300 * time.Microsecond,
				ServiceTimeP50: 10 * time.Millisecond, ServiceTimeP99: 40100 * time.Microsecond,
				PerHost: map[string]int64{"driver-1": 6017, "es-1": 6017}},
			{Task: "query-match-all", State: control.TaskWaiting, Done: 0, Unit: "ops/s"},
		},
	}
}

// fixtureFinishedRace is the same race once done, with its report.
func fixtureFinishedRace() control.RaceProgress {
	p := fixtureRace()
	p.State = control.RaceCompleted
	for i := range p.Tasks {
		p.Tasks[i].State, p.Tasks[i].Done = control.TaskDone, 1
	}
	p.Tasks[2].Requests, p.Tasks[2].Throughput = 1000, 98.2
	p.Tasks[2].LatencyP50, p.Tasks[2].LatencyP99 = 3*time.Millisecond, 9*time.Millisecond
	p.Tasks[2].ServiceTimeP50, p.Tasks[2].ServiceTimeP99 = 2*time.Millisecond, 8*time.Millisecond
	p.Report = `|   Metric                     |   Task            |   Value |   Unit |
|------------------------------|-------------------|---------|--------|
|   Min Throughput             |   index-append    | 80112.3 | docs/s |
|   Mean Throughput            |   index-append    | 84231.4 | docs/s |
|   50th percentile latency    |   index-append    |    12.0 |     ms |
|   99th percentile latency    |   index-append    |    45.3 |     ms |
|   50th percentile service time |   index-append  |    10.0 |     ms |
|   99th percentile service time |   index-append  |    40.1 |     ms |
|   error rate                 |   index-append    |    0.02 |      % |
|   Mean Throughput            |   query-match-all |    98.2 |  ops/s |
|   50th percentile latency    |   query-match-all |     3.0 |     ms |
|   99th percentile latency    |   query-match-all |     9.0 |     ms |
|   error rate                 |   query-match-all |    0.00 |      % |

	race r-1 stored in ~/.rally/races/r-1 (compare with: rally compare r-0 r-1)
`
	return p
}

// fixtureChallenges are geonames' challenges as the CLI would list them:
// the default second, a description with a control character, one with
// none.
func fixtureChallenges() []ChallengeChoice {
	return []ChallengeChoice{
		{Name: "append-no-conflicts-index-only", Tasks: 3,
			Description: "Indexes the whole document corpus using Elasticsearch default settings. We only adjust the number of replicas."},
		{Name: "append-no-conflicts", Default: true, Tasks: 11,
			Description: "Indexes the whole document corpus using Elasticsearch default settings, then runs a couple of queries."},
		{Name: "append-fast-with-conflicts", Tasks: 4,
			Description: "Indexes with \x1b[31mconflicts\x1b[0m:\nupdates of 25% of the ids."},
		{Name: "significant-text", Tasks: 1},
	}
}

// withChallenges gives the UI fixtureChallenges.
func withChallenges(o *Options) { o.Challenges = fixtureChallenges() }

func fixtureDownReport() control.DownReport {
	return control.DownReport{Cluster: "demo", Hosts: []control.HostReport{
		{Name: "driver-1", WorkersStopped: 1, FilesRemoved: 3, LogsFetched: []string{"worker.log"}},
		{Name: "driver-2", Error: "connect: dial tcp 10.0.0.12:22: i/o timeout"},
		{Name: "es-1", WorkersStopped: 0, FilesRemoved: 1},
	}}
}

// items wraps events as the pump hands them over.
func items(evs ...control.Event) eventsMsg {
	msg := eventsMsg{}
	for _, ev := range evs {
		msg.items = append(msg.items, pumpItem{ev: ev})
	}
	return msg
}

func raceEvent(p control.RaceProgress) control.Event {
	return control.Event{Time: testNow, Kind: control.EventRace, Race: &p}
}

// newLoadedModel is a model that has seen the fixture status and events,
// sized w×h, with colours off.
// Each edit changes the options first.
func newLoadedModel(t testing.TB, src *fakeSource, w, h int, edits ...func(*Options)) *Model {
	t.Helper()
	opts := Options{Cluster: "demo", NoColor: true, Now: fixedNow,
		Race: control.RaceRequest{TrackPath: "/home/me/tracks/geonames", TargetHosts: "10.0.0.21:9200"}}
	for _, e := range edits {
		e(&opts)
	}
	m := New(src, opts)
	t.Cleanup(m.Close)
	send(m, tea.WindowSizeMsg{Width: w, Height: h})
	send(m, statusMsg{status: src.status})
	send(m, items(src.events...))
	return m
}

// send runs one message through Update and returns the command it gave.
func send(m *Model, msg tea.Msg) tea.Cmd {
	_, cmd := m.Update(msg)
	return cmd
}

// press sends keys, like "d" or "shift+tab", and returns the last command.
func press(m *Model, keys ...string) tea.Cmd {
	var cmd tea.Cmd
	for _, k := range keys {
		cmd = send(m, keyMsg(k))
	}
	return cmd
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("keyMsg: unknown key " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

var errFake = errors.New("fake failure")
