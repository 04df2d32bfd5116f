package driver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"rally/driver/corpus"
	"rally/metrics"
	"rally/track"
)

// OnError values: what a failed request does to the race (Rally's
// --on-error).
const (
	// OnErrorContinue counts the error and goes on (the default).
	OnErrorContinue = "continue"
	// OnErrorAbort stops the race at the first error, with that error.
	OnErrorAbort = "abort"
)

// TaskStatus is how a task ended.
type TaskStatus string

// The statuses of a task.
const (
	StatusCompleted TaskStatus = "completed"
	StatusAborted   TaskStatus = "aborted"
	StatusCancelled TaskStatus = "cancelled"
	StatusFailed    TaskStatus = "failed"
	StatusNotRun    TaskStatus = "not-run"
)

// ProgressKind says what a ProgressEvent is about.
type ProgressKind string

// The kinds of progress events.
const (
	ProgressDownload    ProgressKind = "download"
	ProgressDecompress  ProgressKind = "decompress"
	ProgressOffsetTable ProgressKind = "offset-table"
	ProgressTaskStart   ProgressKind = "task-start"
	ProgressTaskEnd     ProgressKind = "task-end"
)

// ProgressEvent reports preparation and task progress. Done and Total are
// bytes for file work; Status is set on task-end.
type ProgressEvent struct {
	Kind   ProgressKind
	Task   string
	File   string
	Done   int64
	Total  int64
	Final  bool
	Status TaskStatus
}

// TaskPlan is one task, or a share of its clients, for one host. The
// coordinator splits a task's clients across hosts by giving each host a
// TaskPlan with its ClientIndexes; slices of corpora and ramp-up delays
// come out the same as if one host ran all clients.
type TaskPlan struct {
	Track *track.Track
	Task  *track.Task
	// ClientIndexes are the task's clients this host runs (each in
	// [0, TotalClients)); nil means all of them.
	ClientIndexes []int
	// TotalClients is the task's number of clients on all hosts; zero
	// means Task.Clients (at least 1).
	TotalClients int
	// RampUpOffset is the index of the task's first client among all
	// clients of its schedule step, and RampUpTotal the step's number of
	// clients (zero means TotalClients): Rally staggers ramp-up across a
	// whole parallel block.
	RampUpOffset, RampUpTotal int

	Targets       []Target
	ClientOptions ClientOptions
	// Transport selects the HTTP client; empty means fasthttp.
	Transport Transport
	// OnError is OnErrorContinue (default) or OnErrorAbort.
	OnError  string
	TestMode bool
	// DataDir is where corpora live (~/.rally/benchmarks/data).
	DataDir string
	// Epoch is race-wide; zero means now.
	Epoch time.Time
	// Seed makes Poisson schedules and id conflicts reproducible: each
	// client's seed is derived from it and the client's index alone.
	Seed uint64
	// Progress receives events; nil means none. It is called from this
	// call's goroutine only, but concurrent RunTask calls call it
	// concurrently.
	Progress func(ProgressEvent)
	// Start is when the clients start (then wait for their ramp-up); zero
	// means as soon as they are set up. Clients connect before it, so
	// set-up does not delay the first request.
	Start time.Time
	// Complete, when closed, ends the task after each client's current
	// request (a parallel block's completed-by task has finished), or
	// before its first when the clients are still waiting to start.
	Complete <-chan struct{}
	// Slots, when set, limits how many clients of a parallel block run at
	// once (the block's own "clients" is smaller than the sum of its
	// tasks'): a client takes a slot before it starts and gives it back
	// when done, so clients beyond the limit run after others, as Rally's
	// allocator runs them one after another on the same client.
	Slots chan struct{}
	// FlushInterval is how often the task's delta goes to the sink; zero
	// means one second.
	FlushInterval time.Duration
	// NewClient makes the HTTP client of one benchmark client; nil means
	// NewClient(Transport, ...). Tests and benchmarks inject their own.
	NewClient func(Target, ClientOptions) (Client, error)
}

