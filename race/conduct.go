package race

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"rally/actor"
	"rally/driver"
	"rally/metrics"
	"rally/report"
	"rally/telemetry"
	"rally/track"
)

// Config is what the coordinator side needs.
type Config struct {
	System  *actor.System
	Store   report.Store
	Version string
	// Progress receives the race's progress about four times a second and
	// at every change of state; nil means none.
	Progress func(Progress)
	Logger   *slog.Logger
	// StepDelay is how long after a step is planned its clients start, so
	// that every member has its step message by then (default 200 ms).
	StepDelay time.Duration
	// StepGrace is added to the longest a step can last by its schedule
	// (driver.StepBound) to give its deadline (default 60 s). A step
	// without a bound (iterations without a target throughput, a corpus)
	// has no deadline: it ends when its members report it done or are
	// lost, and every message of theirs is delivered or their link is
	// declared broken.
	StepGrace time.Duration
	// DrainTimeout bounds how long an aborted step waits for the members'
	// last measurements (default 3 s).
	DrainTimeout time.Duration
	// HostTelemetry, when set, starts sampling the hosts the target's
	// nodes run on (their processes and the hosts themselves, from /proc)
	// as the race's measured part starts; the function it returns stops
	// the sampling and returns each host's summary by host name. nil (or
	// a nil stop function) means nothing is sampled.
	HostTelemetry func(ctx context.Context) (stop func(context.Context) (map[string]telemetry.Summary, error))
	// MetricsStore, when set, gets every race once it is saved (never one
	// that could not be saved); it must not block: it writes in the
	// background and its caller reports how that went.
	MetricsStore MetricsStore
}

// MetricsStore is where saved races are also published (package
// metricsstore: an Elasticsearch or OpenSearch cluster).
type MetricsStore interface {
	Publish(ctx context.Context, r *report.Race)
}

// Conductor runs races on the members of an actor system, one at a time.
type Conductor struct {
	cfg Config
	log *slog.Logger

	runMu sync.Mutex // one race at a time

	mu      sync.Mutex
	cur     *run
	aborted chan struct{}
	// ended keeps the final progress of the last races, so that a client
	// that missed the end on the event stream can still learn it.
	ended      map[string]Progress
	endedOrder []string
}

// keepEnded is how many ended races ByID remembers.
const keepEnded = 32

// ErrBusy means a race is already running.
var ErrBusy = errors.New("a race is already running")

// NewConductor registers the race handlers on the system.
func NewConductor(cfg Config) *Conductor {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.StepDelay <= 0 {
		cfg.StepDelay = 200 * time.Millisecond
	}
	if cfg.StepGrace <= 0 {
		cfg.StepGrace = time.Minute
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 3 * time.Second
	}
	c := &Conductor{cfg: cfg, log: cfg.Logger, ended: map[string]Progress{}}
	cfg.System.Handle(MsgReady, c.onReady)
	cfg.System.Handle(MsgPrepare, c.onPrepare)
	cfg.System.Handle(MsgMetrics, c.onMetrics)
	cfg.System.Handle(MsgTaskComplete, c.onTaskComplete)
	cfg.System.Handle(MsgStepDone, c.onStepDone)
	return c
}

// Abort stops the running race, if any.
func (c *Conductor) Abort() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil || c.aborted == nil {
		return false
	}
	select {
	case <-c.aborted:
	default:
		close(c.aborted)
	}
	return true
}

// Current returns the running race's progress, or nil.
func (c *Conductor) Current() *Progress {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return nil
	}
	p := c.cur.progress.clone()
	return &p
}

// ByID returns the progress of the race with this id: the running one, or
// one of the last that ended; nil when unknown.
func (c *Conductor) ByID(id string) *Progress {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && c.cur.id == id {
		p := c.cur.progress.clone()
		return &p
	}
	if p, ok := c.ended[id]; ok {
		p = p.clone()
		return &p
	}
	return nil
}

func (p Progress) clone() Progress {
	p.Tasks = slices.Clone(p.Tasks)
	p.Preparing = maps.Clone(p.Preparing)
	p.CorpusPush = maps.Clone(p.CorpusPush)
	p.Lost = maps.Clone(p.Lost)
	return p
}

