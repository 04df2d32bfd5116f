package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"rally/control"
)

// Source is the coordinator as the UI sees it. The control client
// satisfies it; tests use a fake.
type Source interface {
	// Status is the coordinator's current status.
	Status(ctx context.Context) (control.Status, error)
	// Events streams the coordinator's events to fn until ctx ends or the
	// stream breaks; it blocks meanwhile.
	Events(ctx context.Context, fn func(control.Event)) error
	// Down tears the cluster down and reports what it did on each host.
	Down(ctx context.Context, req control.DownRequest) (control.DownReport, error)
	// StartRace starts a race on the cluster.
	StartRace(ctx context.Context, req control.RaceRequest) (control.RaceStarted, error)
	// AbortRace aborts the running race.
	AbortRace(ctx context.Context) error
	// RaceByID returns a race's progress, running or ended (nil when the
	// coordinator does not know it): the UI asks for it when race events
	// have gone quiet, so that a dropped event cannot hide a race's end.
	RaceByID(ctx context.Context, id string) (*control.RaceProgress, error)
}

// Options configure the UI.
type Options struct {
	// Cluster names the cluster until the coordinator's status does.
	Cluster string
	// Race is what `r` starts: track path, target hosts and the rest. With
	// no track path, `r` says so instead of asking the coordinator.
	Race control.RaceRequest
	// Challenges are the challenges of the track at Race.TrackPath, which
	// the caller reads. With more than one, the Race tab lets the user
	// pick one and `r` sends it as Race.Challenge; the picker starts on
	// Race.Challenge if it names one of them, else on the default one.
	// With one or none, `r` sends Race as it is.
	Challenges []ChallengeChoice
	// NoColor draws without any colour or other escape sequence in the
	// views. The CLI sets it from NO_COLOR or a flag; this package never
	// reads the environment. (Bubble Tea's own profile detection honours
	// NO_COLOR only for values strconv.ParseBool takes as true, while
	// no-color.org means any non-empty value: set NoColor for those.)
	NoColor bool
	// Now is the clock ages and countdowns are measured against; nil
	// means time.Now.
	Now func() time.Time
}

// Timings of the UI's requests.
const (
	statusEvery   = time.Second     // status poll period
	statusTimeout = 5 * time.Second // one status request
	callTimeout   = 30 * time.Second
	downTimeout   = 3 * time.Minute // the coordinator gives teardown 2 minutes
	noticeFor     = 8 * time.Second // how long a notice stays in the status line
	defaultWidth  = 80
	defaultHeight = 24
)

type tab int

const (
	tabCluster tab = iota
	tabActors
	tabRace
	tabLogs
	numTabs
)

var tabNames = [numTabs]string{"Cluster", "Actors", "Race", "Logs"}

// confirmKind is the question the status line is asking, if any.
type confirmKind int

const (
	confirmNone confirmKind = iota
	confirmAbort
	confirmDown
)

// Messages the model's commands deliver.
type (
	tickMsg   struct{}
	statusMsg struct {
		status control.Status
		err    error
	}
	raceStartedMsg struct {
		started control.RaceStarted
		err     error
	}
	raceAbortedMsg struct{ err error }
	// raceProgressMsg answers RaceByID.
	raceProgressMsg struct {
		progress *control.RaceProgress
		err      error
	}
	downDoneMsg struct {
		report control.DownReport
		err    error
	}
)

// scrollPos is a tab's scroll position: y lines down from the top, x
// columns right.
type scrollPos struct{ y, x int }