// TaskResult is how one task (this host's share of it) ended.
type TaskResult struct {
	// Info names the task for metrics.Aggregator.Summary.
	Info metrics.TaskInfo
	// IncludeInReporting is the task's include-in-reporting.
	IncludeInReporting bool
	Status             TaskStatus
	// Clients is the number of clients this host ran.
	Clients int
	// Requests and Errors count recorded samples (warmup included).
	Requests, Errors int64
	// Started is when the clients were set up and free to start (the
	// plan's Start when that is later); Ended is when the last one ended.
	Started, Ended time.Time
	// Error is the abort or failure reason ("" otherwise).
	Error string
}

// TaskError is the error that aborted a task: which task, which client,
// and the request failure.
type TaskError struct {
	Task   string
	Client int
	Err    error
}

// Error names the task and client, then the failure.
func (e *TaskError) Error() string {
	return fmt.Sprintf("task %q, client %d: %v", e.Task, e.Client, e.Err)
}

// Unwrap returns the request failure.
func (e *TaskError) Unwrap() error { return e.Err }

// applyTestMode shortens a task as Rally's --test-mode does (the same rule
// as the track loader's, for tracks not loaded in test mode): (warmup)
// iterations at most the number of clients, no warmup time, at most 10 s
// of measurement, and no throttling.
func applyTestMode(t *track.Task) {
	t.WarmupIterations = min(t.WarmupIterations, max(t.Clients, 1))
	t.Iterations = min(t.Iterations, max(t.Clients, 1))
	t.WarmupTimePeriod = 0
	if t.TimePeriod > 10*time.Second {
		t.TimePeriod = 10 * time.Second
	}
	t.TargetThroughput = 0
}

// weighted is an opSpec whose requests carry several throughput units
// (documents per bulk).
type weighted interface {
	requestWeight() float64
}

// requestWeight converts the task's target throughput unit into requests:
// a throughput in the operation's own unit ("docs/s" for bulk) is divided
// by the units per request.
func requestWeight(t *track.Task, spec opSpec) float64 {
	unit := t.TargetThroughputUnit
	if unit == "" || unit == "ops/s" || unit != spec.unit() {
		return 1
	}
	if w, ok := spec.(weighted); ok {
		return w.requestWeight()
	}
	return 1
}

// taskSeed is the seed of task ti of a schedule step run with seed: a
// function of the task's place in the step alone, so every host running a
// share of the task derives the same client seeds.
func taskSeed(seed uint64, ti int) uint64 {
	return seed + uint64(ti)<<32
}

// clientSchedule returns how long client idx (of total clients of the task)
// waits after its start before its first request, and its seed. Both
// depend on the client's index and the step's layout only, never on which
// host runs the client, so a task spread over hosts ramps up and draws its
// random numbers exactly as it would on one.
func (tp *TaskPlan) clientSchedule(rampUp time.Duration, idx, total int) (time.Duration, uint64) {
	rampTotal := tp.RampUpTotal
	if rampTotal <= 0 {
		rampTotal = total
	}
	delay := RampUpDelay(rampUp, tp.RampUpOffset+idx, rampTotal)
	return delay, tp.Seed*0x9e3779b97f4a7c15 + uint64(idx) + 1
}

// TaskInfoOf describes a task for metrics.Aggregator.Summary, with the
// throughput unit of its operation ("docs/s" for bulk); a task that does
// not compile is reported in ops/s. A coordinator that only receives a
// task's metric deltas uses it to name the task in its report.
func TaskInfoOf(tr *track.Track, t *track.Task) metrics.TaskInfo {
	if t == nil {
		return metrics.TaskInfo{}
	}
	if tr == nil {
		return taskInfo(t, nil)
	}
	spec, err := compileTask(tr, t)
	if err != nil {
		return taskInfo(t, nil)
	}
	return taskInfo(t, spec)
}