// Run runs a checked race on the given load-driver members to its end and
// saves it. The returned race is saved even when the race failed or was
// aborted (with its status and everything measured until then).
func (c *Conductor) Run(ctx context.Context, p *Plan, members []string) (*report.Race, error) {
	if !c.runMu.TryLock() {
		return nil, ErrBusy
	}
	defer c.runMu.Unlock()
	if len(members) == 0 {
		return nil, errors.New("no load-driver member to run clients")
	}
	now := time.Now()
	if p.ID == "" {
		p.ID = report.NewRaceID(now)
	}
	race := &report.Race{
		ID: p.ID, Created: now.UTC(),
		Track: p.Track.Name, Challenge: p.Challenge.Name, TrackParams: p.Request.TrackParams,
		TestMode: p.Request.TestMode, RallyVersion: c.cfg.Version, UserTags: p.Request.UserTags,
		Hosts: slices.Clone(members), OnError: p.onError(),
		Pipeline: p.Request.Pipeline, Car: p.Request.Car, Telemetry: p.Request.Telemetry.Devices,
	}
	if race.Pipeline == "" {
		race.Pipeline = "benchmark-only"
	}
	for _, t := range p.Targets {
		race.TargetHosts = append(race.TargetHosts, t.String())
	}

	cur := newRun(race.ID, now)
	cur.progress = Progress{ID: race.ID, Track: race.Track, Challenge: race.Challenge, State: StateRunning, Started: now}
	for si := range p.Challenge.Schedule {
		for ti := range p.Challenge.Schedule[si].Tasks {
			t := &p.Challenge.Schedule[si].Tasks[ti]
			cur.progress.Tasks = append(cur.progress.Tasks, TaskProgress{Task: t.Name, State: TaskWaiting, Done: -1,
				Unit: driver.TaskInfoOf(p.Track, t).ThroughputUnit})
		}
	}
	aborted := make(chan struct{})
	c.mu.Lock()
	c.cur, c.aborted = cur, aborted
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.cur, c.aborted = nil, nil
		c.mu.Unlock()
	}()
	// The race is registered before the target is asked for its version,
	// so an abort or a failure there reaches whoever follows the race.
	if dist, ver, err := detect(ctx, p); err == nil {
		race.Distribution, race.DistributionVersion = dist, ver
	} else {
		err = fmt.Errorf("target %s: %w", p.Targets[0], err)
		final := c.snapshot(cur, p)
		final.State, final.Error = StateFailed, err.Error()
		c.finish(final)
		return nil, err
	}
	select {
	case <-aborted:
		final := c.snapshot(cur, p)
		final.State, final.Error = StateAborted, "aborted by the user"
		c.finish(final)
		return nil, errAborted
	default:
	}
	corpora, err := c.deliverCorpora(ctx, cur, p, members, aborted)
	race.CorpusPush = c.corpusPush(cur)
	if err != nil {
		final := c.snapshot(cur, p)
		final.State, final.Error = StateFailed, err.Error()
		if errors.Is(err, errAborted) {
			final.State, final.Error = StateAborted, "aborted by the user"
		}
		c.finish(final)
		return nil, err
	}
	// The GC rows and the nodes' figures show the race's work, not the
	// nodes' lifetime: the end-of-race snapshot less this one.
	nodesStart, nodesErr := nodeStats(ctx, p)
	var stopHosts func(context.Context) (map[string]telemetry.Summary, error)
	if c.cfg.HostTelemetry != nil {
		stopHosts = c.cfg.HostTelemetry(ctx)
	}
	devices := c.startDevices(p, race.ID)

	stopTicker := c.tickProgress(cur, p)
	rs := &raceSteps{c: c, cur: cur, p: p, active: slices.Clone(members), aborted: aborted, results: map[string]*driver.TaskResult{}, corpora: corpora}
	err = rs.run(ctx)
	stopTicker()
	devices.finish(context.WithoutCancel(ctx))
	if stopHosts != nil {
		hosts, herr := stopHosts(context.WithoutCancel(ctx))
		if herr != nil {
			c.log.Warn("host telemetry incomplete", "err", herr)
		}
		race.HostTelemetry = hosts
	}

	c.mu.Lock()
	race.LoadDrivers = rs.loads
	race.Summary = cur.agg.Summary(reportable(p, rs.results, func(task string) bool {
		l := cur.agg.Live(task)
		return l.Requests+l.WarmupRequests+l.Errors > 0
	}))
	for _, t := range race.Summary.Tasks {
		if m, w := cur.agg.PerSecond(t.Task); m != nil || w != nil {
			if race.PerSecond == nil {
				race.PerSecond = map[string]report.TaskSeconds{}
			}
			race.PerSecond[t.Task] = report.TaskSeconds{Measured: m, Warmup: w}
		}
	}
	for _, h := range cur.lostOrder {
		cur.holesLocked(h)
		race.LostHosts = append(race.LostHosts, *cur.lost[h])
	}
	race.Gaps = cur.gapListLocked()
	race.HostRequests = map[string]map[string]int64{}
	for task, hosts := range cur.perHost {
		race.HostRequests[task] = maps.Clone(hosts)
	}
	duplicates := cur.duplicates
	c.mu.Unlock()
	race.Incomplete = len(race.Gaps) > 0
	race.Status = report.StatusCompleted
	var lostErr *lostError
	switch {
	case errors.Is(err, errAborted):
		race.Status, race.Error = report.StatusAborted, "aborted by the user"
	case errors.As(err, &lostErr) && !lostErr.all:
		race.Status, race.Error = report.StatusAborted, err.Error()
	case err != nil:
		race.Status, race.Error = report.StatusFailed, err.Error()
	}
	if race.Incomplete {
		c.log.Warn("race has gaps in its measurements", "race", race.ID, "gaps", race.Gaps)
	}
	if duplicates > 0 {
		c.log.Warn("duplicate metric deltas dropped", "race", race.ID, "count", duplicates)
	}
	if figs, ferr := clusterFigures(ctx, p); ferr == nil {
		race.Summary.Cluster = figs
	} else {
		c.log.Warn("cluster figures unavailable", "err", ferr)
	}
	if nodesErr == nil {
		var nodesEnd driver.NodeStatsSnapshot
		if nodesEnd, nodesErr = nodeStats(ctx, p); nodesErr == nil {
			race.Summary.Cluster.GCFigures = driver.GCSince(nodesStart.GC(), nodesEnd.GC())
			race.Nodes = c.nodeTelemetry(ctx, p, driver.NodeUsageSince(nodesStart, nodesEnd))
		}
	}
	if nodesErr != nil {
		c.log.Warn("GC and node figures unavailable", "err", nodesErr)
	}
	if serr := c.cfg.Store.Save(race); serr != nil && err == nil {
		err = fmt.Errorf("save race: %w", serr)
	} else if serr == nil && c.cfg.MetricsStore != nil {
		c.cfg.MetricsStore.Publish(ctx, race)
	}
	final := c.snapshot(cur, p)
	final.State = State(race.Status)
	final.Error = race.Error
	var sb strings.Builder
	_ = report.WriteSummary(&sb, race, report.Text)
	final.Report = sb.String()
	c.finish(final)
	return race, err
}

