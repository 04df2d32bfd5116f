package race

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"rally/actor"
	"rally/control"
	"rally/driver"
	"rally/metrics"
	"rally/report"
	"rally/track"
)

// Config is what the coordinator side needs.
type Config struct {
	System  *actor.System
	Store   report.Store
	Version string
	// Progress receives the race's progress about four times a second and
	// at every change of state; nil means none.
	Progress func(control.RaceProgress)
	Logger   *slog.Logger
	// StepDelay is how long members wait after a step message before they
	// start, so that they start together (default 200 ms).
	StepDelay time.Duration
}

// Conductor runs races on the members of an actor system, one at a time.
type Conductor struct {
	cfg Config
	log *slog.Logger

	runMu sync.Mutex // one race at a time

	mu      sync.Mutex
	cur     *run
	aborted chan struct{}
}

// run is the race under way.
type run struct {
	id       string
	epoch    time.Time
	agg      *metrics.Aggregator
	ready    chan Ready
	done     chan stepDoneFrom
	progress control.RaceProgress
	perHost  map[string]map[string]int64 // task → member → requests
}

type stepDoneFrom struct {
	from string
	StepDone
}

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
	c := &Conductor{cfg: cfg, log: cfg.Logger}
	cfg.System.Handle(MsgReady, c.onReady)
	cfg.System.Handle(MsgPrepare, c.onPrepare)
	cfg.System.Handle(MsgMetrics, c.onMetrics)
	cfg.System.Handle(MsgStepDone, c.onStepDone)
	return c
}

func (c *Conductor) current(id string) *run {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil || c.cur.id != id {
		return nil // no race, or a message of another (or no) race
	}
	return c.cur
}

func (c *Conductor) onReady(from string, body json.RawMessage) {
	r, err := decode[Ready](body)
	if err != nil {
		return
	}
	if cur := c.current(r.RaceID); cur != nil {
		r.RaceID = from // carry the sender through the channel
		cur.ready <- r
	}
}

func (c *Conductor) onPrepare(from string, body json.RawMessage) {
	pr, err := decode[Preparing](body)
	if err != nil {
		return
	}
	cur := c.current(pr.RaceID)
	if cur == nil {
		return
	}
	line := fmt.Sprintf("%s %s %s", pr.Kind, pr.File, sizeProgress(pr.Done, pr.Total))
	if pr.Final {
		line = fmt.Sprintf("%s %s done (%s)", pr.Kind, pr.File, sizeProgress(pr.Done, 0))
	}
	c.mu.Lock()
	if cur.progress.Preparing == nil {
		cur.progress.Preparing = map[string]string{}
	}
	cur.progress.Preparing[from] = line
	p := cur.progress
	p.Preparing = maps.Clone(p.Preparing)
	c.mu.Unlock()
	if c.cfg.Progress != nil {
		c.cfg.Progress(p)
	}
}

// sizeProgress is "12.3 of 45.6 MiB (27%)", or "12.3 MiB" without a total.
func sizeProgress(done, total int64) string {
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	if total <= 0 {
		return fmt.Sprintf("%.1f MiB", mib(done))
	}
	return fmt.Sprintf("%.1f of %.1f MiB (%.0f%%)", mib(done), mib(total), 100*float64(done)/float64(total))
}

func (c *Conductor) onMetrics(from string, body json.RawMessage) {
	m, err := decode[Metrics](body)
	if err != nil || m.Delta == nil {
		c.log.Warn("bad race metrics", "from", from, "err", err)
		return
	}
	cur := c.current(m.RaceID)
	if cur == nil {
		return
	}
	// The member's epoch is the race epoch in its own clock: bucket
	// seconds are relative to it, so they align once the epochs agree.
	m.Delta.Epoch = cur.epoch
	if err := cur.agg.Add(m.Delta); err != nil {
		c.log.Warn("race metrics not merged", "from", from, "err", err)
		return
	}
	c.mu.Lock()
	if cur.perHost[m.Delta.Task] == nil {
		cur.perHost[m.Delta.Task] = map[string]int64{}
	}
	cur.perHost[m.Delta.Task][from] += m.Delta.Requests + m.Delta.WarmupRequests
	c.mu.Unlock()
}

func (c *Conductor) onStepDone(from string, body json.RawMessage) {
	d, err := decode[StepDone](body)
	if err != nil {
		return
	}
	if cur := c.current(d.RaceID); cur != nil {
		cur.done <- stepDoneFrom{from: from, StepDone: d}
	}
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
func (c *Conductor) Current() *control.RaceProgress {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return nil
	}
	p := c.cur.progress
	p.Tasks = append([]control.TaskProgress(nil), p.Tasks...)
	p.Preparing = maps.Clone(p.Preparing)
	return &p
}

