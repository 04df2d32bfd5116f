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
	"rally/telemetry"
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
	// Send is best effort (progress that a newer message replaces).
	Send(typ string, body any) error
	// SendReliable never drops a message: it is acknowledged, or the link
	// is declared broken.
	SendReliable(ctx context.Context, typ string, body any) error
}

var _ sender = (*actor.Member)(nil)

// member runs the race shares of one actor member. Handlers return at
// once; the work runs in goroutines it owns.
type member struct {
	cfg MemberConfig
	out sender
	log *slog.Logger

	mu sync.Mutex
	// latest is the RaceID of the last Start: a prepare of an older race
	// that finishes late must not replace it.
	latest string
	race   *prepared
	cancel context.CancelFunc // of the running prepare or step
	// step is the running step, for EndStep.
	step *runningStep
}

// runningStep is a step under way on this member.
type runningStep struct {
	raceID string
	index  int
	end    chan struct{}
	once   sync.Once
}

func (r *runningStep) finish() { r.once.Do(func() { close(r.end) }) }

// prepared is a race after Start: the loaded track and parsed options.
type prepared struct {
	start     Start
	track     *track.Track
	challenge *track.Challenge
	targets   []driver.Target
	opts      driver.ClientOptions
	// seqs numbers each task's deltas across the race; a step that was
	// cancelled may still flush while the next one starts, hence the lock.
	seqMu sync.Mutex
	seqs  map[string]uint64
}

// Serve registers the race handlers on an actor member.
func Serve(m *actor.Member, cfg MemberConfig) {
	serve(m, m, cfg)
}

// serve registers the handlers on h and sends through out.
func serve(h interface {
	Handle(string, func(json.RawMessage))
}, out sender, cfg MemberConfig) *member {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	s := &member{cfg: cfg, out: out, log: cfg.Logger}
	h.Handle(MsgStart, s.onStart)
	h.Handle(MsgStep, s.onStep)
	h.Handle(MsgEndStep, s.onEndStep)
	h.Handle(MsgAbort, s.onAbort)
	return s
}

// send delivers a message that carries state, logging when the link broke
// under it (the coordinator then sees this member lost).
func (s *member) send(typ string, body any) {
	if err := s.out.SendReliable(s.cfg.Context, typ, body); err != nil {
		s.log.Error("race message not delivered", "type", typ, "err", err)
	}
}

func (s *member) onStart(body json.RawMessage) {
	st, err := decode[Start](body)
	if err != nil {
		s.send(MsgReady, Ready{Error: "bad start message: " + err.Error()})
		return
	}
	ctx, cancel := context.WithTimeout(s.cfg.Context, time.Hour)
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel() // a new race ends whatever the last one left running
	}
	s.latest, s.race, s.cancel, s.step = st.RaceID, nil, cancel, nil
	s.mu.Unlock()
	go func() {
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
		s.send(MsgReady, ready)
	}()
}

// prepare loads the track and makes the corpora ready: the pieces the
// coordinator pushed, the files this host has, downloads of the others.
func (s *member) prepare(ctx context.Context, st Start) (*prepared, error) {
	t, c, err := loadChallenge(st.TrackPath, st.Params, st.TestMode, st.Challenge, st.TaskFilter)
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
	p := &prepared{start: st, track: t, challenge: c, targets: targets, opts: opts, seqs: map[string]uint64{}}
	// Pushed pieces stand for their files; the others are found or
	// downloaded below, as Start's corpus source allows.
	if err := s.readyCorpora(st, t, c); err != nil {
		return nil, fmt.Errorf("prepare corpora: %w", err)
	}
	// Progress goes to the coordinator at most twice a second per file,
	// and always at a file's end; a dropped one is replaced by the next.
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
		s.send(MsgStepDone, StepDone{Error: "bad step message: " + err.Error()})
		return
	}
	s.mu.Lock()
	p := s.race
	if p == nil || p.start.RaceID != step.RaceID {
		s.mu.Unlock()
		s.send(MsgStepDone, StepDone{RaceID: step.RaceID, Index: step.Index, Error: "no such race on this member (its worker was restarted?)"})
		return
	}
	if s.cancel != nil {
		s.cancel() // a step still running from before may not outlive its race
	}
	ctx, cancel := context.WithCancel(s.cfg.Context)
	rs := &runningStep{raceID: step.RaceID, index: step.Index, end: make(chan struct{})}
	s.cancel, s.step = cancel, rs
	s.mu.Unlock()
	go func() {
		defer cancel()
		done := s.runStep(ctx, p, step, rs)
		s.send(MsgStepDone, done)
	}()
}