var errAborted = errors.New("race aborted")

// lostError is a race stopped by a lost load driver: with --on-error
// abort, or because none was left.
type lostError struct {
	host, reason string
	step         int
	all          bool
}

func (e *lostError) Error() string {
	if e.all {
		return fmt.Sprintf("every load driver was lost (the last, %s, in step %d: %s)", e.host, e.step, e.reason)
	}
	return fmt.Sprintf("load driver %s lost during step %d: %s", e.host, e.step, e.reason)
}

// raceSteps is one race's walk through its schedule on the coordinator.
type raceSteps struct {
	c       *Conductor
	cur     *run
	p       *Plan
	active  []string // members still in the race, in inventory order
	aborted <-chan struct{}
	results map[string]*driver.TaskResult
	// loads is what each load driver used of its machine, step by step.
	loads   []report.DriverLoad
	corpora map[string]MemberCorpus // what each member's Start says of the corpora
	events  <-chan actor.Event
	// joined is when each member joined, as the race began.
	joined map[string]time.Time
}

func (rs *raceSteps) run(ctx context.Context) error {
	c, cur, p := rs.c, rs.cur, rs.p
	events, stop := c.cfg.System.Subscribe(256)
	defer stop()
	rs.events = events
	rs.joined = map[string]time.Time{}
	for name, st := range c.memberStates() {
		rs.joined[name] = st.joined
	}

	offsets := c.offsets()
	seed := rand.Uint64()
	// Options travel parsed (a file named on the coordinator is read
	// there), secrets included, inside the authenticated link only.
	spec, err := p.Options.Spec()
	if err != nil {
		return err
	}
	for _, m := range slices.Clone(rs.active) {
		path := p.Request.TrackPath
		if mp, ok := p.TrackPaths[m]; ok {
			path = mp
		}
		st := Start{RaceID: cur.id, TrackPath: path, Challenge: p.Challenge.Name, Params: p.Request.TrackParams,
			TestMode: p.Request.TestMode, TaskFilter: p.Request.TaskFilter, TargetHosts: p.Request.TargetHosts, ClientOptions: spec,
			OnError: p.Request.OnError, Epoch: cur.epoch.Add(offsets[m]), Seed: seed, Corpus: rs.corpora[m]}
		if err := c.cfg.System.SendReliable(m, MsgStart, st); err != nil {
			if err := rs.lose(m, "could not send the race's start: "+err.Error()); err != nil {
				return err
			}
		}
	}
	// Every member prepares (loads the track, readies corpora) first.
	err = rs.wait(ctx, nil, func() (bool, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, m := range rs.active {
			r, ok := cur.ready[m]
			if !ok {
				return false, nil
			}
			if r.Error != "" {
				return true, fmt.Errorf("%s: %s", m, r.Error)
			}
		}
		return true, nil
	})
	if err != nil {
		rs.abortMembers(err.Error())
		return err
	}

	var firstErr error
	for i := range p.Challenge.Schedule {
		if err := rs.step(ctx, i); err != nil {
			var stepErr *stepFailed
			if errors.As(err, &stepErr) && p.onError() == driver.OnErrorContinue {
				if firstErr == nil {
					firstErr = stepErr.err
				}
				continue
			}
			if errors.As(err, &stepErr) {
				return stepErr.err
			}
			return err
		}
	}
	return firstErr
}