// Plan is a race request checked and loaded on the coordinator.
type Plan struct {
	// ID is the race's id; Run makes one when empty.
	ID        string
	Request   control.RaceRequest
	Track     *track.Track
	Challenge *track.Challenge
	Targets   []driver.Target
	Options   driver.ClientOptions
	// TrackPaths says where a member finds the track on its own host when
	// that is not Request.TrackPath (the coordinator pushed it there).
	TrackPaths map[string]string
}

// Check loads the track and options of a request and refuses, up front,
// what cannot run: unknown operation types and operations that need a
// track.py, which are named.
func Check(req control.RaceRequest) (*Plan, error) {
	if req.TrackPath == "" {
		return nil, errors.New("no track: give --track-path DIR")
	}
	t, err := track.Load(track.LoadOptions{Path: req.TrackPath, Params: req.TrackParams, TestMode: req.TestMode})
	if err != nil {
		return nil, err
	}
	ch, err := t.Challenge(req.Challenge)
	if err != nil {
		return nil, err
	}
	if reqs := t.CustomRequirements(ch); len(reqs) > 0 {
		var names []string
		for _, r := range reqs {
			names = append(names, fmt.Sprintf("task %q needs track.py %s %q", r.Task, r.Kind, r.Name))
		}
		return nil, fmt.Errorf("challenge %q cannot run without the track's Python code: %s", ch.Name, strings.Join(names, "; "))
	}
	if err := driver.Validate(t, ch); err != nil {
		return nil, err
	}
	targets, err := driver.ParseTargetHosts(req.TargetHosts)
	if err != nil {
		return nil, err
	}
	opts := driver.DefaultClientOptions()
	if req.ClientOptions != "" {
		if opts, err = driver.ParseClientOptions(req.ClientOptions); err != nil {
			return nil, err
		}
	}
	switch req.OnError {
	case "", driver.OnErrorContinue, driver.OnErrorAbort:
	default:
		return nil, fmt.Errorf("on-error %q: want continue or abort", req.OnError)
	}
	return &Plan{Request: req, Track: t, Challenge: ch, Targets: targets, Options: opts}, nil
}

// Run runs a checked race on the given load-driver members to its end and
// saves it. The returned race is saved even when the race failed or was
// aborted (with its status).
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
		Hosts: append([]string(nil), members...), OnError: p.Request.OnError,
	}
	if race.OnError == "" {
		race.OnError = driver.OnErrorContinue
	}
	for _, t := range p.Targets {
		race.TargetHosts = append(race.TargetHosts, t.String())
	}

	cur := &run{
		id: race.ID, epoch: now, agg: metrics.NewAggregator(now),
		ready: make(chan Ready, len(members)), done: make(chan stepDoneFrom, len(members)),
		perHost: map[string]map[string]int64{},
		progress: control.RaceProgress{ID: race.ID, Track: race.Track, Challenge: race.Challenge,
			State: control.RaceRunning, Started: now},
	}
	for _, st := range p.Challenge.Schedule {
		for _, t := range st.Tasks {
			cur.progress.Tasks = append(cur.progress.Tasks, control.TaskProgress{Task: t.Name, State: "waiting", Done: -1})
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
		final.State, final.Error = control.RaceFailed, err.Error()
		c.publish(final)
		return nil, err
	}
	select {
	case <-aborted:
		final := c.snapshot(cur, p)
		final.State, final.Error = control.RaceAborted, "aborted by the user"
		c.publish(final)
		return nil, errAborted
	default:
	}
	lost, stopLost := c.cfg.System.Subscribe(64)
	defer stopLost()

	stopTicker := c.tickProgress(cur, p)
	results, err := c.runSteps(ctx, cur, p, members, aborted, lost)
	stopTicker()

	race.Summary = cur.agg.Summary(reportable(p.Challenge, results))
	race.Status = report.StatusCompleted
	switch {
	case errors.Is(err, errAborted):
		race.Status, race.Error = report.StatusAborted, "aborted by the user"
	case err != nil:
		race.Status, race.Error = report.StatusFailed, err.Error()
	}
	if figs, ferr := clusterFigures(ctx, p); ferr == nil {
		race.Summary.Cluster = figs
	} else {
		c.log.Warn("cluster figures unavailable", "err", ferr)
	}
	if serr := c.cfg.Store.Save(race); serr != nil && err == nil {
		err = fmt.Errorf("save race: %w", serr)
	}
	final := c.snapshot(cur, p)
	final.State = race.Status
	final.Error = race.Error
	var sb strings.Builder
	_ = report.WriteSummary(&sb, race, report.Text)
	final.Report = sb.String()
	c.publish(final)
	return race, err
}