// taskInfo describes a task for the summary.
func taskInfo(t *track.Task, spec opSpec) metrics.TaskInfo {
	unit := "ops/s"
	if spec != nil {
		unit = spec.unit()
	}
	return metrics.TaskInfo{Task: t.Name, Operation: t.Operation.Name, OpType: t.Operation.Type, ThroughputUnit: unit}
}

// RunTask runs this host's clients of one task and returns when they are
// done: each client is a goroutine with its own connection and schedule,
// recording into its stripe of the task's one metrics.Recorder; every
// FlushInterval and at the end the task's delta goes to sink (from one
// goroutine of this call; concurrent RunTask calls call sink
// concurrently). With OnErrorAbort the first error (not ignored by
// ignore-response-error-level) stops all clients and is returned as a
// *TaskError.
func RunTask(ctx context.Context, tp TaskPlan, sink func(*metrics.Delta)) (TaskResult, error) {
	if tp.Task == nil || tp.Track == nil {
		return TaskResult{Status: StatusFailed, Error: "no task"}, errors.New("run task: no track or task")
	}
	task := *tp.Task
	if tp.TestMode && !tp.Track.TestMode {
		applyTestMode(&task)
	}
	res := TaskResult{Info: taskInfo(&task, nil), IncludeInReporting: task.IncludeInReporting, Started: time.Now()}
	fail := func(err error) (TaskResult, error) {
		res.Status, res.Error, res.Ended = StatusFailed, err.Error(), time.Now()
		return res, err
	}
	spec, err := compileTask(tp.Track, &task)
	if err != nil {
		return fail(fmt.Errorf("task %q: %w", task.Name, err))
	}
	res.Info = taskInfo(&task, spec)
	if err := checkLoop(&task, spec); err != nil {
		return fail(fmt.Errorf("task %q: %w", task.Name, err))
	}
	total := tp.TotalClients
	if total <= 0 {
		total = max(task.Clients, 1)
	}
	indexes := tp.ClientIndexes
	if indexes == nil {
		indexes = make([]int, total)
		for i := range indexes {
			indexes[i] = i
		}
	}
	for _, i := range indexes {
		if i < 0 || i >= total {
			return fail(fmt.Errorf("task %q: client index %d is not in [0, %d)", task.Name, i, total))
		}
	}
	if len(tp.Targets) == 0 {
		return fail(fmt.Errorf("task %q: no target hosts", task.Name))
	}
	if tp.OnError != "" && tp.OnError != OnErrorContinue && tp.OnError != OnErrorAbort {
		return fail(fmt.Errorf("on-error %q is not continue or abort", tp.OnError))
	}
	if err := prepareTask(ctx, spec, tp.Track, tp.DataDir, tp.Progress, task.Name); err != nil {
		return fail(err)
	}
	epoch := orNow(tp.Epoch)
	newClient := tp.NewClient
	if newClient == nil {
		newClient = func(t Target, o ClientOptions) (Client, error) { return NewClient(tp.Transport, t, o) }
	}
	// One recorder for all of this host's clients of the task: its memory
	// does not grow with the clients, each of which records through its
	// own stripe.
	rec := metrics.NewRecorder(task.Name, epoch)
	// One pacer for the task's throttled clients, made with the first.
	var pace *pacer
	workers := make([]*clientWorker, 0, len(indexes))
	defer func() {
		for _, w := range workers {
			w.close()
		}
		if pace != nil {
			pace.close()
		}
	}()
	for _, idx := range indexes {
		global := tp.RampUpOffset + idx
		target := tp.Targets[global%len(tp.Targets)]
		c, err := newClient(target, tp.ClientOptions)
		if err != nil {
			return fail(fmt.Errorf("task %q, client %d: %w", task.Name, idx, err))
		}
		rampDelay, seed := tp.clientSchedule(task.RampUpTimePeriod, idx, total)
		r, err := spec.newRunner(clientSlot{index: idx, total: total, seed: seed})
		if err != nil {
			closeClient(c)
			return fail(fmt.Errorf("task %q, client %d: %w", task.Name, idx, err))
		}
		sched := ScheduleFor(&task, total, requestWeight(&task, spec), seed)
		var phase time.Duration
		if task.RampUpTimePeriod <= 0 {
			phase = Phase(sched, idx, total)
		}
		var released chan struct{}
		if sched.Throttled() {
			if pace == nil {
				pace = newPacer()
			}
			released = make(chan struct{}, 1)
		}
		workers = append(workers, &clientWorker{
			task:      &task,
			index:     idx,
			onError:   tp.OnError,
			finite:    spec.finite(),
			sess:      &session{client: c, dial: func() (Client, error) { return newClient(target, tp.ClientOptions) }},
			runner:    r,
			rec:       rec.Stripe(len(workers)),
			sched:     sched,
			startAt:   tp.Start,
			rampDelay: rampDelay,
			phase:     phase,
			waiter:    NewWaiter(),
			pace:      pace,
			released:  released,
		})
	}
	res.Clients = len(workers)
	if tp.Slots == nil {
		connectAhead(ctx, workers)
		// One origin for all clients, so that their schedules (and
		// phases) line up: a client's own start would be its goroutine's,
		// some milliseconds apart from the others', which bunches some
		// intended starts and leaves gaps between others.
		now := time.Now()
		for _, w := range workers {
			if w.startAt.IsZero() {
				w.startAt = now
			}
			w.common = true
		}
	}
	if res.Started = time.Now(); tp.Start.After(res.Started) {
		res.Started = tp.Start
	}
	if tp.Progress != nil {
		tp.Progress(ProgressEvent{Kind: ProgressTaskStart, Task: task.Name})
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if pace != nil {
		pace.bind(runCtx, tp.Complete)
	}
	interval := tp.FlushInterval
	if interval <= 0 {
		interval = time.Second
	}
	flushAll := func() {
		if d := rec.Flush(); d != nil && sink != nil {
			sink(d)
		}
	}
	stopFlush := make(chan struct{})
	flusherDone := make(chan struct{})
	go func() {
		defer close(flusherDone)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				flushAll()
			case <-stopFlush:
				return
			}
		}
	}()

	var wg sync.WaitGroup
	var first firstError
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tp.Slots != nil {
				select {
				case tp.Slots <- struct{}{}:
					defer func() { <-tp.Slots }()
				case <-runCtx.Done():
					return
				case <-tp.Complete:
					return
				}
			}
			if err := w.run(runCtx, tp.Complete); err != nil {
				first.set(err)
				cancel(err)
			}
		}()
	}
	wg.Wait()
	close(stopFlush)
	<-flusherDone
	flushAll()

	firstErr := first.get()
	for _, w := range workers {
		res.Requests += w.requests
		res.Errors += w.errors
	}
	res.Ended = time.Now()
	switch {
	case firstErr != nil:
		var te *TaskError
		if errors.As(firstErr, &te) {
			res.Status = StatusAborted
		} else {
			res.Status = StatusFailed
		}
		res.Error = firstErr.Error()
	case ctx.Err() != nil:
		res.Status, res.Error = StatusCancelled, ctx.Err().Error()
		firstErr = fmt.Errorf("task %q: %w", task.Name, ctx.Err())
	default:
		res.Status = StatusCompleted
	}
	if tp.Progress != nil {
		tp.Progress(ProgressEvent{Kind: ProgressTaskEnd, Task: task.Name, Status: res.Status})
	}
	return res, firstErr
}