// Model is the root model: it holds one view model per tab, routes keys
// and coordinator messages to them, and draws the frame around the current
// one. All I/O happens in commands and the event goroutine; Update and
// View only touch the model.
type Model struct {
	src  Source
	opts Options
	now  func() time.Time
	th   theme

	// ctx ends when the UI quits or Close is called; it bounds every
	// request and the event goroutine.
	ctx    context.Context
	cancel context.CancelFunc
	pump   *eventPump
	// stopStream ends the event goroutine alone (after teardown).
	stopStream context.CancelFunc
	wg         sync.WaitGroup

	width, height int
	// at is the clock as of the last message: View draws ages against it,
	// so a view is a function of the model alone.
	at time.Time

	tab     tab
	help    bool
	confirm confirmKind
	scroll  [numTabs]scrollPos

	status    control.Status
	statusErr string
	polling   bool
	// raceSeen is when the race's progress last arrived; racePolling is
	// set while the UI asks for it.
	raceSeen    time.Time
	racePolling bool
	streamErr   string
	tornDown    bool
	notice      string
	noticeBad   bool
	noticeTill  time.Time

	cluster clusterView
	actors  actorsView
	race    raceView
	logs    logsView
}

var _ tea.Model = (*Model)(nil)

// New returns the root model for src. It starts nothing: the event stream
// and status polling begin with Init, when a program runs the model.
func New(src Source, opts Options) *Model {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Model{
		src:    src,
		opts:   opts,
		now:    now,
		th:     newTheme(opts.NoColor),
		ctx:    ctx,
		cancel: cancel,
		pump:   newEventPump(),
		width:  defaultWidth,
		height: defaultHeight,
		at:     now(),
		race:   newRaceView(opts.Challenges, opts.Race.Challenge),
		logs:   newLogsView(defaultLogLines),
	}
	m.status.Cluster = opts.Cluster
	return m
}

// Close stops the event goroutine and any request in flight, and waits
// for the goroutine. Run calls it; a test that runs the model itself
// should too.
func (m *Model) Close() {
	m.cancel()
	m.wg.Wait()
}

// Run shows the UI on out, reading keys from in (nil: no input, for
// tests), until the user quits or ctx ends. Quitting leaves the cluster
// as it is: only `d` and a yes tear it down.
func Run(ctx context.Context, src Source, opts Options, in io.Reader, out io.Writer) error {
	m := New(src, opts)
	defer m.Close()
	// The window size is a fallback for an output that is not a terminal;
	// a terminal's own size wins.
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out),
		tea.WithWindowSize(defaultWidth, defaultHeight)}
	if opts.NoColor {
		popts = append(popts, tea.WithColorProfile(colorprofile.Ascii))
	}
	_, err := tea.NewProgram(m, popts...).Run()
	switch {
	case err == nil, errors.Is(err, tea.ErrInterrupted):
		return nil
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return nil
	}
	return fmt.Errorf("tui: %w", err)
}

// Init starts the event goroutine, the first status request and the
// poll ticker.
func (m *Model) Init() tea.Cmd {
	if m.stopStream == nil {
		ctx, cancel := context.WithCancel(m.ctx)
		m.stopStream = cancel
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.pump.run(ctx, m.src)
		}()
	}
	m.polling = true
	return tea.Batch(m.pump.next(m.ctx), m.fetchStatus(), tick())
}

func tick() tea.Cmd {
	return tea.Tick(statusEvery, func(time.Time) tea.Msg { return tickMsg{} })
}

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.at = m.now()
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyPressMsg:
		return m, m.onKey(msg)
	case tickMsg:
		if m.tornDown {
			return m, nil
		}
		cmds := []tea.Cmd{tick()}
		if !m.polling {
			m.polling = true
			cmds = append(cmds, m.fetchStatus())
		}
		if cmd := m.pollQuietRace(); cmd != nil {
			cmds = append(cmds, cmd)
		}
		return m, tea.Batch(cmds...)
	case raceProgressMsg:
		m.racePolling = false
		if msg.err == nil && msg.progress != nil {
			m.applyRace(m.at, *msg.progress)
		}
	case statusMsg:
		m.polling = false
		m.onStatus(msg)
	case eventsMsg:
		for _, it := range msg.items {
			m.onEvent(it)
		}
		return m, m.pump.next(m.ctx)
	case raceStartedMsg:
		if msg.err != nil {
			m.setNotice(true, "start race: %v", msg.err)
			break
		}
		m.setNotice(false, "race %s started", msg.started.ID)
		m.log("", fmt.Sprintf("race %s started", msg.started.ID))
	case raceAbortedMsg:
		if msg.err != nil {
			m.setNotice(true, "abort race: %v", msg.err)
			break
		}
		m.setNotice(false, "race aborted")
	case downDoneMsg:
		m.onDown(msg)
	}
	return m, nil
}