// stepFailed is a step whose tasks reported an error (a member's share
// failed or aborted): the race goes on or stops by --on-error.
type stepFailed struct{ err error }

func (e *stepFailed) Error() string { return e.err.Error() }

// step runs schedule step i on the active members and waits at its join
// point.
func (rs *raceSteps) step(ctx context.Context, i int) error {
	c, cur, p := rs.c, rs.cur, rs.p
	step := p.Challenge.Schedule[i]
	if len(rs.active) == 0 {
		return errors.New("no load driver left")
	}
	shares := spread(step, rs.active)
	limits := clientLimits(step, shares, rs.active)
	c.mu.Lock()
	cur.step, cur.shares, cur.done, cur.ending, cur.endedBy = i, shares, map[string]StepDone{}, false, ""
	c.mu.Unlock()
	for j := range step.Tasks {
		c.setTaskState(cur, step.Tasks[j].Name, TaskRunning)
	}
	offsets := c.offsets()
	start := time.Now().Add(c.cfg.StepDelay)
	for _, m := range slices.Clone(rs.active) {
		if len(shares[m]) == 0 {
			continue
		}
		msg := Step{RaceID: cur.id, Index: i, Shares: shares[m], ClientLimit: limits[m], StartAt: start.Add(offsets[m])}
		if err := c.cfg.System.SendReliable(m, MsgStep, msg); err != nil {
			if err := rs.lose(m, "could not send the step: "+err.Error()); err != nil {
				return err
			}
		}
	}
	var deadline <-chan time.Time
	if bound, ok := driver.StepBound(&step, p.Request.TestMode); ok {
		limit := c.cfg.StepDelay + bound + c.cfg.StepGrace
		t := time.NewTimer(limit)
		defer t.Stop()
		deadline = t.C
	}
	err := rs.wait(ctx, deadline, func() (bool, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, m := range rs.active {
			if _, ok := cur.done[m]; !ok && len(shares[m]) > 0 {
				return false, nil
			}
		}
		return true, nil
	})
	rs.collect(i)
	for j := range step.Tasks {
		c.setTaskState(cur, step.Tasks[j].Name, TaskDone)
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	var stepErr error
	for _, m := range rs.active {
		if d, ok := cur.done[m]; ok && d.Error != "" && stepErr == nil {
			stepErr = fmt.Errorf("%s: %s", m, d.Error)
		}
	}
	c.mu.Unlock()
	if stepErr != nil {
		return &stepFailed{err: stepErr}
	}
	return nil
}

// collect merges the results the members reported for step i.
func (rs *raceSteps) collect(i int) {
	c, cur := rs.c, rs.cur
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur.step != i {
		return
	}
	for _, m := range slices.Sorted(maps.Keys(cur.done)) {
		d := cur.done[m]
		for k := range d.Results {
			mergeResult(rs.results, &d.Results[k])
		}
		if d.Load != nil {
			l := report.DriverLoad{Host: m, Step: i, DriverLoad: *d.Load, Saturation: d.Load.Saturation()}
			for _, r := range d.Results {
				l.Tasks = append(l.Tasks, r.Info.Task)
			}
			rs.loads = append(rs.loads, l)
		}
	}
}

// wait blocks until ready says the join point is reached, handling what
// happens meanwhile: a lost member (by --on-error), the user's abort, the
// coordinator stopping, a step's deadline. A member error with
// --on-error abort stops the others at once.
func (rs *raceSteps) wait(ctx context.Context, deadline <-chan time.Time, ready func() (bool, error)) error {
	c, cur, p := rs.c, rs.cur, rs.p
	// Lost events may be dropped by a slow subscriber: the members' states
	// are checked every second as well.
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	abortSent := false
	for {
		if ok, err := ready(); ok || err != nil {
			return err
		}
		if p.onError() == driver.OnErrorAbort && !abortSent {
			if m, msg := rs.failedMember(); m != "" {
				// One member's share failed: the others stop now, and the
				// join point is reached as they report what they measured.
				rs.abortMembers(fmt.Sprintf("%s failed: %s", m, msg))
				abortSent = true
			}
		}
		select {
		case <-cur.notify:
		case ev, ok := <-rs.events:
			if !ok {
				rs.events = nil
				continue
			}
			if ev.Kind == actor.EventLost || ev.Kind == actor.EventLeft {
				if slices.Contains(rs.active, ev.Member) {
					reason := ev.Detail
					if ev.Kind == actor.EventLeft {
						reason = "left the cluster: " + ev.Detail
					}
					if err := rs.lose(ev.Member, reason); err != nil {
						return err
					}
				}
			}
		case <-poll.C:
			states := c.memberStates()
			for _, m := range slices.Clone(rs.active) {
				st := states[m]
				reason := ""
				switch {
				case st.state != actor.MemberJoined:
					reason = "member is " + st.state
				case !st.joined.Equal(rs.joined[m]):
					reason = "its worker joined again as a new process"
				}
				if reason != "" {
					if err := rs.lose(m, reason); err != nil {
						return err
					}
				}
			}
		case <-rs.aborted:
			rs.abortMembers("aborted by the user")
			rs.drain()
			return errAborted
		case <-ctx.Done():
			rs.abortMembers("the coordinator is stopping")
			rs.drain()
			return ctx.Err()
		case <-deadline:
			c.mu.Lock()
			step := cur.step
			var late []string
			for _, m := range rs.active {
				if _, ok := cur.done[m]; !ok && len(cur.shares[m]) > 0 {
					late = append(late, m)
				}
			}
			c.mu.Unlock()
			reason := fmt.Sprintf("step %d passed its deadline (its schedule's length plus %s) without a report from %s", step, c.cfg.StepGrace, strings.Join(late, ", "))
			rs.abortMembers(reason)
			rs.drain()
			return errors.New(reason)
		}
	}
}

// failedMember names a member whose share of the current step reported
// an error.
func (rs *raceSteps) failedMember() (string, string) {
	c, cur := rs.c, rs.cur
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range rs.active {
		if d, ok := cur.done[m]; ok && d.Error != "" {
			return m, d.Error
		}
	}
	return "", ""
}

// lose takes a member out of the race: it is named in the race with the
// clients it ran; what it measured stays merged. With --on-error abort (or
// when no member is left) the race stops: the other members are told to
// stop and what they measured is collected.
func (rs *raceSteps) lose(m, reason string) error {
	c, cur := rs.c, rs.cur
	i := slices.Index(rs.active, m)
	if i < 0 {
		return nil
	}
	rs.active = slices.Delete(rs.active, i, i+1)
	c.mu.Lock()
	lh := &report.LostHost{Host: m, At: time.Now().UTC(), Step: cur.step, Reason: reason, LastDelta: cur.lastDeltaLocked(m)}
	if cur.step >= 0 {
		names := rs.p.Challenge.Schedule[cur.step].Tasks
		for _, sh := range cur.shares[m] {
			if lh.Clients == nil {
				lh.Clients = map[string][]int{}
			}
			lh.Clients[names[sh.Task].Name] = sh.ClientIndexes
		}
	}
	cur.lost[m] = lh
	cur.lostOrder = append(cur.lostOrder, m)
	if cur.progress.Lost == nil {
		cur.progress.Lost = map[string]string{}
	}
	cur.progress.Lost[m] = reason
	step := cur.step
	c.mu.Unlock()
	c.log.Warn("load driver lost during the race", "race", cur.id, "member", m, "step", step, "reason", reason, "on_error", rs.p.onError())
	if len(rs.active) == 0 {
		return &lostError{host: m, reason: reason, step: step, all: true}
	}
	if rs.p.onError() == driver.OnErrorAbort {
		rs.abortMembers(fmt.Sprintf("load driver %s was lost", m))
		rs.drain()
		return &lostError{host: m, reason: reason, step: step}
	}
	return nil
}

// drain waits a little for the active members to report the aborted
// step, keeping what they measured.
func (rs *raceSteps) drain() {
	c, cur := rs.c, rs.cur
	deadline := time.NewTimer(c.cfg.DrainTimeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		waiting := 0
		for _, m := range rs.active {
			if _, ok := cur.done[m]; !ok && len(cur.shares[m]) > 0 {
				waiting++
			}
		}
		step := cur.step
		c.mu.Unlock()
		if waiting == 0 || step < 0 {
			rs.collect(step)
			return
		}
		select {
		case <-cur.notify:
		case <-deadline.C:
			rs.collect(step)
			return
		}
	}
}

func (rs *raceSteps) abortMembers(reason string) {
	for _, m := range rs.active {
		if err := rs.c.cfg.System.SendReliable(m, MsgAbort, Abort{RaceID: rs.cur.id, Reason: reason}); err != nil {
			rs.c.log.Warn("abort not sent", "member", m, "err", err)
		}
	}
}

// offsets are the members' clock offsets (member minus coordinator).
func (c *Conductor) offsets() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, m := range c.cfg.System.Status().Members {
		out[m.Name] = m.ClockOffset
	}
	return out
}