var errAborted = errors.New("race aborted")

// runSteps sends Start to every member, then runs the steps one after
// another with a join point between them.
func (c *Conductor) runSteps(ctx context.Context, cur *run, p *Plan, members []string, aborted <-chan struct{}, events <-chan actor.Event) (map[string]*driver.TaskResult, error) {
	offsets := map[string]time.Duration{}
	for _, m := range c.cfg.System.Status().Members {
		offsets[m.Name] = m.ClockOffset
	}
	seed := rand.Uint64()
	// Options travel parsed (a file named on the coordinator is read
	// there), secrets included, inside the authenticated link only.
	spec, err := p.Options.Spec()
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		path := p.Request.TrackPath
		if mp, ok := p.TrackPaths[m]; ok {
			path = mp
		}
		st := Start{RaceID: cur.id, TrackPath: path, Challenge: p.Challenge.Name, Params: p.Request.TrackParams,
			TestMode: p.Request.TestMode, TargetHosts: p.Request.TargetHosts, ClientOptions: spec,
			OnError: p.Request.OnError, Epoch: cur.epoch.Add(offsets[m]), Seed: seed}
		if err := c.cfg.System.Send(m, MsgStart, st); err != nil {
			return nil, fmt.Errorf("%s: start race: %w", m, err)
		}
	}
	for ready := 0; ready < len(members); {
		select {
		case r := <-cur.ready:
			if r.Error != "" {
				c.abortMembers(members, cur.id, "another member failed to prepare")
				return nil, fmt.Errorf("%s: %s", r.RaceID, r.Error)
			}
			ready++
		case <-aborted:
			c.abortMembers(members, cur.id, "aborted by the user")
			return nil, errAborted
		case <-ctx.Done():
			c.abortMembers(members, cur.id, "coordinator stopping")
			return nil, ctx.Err()
		case ev := <-events:
			if err := lostMember(ev, members); err != nil {
				c.abortMembers(members, cur.id, err.Error())
				return nil, err
			}
		}
	}

	results := map[string]*driver.TaskResult{}
	var firstErr error
	for i, step := range p.Challenge.Schedule {
		shares := spread(step, members)
		for j := range step.Tasks {
			c.setTaskState(cur, step.Tasks[j].Name, "running")
		}
		waiting := 0
		for _, m := range members {
			if len(shares[m]) == 0 {
				continue
			}
			if err := c.cfg.System.Send(m, MsgStep, Step{RaceID: cur.id, Index: i, Shares: shares[m], Delay: c.cfg.StepDelay}); err != nil {
				c.abortMembers(members, cur.id, "another member could not start the step")
				return results, fmt.Errorf("%s: step %d: %w", m, i, err)
			}
			waiting++
		}
		var stepErr error
		reported := map[string]bool{}
		for waiting > 0 {
			select {
			case d := <-cur.done:
				if d.Index != i || reported[d.from] || len(shares[d.from]) == 0 {
					continue // another step's, a repeat, or from a member without work
				}
				reported[d.from] = true
				waiting--
				for k := range d.Results {
					mergeResult(results, &d.Results[k])
				}
				if d.Error != "" && stepErr == nil {
					stepErr = fmt.Errorf("%s: %s", d.from, d.Error)
					if p.Request.OnError == driver.OnErrorAbort {
						c.abortMembers(members, cur.id, "another member failed")
					}
				}
			case <-aborted:
				c.abortMembers(members, cur.id, "aborted by the user")
				c.drain(cur, i, waiting, results)
				return results, errAborted
			case <-ctx.Done():
				c.abortMembers(members, cur.id, "coordinator stopping")
				return results, ctx.Err()
			case ev := <-events:
				if err := lostMember(ev, members); err != nil {
					c.abortMembers(members, cur.id, err.Error())
					return results, err
				}
			}
		}
		for j := range step.Tasks {
			c.setTaskState(cur, step.Tasks[j].Name, "done")
		}
		if stepErr != nil {
			if firstErr == nil {
				firstErr = stepErr
			}
			if p.Request.OnError == driver.OnErrorAbort {
				return results, stepErr
			}
		}
	}
	return results, firstErr
}