func (m *Model) onStatus(msg statusMsg) {
	if m.tornDown {
		return
	}
	if msg.err != nil {
		m.statusErr = msg.err.Error()
		return
	}
	m.statusErr = ""
	m.status = msg.status
	if m.status.Cluster == "" {
		m.status.Cluster = m.opts.Cluster
	}
	m.cluster.setHosts(msg.status.Hosts)
	m.actors.set(msg.status.Actors, m.at)
	for _, h := range msg.status.Hosts {
		m.logs.addHost(printable(h.Name))
	}
}

func (m *Model) onEvent(it pumpItem) {
	if it.err != nil {
		if !m.tornDown {
			m.streamErr = it.err.Error()
		}
		return
	}
	m.streamErr = ""
	ev := it.ev
	switch ev.Kind {
	case control.EventLog, control.EventProvision:
		m.logs.add(logLine{time: ev.Time, host: ev.Host, kind: ev.Kind, text: ev.Text})
	case control.EventActor:
		text := ev.Phase
		if ev.Text != "" {
			text += ": " + ev.Text
		}
		m.logs.add(logLine{time: ev.Time, host: ev.Host, kind: control.EventActor, text: text})
	case control.EventHost:
		before := m.cluster.applyHost(ev)
		if before != ev.Phase {
			text := ev.Phase
			if ev.Text != "" {
				text += ": " + ev.Text
			}
			m.logs.add(logLine{time: ev.Time, host: ev.Host, kind: control.EventHost, text: text})
		}
	case control.EventCluster:
		if ev.Phase != "" && ev.Phase != m.status.Phase {
			m.status.Phase = ev.Phase
			m.logs.add(logLine{time: ev.Time, kind: control.EventCluster, text: ev.Phase})
		}
	case control.EventRace:
		if ev.Race == nil {
			return
		}
		m.applyRace(ev.Time, *ev.Race)
	}
}

// applyRace takes a race's progress, from an event or a poll, and logs a
// change of state.
func (m *Model) applyRace(at time.Time, p control.RaceProgress) {
	m.raceSeen = m.at
	if m.race.apply(p) {
		text := "race " + p.ID + " " + string(p.State)
		if p.Error != "" {
			text += ": " + p.Error
		}
		m.logs.add(logLine{time: at, kind: control.EventRace, text: text})
	}
}

// raceQuiet is how long a running race may go without an event before
// the UI asks the coordinator for it: progress comes four times a second,
// so a quiet stream means dropped events or a broken stream.
const raceQuiet = 3 * time.Second

// pollQuietRace asks for the running race when its events went quiet.
func (m *Model) pollQuietRace() tea.Cmd {
	if !m.race.running() || m.racePolling || m.at.Sub(m.raceSeen) < raceQuiet {
		return nil
	}
	m.racePolling = true
	ctx, src, id := m.ctx, m.src, m.race.progress.ID
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, statusTimeout)
		defer cancel()
		p, err := src.RaceByID(ctx, id)
		return raceProgressMsg{progress: p, err: err}
	}
}

func (m *Model) onDown(msg downDoneMsg) {
	m.cluster.down = downDone
	if msg.err != nil {
		m.cluster.downErr = msg.err.Error()
		m.setNotice(true, "teardown: %v", msg.err)
		return
	}
	m.cluster.downReport = msg.report
	m.tornDown = true
	m.status.Phase = control.PhaseTornDown
	m.statusErr, m.streamErr = "", ""
	if m.stopStream != nil {
		m.stopStream()
	}
	for _, h := range msg.report.Hosts {
		m.log(h.Name, "teardown: "+hostReportLine(theme{plain: true}, h))
	}
}