// prepareTask does a compiled task's slow work before the race, when it
// has any (its corpora).
func prepareTask(ctx context.Context, spec opSpec, tr *track.Track, dataDir string, progress func(ProgressEvent), task string) error {
	pr, ok := spec.(preparer)
	if !ok {
		return nil
	}
	if err := pr.prepare(ctx, prepareEnv{trackDir: tr.Dir, dataDir: dataDir, progress: corpusProgress(progress, task)}); err != nil {
		return fmt.Errorf("task %q: %w", task, err)
	}
	return nil
}

// orNow is t, or the current time when t is zero.
func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// firstError keeps the first error that concurrent goroutines report.
type firstError struct {
	mu  sync.Mutex
	err error
}

// set records err unless an error came before; it reports whether err is
// the first.
func (f *firstError) set(err error) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return false
	}
	f.err = err
	return true
}

// get returns the first error, nil when none came.
func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// corpusProgress adapts corpus events to ProgressEvents.
func corpusProgress(p func(ProgressEvent), task string) func(corpus.Event) {
	if p == nil {
		return nil
	}
	return func(e corpus.Event) {
		p(ProgressEvent{Kind: ProgressKind(e.Kind), Task: task, File: e.File, Done: e.Done, Total: e.Total, Final: e.Final})
	}
}

