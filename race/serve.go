package race

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"rally/actor"
	"rally/driver"
	"rally/metrics"
	"rally/track"
)

// MemberConfig is what a member needs to run its shares.
type MemberConfig struct {
	// Context bounds everything the member runs (the link's lifetime):
	// when it ends, running steps and preparations stop. Nil means never.
	Context context.Context
	// DataDir is where corpora live on this host.
	DataDir string
	Logger  *slog.Logger
	// NewClient overrides the HTTP client (tests); nil means the default.
	NewClient func(driver.Target, driver.ClientOptions) (driver.Client, error)
}

// sender is the part of actor.Member a race member uses.
type sender interface {
	Send(typ string, body any) error
}

// member runs the race shares of one actor member. Handlers return at
// once; the work runs in goroutines it owns.
type member struct {
	cfg MemberConfig
	out sender
	log *slog.Logger

	mu sync.Mutex
	// latest is the RaceID of the last Start: a prepare of an older race
	// that finishes late must not replace it.
	latest  string
	race    *prepared
	cancel  context.CancelFunc // of the running prepare or step
	running sync.WaitGroup
}

// prepared is a race after Start: the loaded track and parsed options.
type prepared struct {
	start     Start
	track     *track.Track
	challenge *track.Challenge
	targets   []driver.Target
	opts      driver.ClientOptions
}

// Serve registers the race handlers on an actor member.
func Serve(m *actor.Member, cfg MemberConfig) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	s := &member{cfg: cfg, out: m, log: cfg.Logger}
	m.Handle(MsgStart, s.onStart)
	m.Handle(MsgStep, s.onStep)
	m.Handle(MsgAbort, s.onAbort)
}

func (s *member) onStart(body json.RawMessage) {
	st, err := decode[Start](body)
	if err != nil {
		_ = s.out.Send(MsgReady, Ready{Error: "bad start message: " + err.Error()})
		return
	}
	ctx, cancel := context.WithTimeout(s.cfg.Context, time.Hour)
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel() // a new race ends whatever the last one left running
	}
	s.latest, s.race, s.cancel = st.RaceID, nil, cancel
	s.mu.Unlock()
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		defer cancel()
		p, err := s.prepare(ctx, st)
		ready := Ready{RaceID: st.RaceID}
		s.mu.Lock()
		current := s.latest == st.RaceID
		if err == nil && current {
			s.race = p
		}
		s.mu.Unlock()
		if !current {
			return // superseded by a newer race
		}
		if err != nil {
			ready.Error = err.Error()
			s.log.Error("race start failed", "race", st.RaceID, "err", err)
		} else {
			s.log.Info("race ready", "race", st.RaceID, "track", p.track.Name, "challenge", p.challenge.Name)
		}
		_ = s.out.Send(MsgReady, ready)
	}()
}

// prepare loads the track and makes the corpora ready.
func (s *member) prepare(ctx context.Context, st Start) (*prepared, error) {
	t, err := track.Load(track.LoadOptions{Path: st.TrackPath, Params: st.Params, TestMode: st.TestMode})
	if err != nil {
		return nil, err
	}
	c, err := t.Challenge(st.Challenge)
	if err != nil {
		return nil, err
	}
	targets, err := driver.ParseTargetHosts(st.TargetHosts)
	if err != nil {
		return nil, err
	}
	opts := driver.DefaultClientOptions()
	if st.ClientOptions != "" {
		if opts, err = driver.ParseClientOptions(st.ClientOptions); err != nil {
			return nil, err
		}
	}
	p := &prepared{start: st, track: t, challenge: c, targets: targets, opts: opts}
	// Progress goes to the coordinator at most twice a second per file,
	// and always at a file's end.
	var last time.Time
	progress := func(ev driver.ProgressEvent) {
		if !ev.Final && time.Since(last) < 500*time.Millisecond {
			return
		}
		last = time.Now()
		_ = s.out.Send(MsgPrepare, Preparing{RaceID: st.RaceID, Kind: string(ev.Kind), File: ev.File,
			Done: ev.Done, Total: ev.Total, Final: ev.Final})
	}
	err = driver.Prepare(ctx, driver.Plan{Track: t, Challenge: c, Targets: targets, ClientOptions: opts,
		TestMode: st.TestMode, DataDir: s.cfg.DataDir, Progress: progress})
	if err != nil {
		return nil, fmt.Errorf("prepare corpora: %w", err)
	}
	return p, nil
}