// log adds a line of the UI's own to the Logs tab.
func (m *Model) log(host, text string) {
	m.logs.add(logLine{time: m.at, host: host, text: text})
}

func (m *Model) setNotice(bad bool, format string, args ...any) {
	m.notice = printable(fmt.Sprintf(format, args...))
	m.noticeBad = bad
	m.noticeTill = m.at.Add(noticeFor)
}

// Commands: each captures what it needs, never the model.

func (m *Model) fetchStatus() tea.Cmd {
	ctx, src := m.ctx, m.src
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, statusTimeout)
		defer cancel()
		st, err := src.Status(ctx)
		return statusMsg{status: st, err: err}
	}
}

// raceRequest is what `r` sends: Options.Race with the picker's
// challenge, if there is a picker.
func (m *Model) raceRequest() control.RaceRequest {
	req := m.opts.Race
	if c, ok := m.race.chosen(); ok {
		req.Challenge = c.Name
	}
	return req
}

func (m *Model) startRace(req control.RaceRequest) tea.Cmd {
	ctx, src := m.ctx, m.src
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		started, err := src.StartRace(ctx, req)
		return raceStartedMsg{started: started, err: err}
	}
}

func (m *Model) abortRace() tea.Cmd {
	ctx, src := m.ctx, m.src
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		return raceAbortedMsg{err: src.AbortRace(ctx)}
	}
}

func (m *Model) tearDown() tea.Cmd {
	ctx, src := m.ctx, m.src
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, downTimeout)
		defer cancel()
		rep, err := src.Down(ctx, control.DownRequest{})
		return downDoneMsg{report: rep, err: err}
	}
}

// View draws the frame: title, tabs, the current tab's body, the status
// line and the key hints.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "rally · " + printable(m.clusterName())
	return v
}

func (m *Model) clusterName() string {
	if m.status.Cluster != "" {
		return m.status.Cluster
	}
	return "?"
}

// bodyHeight is what is left for a tab between the header (3 lines) and
// the footer (2).
func (m *Model) bodyHeight() int { return max(m.height-5, 0) }

func (m *Model) render() string {
	w, h := max(m.width, 1), max(m.height, 1)
	bodyH := m.bodyHeight()
	body, pos := m.body(w, bodyH)
	lines := make([]string, 0, bodyH+5)
	lines = append(lines, m.titleLine(), m.tabLine(pos), m.th.paint(m.th.rule, strings.Repeat("─", w)))
	lines = append(lines, body...)
	for len(lines) < 3+bodyH {
		lines = append(lines, "")
	}
	lines = append(lines, m.statusLine(), m.keyLine())
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = fitLine(l, 0, w)
	}
	return strings.Join(lines, "\n")
}

func (m *Model) renderCtx(w int) renderCtx { return renderCtx{width: w, at: m.at, th: m.th} }

// content is the full body of a scrolling tab, before the window.
func (m *Model) content(t tab, w int) []string {
	rc := m.renderCtx(w)
	switch t {
	case tabCluster:
		return m.cluster.lines(rc, m.status, m.actors.members())
	case tabActors:
		return m.actors.lines(rc)
	case tabRace:
		return m.race.lines(rc, m.raceRequest())
	}
	return nil
}

// body draws the current tab's window of height lines and says where it
// is ("" when all of it shows).
func (m *Model) body(w, height int) (lines []string, pos string) {
	if m.help {
		return m.helpLines(), ""
	}
	sp := m.scroll[m.tab]
	if m.tab == tabLogs {
		lines = m.logs.render(m.renderCtx(w), height)
		for i := range lines {
			lines[i] = fitLine(lines[i], sp.x, w)
		}
		return lines, scrollX(sp.x)
	}
	all := m.content(m.tab, w)
	y := min(sp.y, max(len(all)-height, 0))
	end := min(y+height, len(all))
	lines = make([]string, 0, end-y)
	for _, l := range all[y:end] {
		lines = append(lines, fitLine(l, sp.x, w))
	}
	if len(all) > height && height > 0 {
		pos = fmt.Sprintf("lines %d-%d of %d", y+1, end, len(all))
	}
	if x := scrollX(sp.x); x != "" {
		pos = strings.TrimPrefix(pos+" · "+x, " · ")
	}
	return lines, pos
}