// clientWorker is one benchmark client of a task.
type clientWorker struct {
	task    *track.Task
	index   int
	onError string
	finite  bool
	sess    *session
	runner  runner
	rec     *metrics.Stripe
	sched   Schedule
	startAt time.Time
	// common: the client starts with its task's other clients (no clients
	// limit), at startAt itself rather than whenever its goroutine gets
	// there.
	common    bool
	rampDelay time.Duration
	phase     time.Duration // added to every intended start (see Phase)
	waiter    *Waiter
	// pace starts a throttled client's requests, released its channel;
	// both nil for an unthrottled client.
	pace     *pacer
	released chan struct{}

	requests, errors int64
}

func (w *clientWorker) close() {
	if rc, ok := w.runner.(runnerCloser); ok {
		rc.close()
	}
	closeClient(w.sess.client)
	w.waiter.Stop()
}

// loopControl is Rally's choice between a time-period and an iteration
// schedule for a task.
type loopControl struct {
	timeBased bool
	warmupDur time.Duration
	duration  time.Duration // warmup + measurement; 0 = until exhausted
	warmupIts int64
	totalIts  int64 // 0 = until exhausted
}

func loopFor(t *track.Task, finite bool) loopControl {
	if t.WarmupTimePeriod > 0 || t.TimePeriod > 0 {
		lc := loopControl{timeBased: true, warmupDur: t.WarmupTimePeriod}
		if t.TimePeriod > 0 {
			lc.duration = t.WarmupTimePeriod + t.TimePeriod
		}
		return lc
	}
	lc := loopControl{warmupIts: int64(t.WarmupIterations)}
	switch {
	case t.Iterations > 0:
		lc.totalIts = lc.warmupIts + int64(t.Iterations)
	case finite:
		lc.totalIts = 0 // the corpus decides
	default:
		// Rally runs an operation without iterations or time period once
		// per client (plus any warmup iterations).
		lc.totalIts = lc.warmupIts + 1
	}
	return lc
}

// maxCommonLate is how late a client may reach its task's common start and
// still keep it as its origin (its first requests then go out at once,
// each with its lag); a client later than that, on a host that got its
// step late, starts its schedule when it gets there, as before.
const maxCommonLate = time.Second

// connector is a Client that can open its connection ahead of its first
// request.
type connector interface {
	Connect(ctx context.Context) error
}

// connectAhead bounds connectAhead's work: how many connections it opens
// at once, and how long it tries in all.
const (
	connectAheadParallel = 64
	connectAheadFor      = 5 * time.Second
)

// connectAhead opens the connections of the clients that start with their
// task (no ramp-up wait) before the task's start, so that their first
// requests are requests and not TCP handshakes: a throttled task of 500
// clients on one core otherwise spent its first 100 ms connecting and
// started its requests milliseconds late. A connection that cannot be
// opened is left to the first request, which fails or succeeds as it
// would have.
func connectAhead(ctx context.Context, workers []*clientWorker) {
	ctx, cancel := context.WithTimeout(ctx, connectAheadFor)
	defer cancel()
	sem := make(chan struct{}, connectAheadParallel)
	var wg sync.WaitGroup
	for _, w := range workers {
		c, ok := w.sess.client.(connector)
		if !ok || w.rampDelay > 0 {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			_ = c.Connect(ctx)
		}()
	}
	wg.Wait()
}