func (s *member) onStep(body json.RawMessage) {
	step, err := decode[Step](body)
	if err != nil {
		_ = s.out.Send(MsgStepDone, StepDone{Error: "bad step message: " + err.Error()})
		return
	}
	s.mu.Lock()
	p := s.race
	if p == nil || p.start.RaceID != step.RaceID {
		s.mu.Unlock()
		_ = s.out.Send(MsgStepDone, StepDone{RaceID: step.RaceID, Index: step.Index, Error: "no such race on this member"})
		return
	}
	if s.cancel != nil {
		s.cancel() // a step still running from before may not outlive its race
	}
	ctx, cancel := context.WithCancel(s.cfg.Context)
	s.cancel = cancel
	s.mu.Unlock()
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		defer cancel()
		done := s.runStep(ctx, p, step)
		_ = s.out.Send(MsgStepDone, done)
	}()
}

func (s *member) onAbort(body json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
}

// runStep runs every share of a step concurrently; a completed-by task
// ends the others.
func (s *member) runStep(ctx context.Context, p *prepared, step Step) StepDone {
	done := StepDone{RaceID: step.RaceID, Index: step.Index}
	if step.Index < 0 || step.Index >= len(p.challenge.Schedule) {
		done.Error = fmt.Sprintf("step %d: out of range", step.Index)
		return done
	}
	sched := p.challenge.Schedule[step.Index]
	select {
	case <-time.After(step.Delay):
	case <-ctx.Done():
		done.Error = "aborted"
		return done
	}
	ship := newShipper(s.out, step.RaceID)
	defer ship.close()
	complete := make(chan struct{})
	var once sync.Once
	results := make([]driver.TaskResult, len(step.Shares))
	errs := make([]error, len(step.Shares))
	var wg sync.WaitGroup
	for i, sh := range step.Shares {
		if sh.Task < 0 || sh.Task >= len(sched.Tasks) {
			errs[i] = fmt.Errorf("task %d of step %d: out of range", sh.Task, step.Index)
			continue
		}
		task := &sched.Tasks[sh.Task]
		tp := driver.TaskPlan{
			Track: p.track, Task: task,
			ClientIndexes: sh.ClientIndexes, TotalClients: sh.TotalClients,
			RampUpOffset: sh.RampUpOffset, RampUpTotal: sh.RampUpTotal,
			Targets: p.targets, ClientOptions: p.opts, OnError: p.start.OnError,
			TestMode: p.start.TestMode, DataDir: s.cfg.DataDir, Epoch: p.start.Epoch,
			Seed: p.start.Seed + uint64(step.Index)*1000 + uint64(sh.Task), NewClient: s.cfg.NewClient,
		}
		if sched.CompletedBy != "" && task.Name != sched.CompletedBy {
			tp.Complete = complete
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = driver.RunTask(ctx, tp, ship.add)
			if sched.CompletedBy == task.Name {
				once.Do(func() { close(complete) })
			}
		}()
	}
	wg.Wait()
	done.Results = results
	for _, err := range errs {
		if err != nil && done.Error == "" {
			done.Error = err.Error()
		}
	}
	return done
}

// shipper merges the clients' deltas per task and sends them about once a
// second: encoding a histogram costs far more than merging one.
type shipper struct {
	out    sender
	raceID string
	mu     sync.Mutex
	tasks  map[string]*metrics.Delta
	stop   chan struct{}
	wg     sync.WaitGroup
}

func newShipper(out sender, raceID string) *shipper {
	sh := &shipper{out: out, raceID: raceID, tasks: map[string]*metrics.Delta{}, stop: make(chan struct{})}
	sh.wg.Add(1)
	go func() {
		defer sh.wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				sh.flush()
			case <-sh.stop:
				sh.flush()
				return
			}
		}
	}()
	return sh
}

func (sh *shipper) add(d *metrics.Delta) {
	if d == nil {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if cur := sh.tasks[d.Task]; cur != nil {
		if err := cur.Merge(d); err == nil {
			return
		}
		// Cannot merge (another epoch): ship what we have, keep the new one.
		_ = sh.out.Send(MsgMetrics, Metrics{RaceID: sh.raceID, Delta: cur})
	}
	sh.tasks[d.Task] = d
}

func (sh *shipper) flush() {
	sh.mu.Lock()
	tasks := sh.tasks
	sh.tasks = map[string]*metrics.Delta{}
	sh.mu.Unlock()
	for _, d := range tasks {
		_ = sh.out.Send(MsgMetrics, Metrics{RaceID: sh.raceID, Delta: d})
	}
}

func (sh *shipper) close() {
	close(sh.stop)
	sh.wg.Wait()
}