// memberState is what the race watches of a member: its state and when
// it joined (a worker that was restarted joins anew and knows nothing of
// the race).
type memberState struct {
	state  string
	joined time.Time
}

// memberStates are the members' states in the actor system.
func (c *Conductor) memberStates() map[string]memberState {
	out := map[string]memberState{}
	for _, m := range c.cfg.System.Status().Members {
		out[m.Name] = memberState{state: m.State, joined: m.Joined}
	}
	return out
}

func (c *Conductor) setTaskState(cur *run, task string, state TaskState) {
	c.mu.Lock()
	for i := range cur.progress.Tasks {
		if cur.progress.Tasks[i].Task == task {
			cur.progress.Tasks[i].State = state
			if state == TaskDone {
				cur.progress.Tasks[i].Done = 1
			}
		}
	}
	c.mu.Unlock()
}

// snapshot fills the live figures into the race's progress.
func (c *Conductor) snapshot(cur *run, p *Plan) Progress {
	c.mu.Lock()
	defer c.mu.Unlock()
	pr := cur.progress.clone()
	tasks := map[string]*track.Task{}
	for si := range p.Challenge.Schedule {
		for ti := range p.Challenge.Schedule[si].Tasks {
			t := &p.Challenge.Schedule[si].Tasks[ti]
			tasks[t.Name] = t
		}
	}
	for i := range pr.Tasks {
		tp := &pr.Tasks[i]
		live := cur.agg.Live(tp.Task)
		tp.Requests, tp.Errors, tp.Throughput = live.Requests+live.WarmupRequests, live.Errors, live.Throughput
		tp.LatencyP50, tp.LatencyP99 = live.LatencyP50, live.LatencyP99
		tp.ServiceTimeP50, tp.ServiceTimeP99 = live.ServiceTimeP50, live.ServiceTimeP99
		tp.PerHost = maps.Clone(cur.perHost[tp.Task])
		if t := tasks[tp.Task]; t != nil && tp.State == TaskRunning {
			// Only iteration-bounded tasks know their share done; a
			// time-bounded one stays at -1 (unknown).
			if n := int64(t.WarmupIterations+t.Iterations) * int64(max(t.Clients, 1)); n > 0 {
				tp.Done = min(float64(tp.Requests)/float64(n), 1)
			}
		}
	}
	return pr
}