// shouldAbort applies --on-error and ignore-response-error-level.
func (w *clientWorker) shouldAbort(out outcome) bool {
	if out.err == nil || w.onError != OnErrorAbort {
		return false
	}
	if w.task.IgnoreResponseErrorLevel == "non-fatal" && !out.transport {
		return false
	}
	return true
}

// run is the request loop. The client first waits for the step's start;
// the warmup clock starts then, before the ramp-up wait, as in Rally; the
// schedule starts after the ramp-up, so a late-starting client does not
// burst to catch up. Each request's latency is measured from its intended
// start, so waiting behind a slow response counts, and so does the
// driver's own lateness, which each throttled request records apart as
// its schedule lag (actual minus intended start).
func (w *clientWorker) run(ctx context.Context, complete <-chan struct{}) error {
	lc := loopFor(w.task, w.finite)
	if !w.startAt.IsZero() && !w.waiter.Until(ctx, complete, w.startAt) {
		return nil
	}
	start := time.Now()
	if w.common && !w.startAt.IsZero() && w.startAt.Before(start) && start.Sub(w.startAt) < maxCommonLate {
		start = w.startAt
	}
	origin := start
	if w.rampDelay > 0 {
		origin = start.Add(w.rampDelay)
		if !w.waiter.Until(ctx, complete, origin) {
			return nil
		}
	}
	var end time.Time
	if lc.timeBased && lc.duration > 0 {
		end = start.Add(lc.duration)
	}
	throttled := w.sched.Throttled()
	s := w.sess
	var prev time.Duration
	for i := int64(0); ; i++ {
		if lc.totalIts > 0 && i >= lc.totalIts {
			return nil
		}
		select {
		case <-complete:
			return nil
		default:
		}
		if ctx.Err() != nil {
			return nil
		}
		intended := w.sched.Next(i, prev)
		prev = intended
		at := origin.Add(w.phase + intended)
		if !end.IsZero() && !at.Before(end) {
			return nil
		}
		if throttled && !w.pace.until(w.released, at) {
			return nil
		}
		iterStart := time.Now()
		if !end.IsZero() && !iterStart.Before(end) {
			return nil
		}
		warmup := i < lc.warmupIts
		if lc.timeBased {
			warmup = iterStart.Sub(start) < lc.warmupDur
		}
		s.begin()
		out := w.runner.run(ctx, s)
		procEnd := time.Now()
		if out.fatal {
			return &TaskError{Task: w.task.Name, Client: w.index, Err: out.err}
		}
		if out.exhausted || ctx.Err() != nil {
			// A request cut short by cancellation is not a sample.
			return nil
		}
		if s.first.IsZero() {
			s.first, s.last = iterStart, procEnd
		}
		service := s.last.Sub(s.first)
		latency := service
		var lag time.Duration
		if throttled {
			latency = s.last.Sub(at)
			lag = iterStart.Sub(at)
		}
		// A failed request is a sample too (counted, weighed, its error
		// type and time kept); the recorder keeps its timing out of the
		// successful requests' histograms.
		w.rec.Record(metrics.Sample{
			End:            s.last,
			ServiceTime:    service,
			Latency:        latency,
			ProcessingTime: procEnd.Sub(iterStart),
			Weight:         out.weight,
			Warmup:         warmup,
			Err:            out.errType,
			Throttled:      throttled,
			ScheduleLag:    lag,
		})
		w.requests++
		if out.errType != "" {
			w.errors++
		}
		if w.shouldAbort(out) {
			return &TaskError{Task: w.task.Name, Client: w.index, Err: explainRefusal(ctx, s, out.err)}
		}
	}
}