func scrollX(x int) string {
	if x == 0 {
		return ""
	}
	return fmt.Sprintf("→%d", x)
}

func (m *Model) titleLine() string {
	st := m.status
	s := m.th.paint(m.th.title, "rally") + " · cluster " + printable(m.clusterName())
	if st.Phase != "" {
		s += " " + printable(st.Phase)
	}
	if c := st.Coordinator; c.PID != 0 {
		s += fmt.Sprintf(" · coordinator pid %d, rally %s, up %s", c.PID, printable(dash(c.Version)), upFor(m.at, c.Started))
	}
	if m.race.running() {
		s += " · race " + printable(m.race.progress.ID) + " running"
	}
	return s
}

func (m *Model) tabLine(pos string) string {
	parts := make([]string, 0, numTabs+2)
	for i, name := range tabNames {
		label := fmt.Sprintf("%d %s", i+1, name)
		if tab(i) == m.tab && !m.help {
			label = m.th.paint(m.th.active, "["+label+"]")
		}
		parts = append(parts, label)
	}
	if m.help {
		parts = append(parts, m.th.paint(m.th.active, "[? Help]"))
	}
	if pos != "" {
		parts = append(parts, " "+m.th.paint(m.th.dim, pos))
	}
	return strings.Join(parts, "  ")
}

// statusLine shows, most urgent first: a question, a teardown in
// progress, a fresh notice, the teardown's end, a broken link.
func (m *Model) statusLine() string {
	th := m.th
	name := printable(m.clusterName())
	switch {
	case m.confirm == confirmDown:
		return th.paint(th.warn, fmt.Sprintf("Tear down cluster %s? (y/n)", name))
	case m.confirm == confirmAbort:
		if m.race.running() {
			return th.paint(th.warn, fmt.Sprintf("Abort race %s? (y/n)", printable(m.race.progress.ID)))
		}
		return th.paint(th.warn, "Abort the running race? (y/n)")
	case m.cluster.down == downRunning:
		return th.paint(th.warn, fmt.Sprintf("tearing down cluster %s…", name))
	case m.notice != "" && m.at.Before(m.noticeTill):
		if m.noticeBad {
			return th.paint(th.bad, m.notice)
		}
		return th.paint(th.ok, m.notice)
	case m.tornDown:
		return th.paint(th.ok, fmt.Sprintf("cluster %s is torn down · q quits", name))
	case m.statusErr != "":
		return th.paint(th.bad, "status: "+printable(m.statusErr))
	case m.streamErr != "":
		return th.paint(th.bad, "events: "+printable(m.streamErr)+" (reconnecting)")
	}
	return ""
}

func (m *Model) keyLine() string {
	k := func(key, what string) string { return m.th.paint(m.th.key, key) + " " + what }
	onRace := m.tab == tabRace && !m.help
	parts := []string{k("1-4", "views")}
	switch {
	case m.picking():
		parts = append(parts, k("↑↓", "choose"), k("←→", "scroll"), k("r/enter", "race"))
	case onRace && m.race.finished():
		parts = append(parts, k("↑↓←→", "scroll"), k("r", "race"), k("n", "new race"))
	default:
		parts = append(parts, k("↑↓←→", "scroll"))
		if m.tab == tabLogs {
			parts = append(parts, k("f", "filter"))
		}
		parts = append(parts, k("r", "race"), k("a", "abort"))
	}
	parts = append(parts, k("d", "down"), k("?", "help"), k("q", "quit"))
	return strings.Join(parts, " · ")
}