func (c *Conductor) publish(p Progress) {
	if c.cfg.Progress != nil {
		c.cfg.Progress(p)
	}
}

// finish records a race's final progress (for ByID) and publishes it.
func (c *Conductor) finish(p Progress) {
	c.mu.Lock()
	if c.cur != nil && c.cur.id == p.ID {
		c.cur.progress.State = p.State
	}
	if _, ok := c.ended[p.ID]; !ok {
		c.endedOrder = append(c.endedOrder, p.ID)
	}
	c.ended[p.ID] = p.clone()
	for len(c.endedOrder) > keepEnded {
		delete(c.ended, c.endedOrder[0])
		c.endedOrder = c.endedOrder[1:]
	}
	c.mu.Unlock()
	c.publish(p)
}

// tickProgress publishes progress four times a second until stopped.
func (c *Conductor) tickProgress(cur *run, p *Plan) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				c.publish(c.snapshot(cur, p))
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

// detect reads the target's distribution and version from GET /.
func detect(ctx context.Context, p *Plan) (string, string, error) {
	client, err := driver.NewClient("", p.Targets[0], p.Options)
	if err != nil {
		return "", "", err
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return driver.DetectDistribution(dctx, client)
}

// clusterFigures reads the cumulative figures of the report's cluster
// rows at the end of a race.
func clusterFigures(ctx context.Context, p *Plan) (metrics.ClusterFigures, error) {
	client, err := driver.NewClient("", p.Targets[0], p.Options)
	if err != nil {
		return metrics.ClusterFigures{}, err
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return driver.ClusterFigures(sctx, client)
}

// nodeStats reads the nodes' cumulative figures (GC, CPU, disk, heap).
func nodeStats(ctx context.Context, p *Plan) (driver.NodeStatsSnapshot, error) {
	client, err := driver.NewClient("", p.Targets[0], p.Options)
	if err != nil {
		return nil, err
	}
	defer closeClient(client) // twice a race: nothing to keep alive for
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return driver.ReadNodeStats(sctx, client)
}

// nodeTelemetry is the race's usage of each node with the node's
// addresses and version, read once at the end; without them (an older
// node that refuses the call) the figures stay.
func (c *Conductor) nodeTelemetry(ctx context.Context, p *Plan, usage []driver.NodeUsage) []report.NodeTelemetry {
	var info map[string]driver.NodeInfo
	if client, err := driver.NewClient("", p.Targets[0], p.Options); err == nil {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		info, err = driver.ReadNodeInfo(sctx, client)
		cancel()
		closeClient(client)
		if err != nil {
			c.log.Warn("node versions unavailable", "err", err)
		}
	}
	var nodes []report.NodeTelemetry
	for _, u := range usage {
		in := info[u.Name]
		nodes = append(nodes, report.NodeTelemetry{
			Name: u.Name, Host: cmp.Or(in.Host, u.Host), IP: in.IP, Version: in.Version, Duration: u.Elapsed,
			GCFigures: u.GC, CPUTime: u.CPUTime, CPUPercent: u.CPUPercent,
			DiskWriteBytes: u.DiskWriteBytes, DiskReadBytes: u.DiskReadBytes,
			HeapUsedBytes: u.HeapUsedBytes, HeapMaxBytes: u.HeapMaxBytes,
		})
	}
	return nodes
}

// closeClient releases a client's connections when it holds any.
func closeClient(client driver.Client) {
	if cl, ok := client.(interface{ Close() }); ok {
		cl.Close()
	}
}