func (s *member) onEndStep(body json.RawMessage) {
	es, err := decode[EndStep](body)
	if err != nil {
		return
	}
	s.mu.Lock()
	rs := s.step
	s.mu.Unlock()
	if rs != nil && rs.raceID == es.RaceID && rs.index == es.Step {
		rs.finish()
	}
}

func (s *member) onAbort(body json.RawMessage) {
	ab, _ := decode[Abort](body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		s.log.Warn("race aborted", "race", ab.RaceID, "reason", ab.Reason)
		s.cancel()
	}
}

// runStep runs this member's shares of a step with the driver's step
// executor, the one every race uses.
func (s *member) runStep(ctx context.Context, p *prepared, step Step, rs *runningStep) StepDone {
	done := StepDone{RaceID: step.RaceID, Index: step.Index}
	if step.Index < 0 || step.Index >= len(p.challenge.Schedule) {
		done.Error = fmt.Sprintf("step %d: out of range", step.Index)
		return done
	}
	sched := &p.challenge.Schedule[step.Index]
	shares := make([]driver.StepShare, 0, len(step.Shares))
	for _, sh := range step.Shares {
		if sh.Task < 0 || sh.Task >= len(sched.Tasks) {
			done.Error = fmt.Sprintf("task %d of step %d: out of range", sh.Task, step.Index)
			return done
		}
		shares = append(shares, driver.StepShare{Task: sh.Task, ClientIndexes: sh.ClientIndexes})
	}
	ship := newShipper(s, step.RaceID, step.Index, p)
	before, berr := telemetry.ReadDriver("/proc")
	results, err := driver.RunStep(ctx, driver.StepPlan{
		Track: p.track, Step: sched, Shares: shares, ClientLimit: step.ClientLimit,
		Targets: p.targets, ClientOptions: p.opts, OnError: p.start.OnError,
		TestMode: p.start.TestMode, DataDir: s.cfg.DataDir, Epoch: p.start.Epoch, Seed: driver.StepSeed(p.start.Seed, step.Index),
		NewClient: s.cfg.NewClient, Start: step.StartAt, End: rs.end,
		Completed: func(task string) {
			s.send(MsgTaskComplete, TaskComplete{RaceID: step.RaceID, Step: step.Index, Task: task})
		},
	}, ship.add)
	done.LastSeq = ship.close()
	done.Results = results
	if after, aerr := telemetry.ReadDriver("/proc"); berr == nil && aerr == nil {
		load := telemetry.LoadBetween(before, after)
		done.Load = &load
	}
	if err != nil {
		done.Error = err.Error()
	}
	return done
}

// shipper merges the clients' deltas per task and sends them about once a
// second: encoding a histogram costs far more than merging one. Each
// delta sent gets the task's next sequence number.
type shipper struct {
	m      *member
	raceID string
	step   int

	p     *prepared
	mu    sync.Mutex
	tasks map[string]*metrics.Delta

	stop chan struct{}
	wg   sync.WaitGroup
}

func newShipper(m *member, raceID string, step int, p *prepared) *shipper {
	sh := &shipper{m: m, raceID: raceID, step: step, p: p, tasks: map[string]*metrics.Delta{}, stop: make(chan struct{})}
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
	cur := sh.tasks[d.Task]
	if cur != nil && cur.Merge(d) == nil {
		sh.mu.Unlock()
		return
	}
	// Nothing yet, or it cannot merge (another epoch): keep the new one
	// and ship what was there.
	sh.tasks[d.Task] = d
	sh.mu.Unlock()
	if cur != nil {
		sh.ship(cur)
	}
}

// ship numbers a delta and sends it reliably. SendReliable may wait for
// acknowledgements: that slows this goroutine, never the clients, which
// only merge into the pending deltas meanwhile.
func (sh *shipper) ship(d *metrics.Delta) {
	sh.p.seqMu.Lock()
	sh.p.seqs[d.Task]++
	seq := sh.p.seqs[d.Task]
	sh.p.seqMu.Unlock()
	sh.m.send(MsgMetrics, Metrics{RaceID: sh.raceID, Step: sh.step, Seq: seq, Delta: d})
}

func (sh *shipper) flush() {
	sh.mu.Lock()
	tasks := sh.tasks
	sh.tasks = map[string]*metrics.Delta{}
	sh.mu.Unlock()
	for _, d := range tasks {
		sh.ship(d)
	}
}

// close stops the ticker, sends what is left and returns the last
// sequence number of every task.
func (sh *shipper) close() map[string]uint64 {
	close(sh.stop)
	sh.wg.Wait()
	sh.flush()
	sh.p.seqMu.Lock()
	defer sh.p.seqMu.Unlock()
	last := make(map[string]uint64, len(sh.p.seqs))
	for k, v := range sh.p.seqs {
		last[k] = v
	}
	return last
}