// drain waits briefly for members to report an aborted step, keeping what
// they measured.
func (c *Conductor) drain(cur *run, step, waiting int, results map[string]*driver.TaskResult) {
	deadline := time.After(10 * time.Second)
	for waiting > 0 {
		select {
		case d := <-cur.done:
			if d.Index == step {
				waiting--
				for k := range d.Results {
					mergeResult(results, &d.Results[k])
				}
			}
		case <-deadline:
			return
		}
	}
}

func (c *Conductor) abortMembers(members []string, id, reason string) {
	for _, m := range members {
		_ = c.cfg.System.Send(m, MsgAbort, Abort{RaceID: id, Reason: reason})
	}
}

func lostMember(ev actor.Event, members []string) error {
	if ev.Kind != "lost" && ev.Kind != "left" {
		return nil
	}
	for _, m := range members {
		if m == ev.Member {
			return fmt.Errorf("load driver %s %s during the race", m, ev.Kind)
		}
	}
	return nil
}

// spread assigns each task's clients round-robin over the members,
// continuing the rotation across the tasks of a step so that a parallel
// block of one-client tasks spreads too.
func spread(step track.Step, members []string) map[string][]TaskShare {
	out := map[string][]TaskShare{}
	total := 0
	for _, t := range step.Tasks {
		total += max(t.Clients, 1)
	}
	rr, offset := 0, 0
	for ti, t := range step.Tasks {
		n := max(t.Clients, 1)
		byMember := map[string][]int{}
		for k := 0; k < n; k++ {
			m := members[rr%len(members)]
			byMember[m] = append(byMember[m], k)
			rr++
		}
		for _, m := range members {
			if len(byMember[m]) == 0 {
				continue
			}
			out[m] = append(out[m], TaskShare{Task: ti, ClientIndexes: byMember[m], TotalClients: n,
				RampUpOffset: offset, RampUpTotal: total})
		}
		offset += n
	}
	return out
}

// mergeResult adds one member's share of a task to the task's result.
func mergeResult(all map[string]*driver.TaskResult, r *driver.TaskResult) {
	cur, ok := all[r.Info.Task]
	if !ok {
		cp := *r
		all[r.Info.Task] = &cp
		return
	}
	cur.Clients += r.Clients
	cur.Requests += r.Requests
	cur.Errors += r.Errors
	if r.Started.Before(cur.Started) {
		cur.Started = r.Started
	}
	if r.Ended.After(cur.Ended) {
		cur.Ended = r.Ended
	}
	if r.Status != driver.StatusCompleted && cur.Status == driver.StatusCompleted {
		cur.Status, cur.Error = r.Status, r.Error
	}
}

// reportable lists the tasks to report, in schedule order.
func reportable(ch *track.Challenge, results map[string]*driver.TaskResult) []metrics.TaskInfo {
	var out []metrics.TaskInfo
	for _, st := range ch.Schedule {
		for _, t := range st.Tasks {
			r, ok := results[t.Name]
			if !ok || !r.IncludeInReporting {
				continue
			}
			out = append(out, r.Info)
		}
	}
	return out
}

func (c *Conductor) setTaskState(cur *run, task, state string) {
	c.mu.Lock()
	for i := range cur.progress.Tasks {
		if cur.progress.Tasks[i].Task == task {
			cur.progress.Tasks[i].State = state
			if state == "done" {
				cur.progress.Tasks[i].Done = 1
			}
		}
	}
	c.mu.Unlock()
}

// snapshot fills the live figures into the race's progress.
func (c *Conductor) snapshot(cur *run, p *Plan) control.RaceProgress {
	c.mu.Lock()
	defer c.mu.Unlock()
	pr := cur.progress
	pr.Tasks = append([]control.TaskProgress(nil), pr.Tasks...)
	pr.Preparing = maps.Clone(pr.Preparing)
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
		tp.PerHost = map[string]int64{}
		for h, n := range cur.perHost[tp.Task] {
			tp.PerHost[h] = n
		}
		if t := tasks[tp.Task]; t != nil && tp.State == "running" {
			tp.Unit = "ops/s"
			if t.Operation.Type == "bulk" {
				tp.Unit = "docs/s"
			}
			// Only iteration-bounded tasks know their share done; a
			// time-bounded one stays at -1 (unknown).
			if n := int64(t.WarmupIterations+t.Iterations) * int64(max(t.Clients, 1)); n > 0 {
				tp.Done = min(float64(tp.Requests)/float64(n), 1)
			}
		}
	}
	return pr
}

func (c *Conductor) publish(p control.RaceProgress) {
	c.mu.Lock()
	if c.cur != nil {
		c.cur.progress.State = p.State
	}
	c.mu.Unlock()
	if c.cfg.Progress != nil {
		c.cfg.Progress(p)
	}
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
