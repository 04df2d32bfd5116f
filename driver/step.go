package driver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"rally/metrics"
	"rally/track"
)

// StepPlan is one schedule step (a task or a parallel block) for one host:
// the whole step, or this host's share of its clients when the coordinator
// spreads them over several hosts.
type StepPlan struct {
	Track *track.Track
	Step  *track.Step
	// Shares are the tasks and clients this host runs; nil means every
	// task of the step with all its clients (a single host).
	Shares []StepShare
	// ClientLimit is how many of this host's clients of a parallel block
	// may run at once (the block's "clients", or this host's part of it);
	// zero means the step's own Clients when Shares is nil, else no limit.
	ClientLimit int
	Targets     []Target
	// ClientOptions apply to every client; Transport selects the HTTP
	// client (empty means fasthttp).
	ClientOptions ClientOptions
	Transport     Transport
	// OnError is OnErrorContinue (default) or OnErrorAbort.
	OnError string
	// TestMode shortens every task (Rally's --test-mode).
	TestMode bool
	// DataDir is where corpora live (~/.rally/benchmarks/data).
	DataDir string
	// Epoch is race-wide for the 1-second throughput buckets; zero means
	// the start of each task.
	Epoch time.Time
	// Seed makes Poisson schedules and id conflicts reproducible; task ti
	// of the step runs with Seed + ti<<32 on every host.
	Seed uint64
	// Progress receives events; nil means none. The tasks of a parallel
	// block call it from their own goroutines, so it must be safe for
	// concurrent use.
	Progress func(ProgressEvent)
	// NewClient overrides the HTTP client (tests, benchmarks); nil means
	// NewClient(Transport, ...).
	NewClient func(Target, ClientOptions) (Client, error)
	// Start is when the step's clients start, in this host's clock (the
	// coordinator sends it corrected by the host's clock offset, so steps
	// start together everywhere); zero means now.
	Start time.Time
	// End, when closed, ends every task of the step after each client's
	// current request: the block was completed on another host.
	End <-chan struct{}
	// Completed is called at most once, from the goroutine of the task,
	// when a task whose end completes the block (the step's completed-by
	// task, any task under completed-by "any", or a task with
	// completes-parent) has finished on this host without error and the
	// block had not ended yet; the coordinator then ends the block on
	// every host. The executor ends the block on this host itself as well,
	// so a single host needs no Completed.
	Completed func(task string)
}

// StepShare is the clients of one task of the step that this host runs.
type StepShare struct {
	Task          int   // index in Step.Tasks
	ClientIndexes []int // each in [0, task clients); nil means all
}

// stepTask is one task of a step as this host runs it.
type stepTask struct {
	plan TaskPlan
	// completes is true when the task's end ends the whole block.
	completes bool
}

// taskPlans lays the step out for this host: one TaskPlan per share, in
// Shares order (Step order when Shares is nil). Ramp-up offsets, the ramp
// total and seeds come from the whole step, so they are the same whichever
// host runs a client.
func (sp *StepPlan) taskPlans() ([]stepTask, error) {
	if sp.Track == nil || sp.Step == nil {
		return nil, errors.New("run step: no track or step")
	}
	step := sp.Step
	if sp.ClientLimit < 0 {
		return nil, fmt.Errorf("run step: client limit %d is negative", sp.ClientLimit)
	}
	offsets := make([]int, len(step.Tasks))
	stepClients := 0
	for ti := range step.Tasks {
		offsets[ti] = stepClients
		stepClients += max(step.Tasks[ti].Clients, 1)
	}
	rampTotal := stepClients
	if step.Clients > 0 {
		rampTotal = step.Clients
	}
	shares := sp.Shares
	limit := sp.ClientLimit
	if shares == nil {
		shares = make([]StepShare, len(step.Tasks))
		for ti := range shares {
			shares[ti].Task = ti
		}
		if limit == 0 {
			limit = step.Clients
		}
	}
	seen := make([]bool, len(step.Tasks))
	hostClients := 0
	for _, sh := range shares {
		if sh.Task < 0 || sh.Task >= len(step.Tasks) {
			return nil, fmt.Errorf("run step: share of task %d: the step has %d tasks", sh.Task, len(step.Tasks))
		}
		if seen[sh.Task] {
			return nil, fmt.Errorf("run step: task %q is shared twice", step.Tasks[sh.Task].Name)
		}
		seen[sh.Task] = true
		if sh.ClientIndexes == nil {
			hostClients += max(step.Tasks[sh.Task].Clients, 1)
		} else {
			hostClients += len(sh.ClientIndexes)
		}
	}
	// Clients beyond the limit wait for a slot and run after others, as
	// Rally's allocator runs them one after another on the same client.
	var slots chan struct{}
	if limit > 0 && limit < hostClients {
		slots = make(chan struct{}, limit)
	}
	out := make([]stepTask, len(shares))
	for i, sh := range shares {
		task := &step.Tasks[sh.Task]
		out[i] = stepTask{
			plan: TaskPlan{
				Track:         sp.Track,
				Task:          task,
				ClientIndexes: sh.ClientIndexes,
				TotalClients:  max(task.Clients, 1),
				RampUpOffset:  offsets[sh.Task],
				RampUpTotal:   rampTotal,
				Targets:       sp.Targets,
				ClientOptions: sp.ClientOptions,
				Transport:     sp.Transport,
				OnError:       sp.OnError,
				TestMode:      sp.TestMode,
				DataDir:       sp.DataDir,
				Epoch:         sp.Epoch,
				Seed:          taskSeed(sp.Seed, sh.Task),
				Progress:      sp.Progress,
				Start:         sp.Start,
				Slots:         slots,
				NewClient:     sp.NewClient,
			},
			completes: completesBlock(step, task),
		}
	}
	return out, nil
}

// completesBlock reports whether the end of task ends its whole step.
func completesBlock(step *track.Step, task *track.Task) bool {
	return step.CompletedBy == "any" || task.CompletesParent || (step.CompletedBy != "" && task.Name == step.CompletedBy)
}

// blockEnd is the end of a parallel block on this host: closed once, by
// the first task that completes the block or by the step's End.
type blockEnd struct {
	ch   chan struct{}
	once sync.Once
}

// end closes the channel; it reports whether this call closed it.
func (b *blockEnd) end() bool {
	closed := false
	b.once.Do(func() {
		close(b.ch)
		closed = true
	})
	return closed
}

// RunStep runs a step (or this host's share of it) to its end and returns
// the results of the tasks it ran, in Shares order (Step order when Shares
// is nil). Deltas go to sink; calls to sink are serialised by RunStep.
// The first task to abort (--on-error abort) or fail stops the rest of the
// block and its error is returned; when ctx ends first, its error is.
func RunStep(ctx context.Context, sp StepPlan, sink func(*metrics.Delta)) ([]TaskResult, error) {
	tasks, err := sp.taskPlans()
	if err != nil {
		return nil, err
	}
	var sinkMu sync.Mutex
	serialSink := func(d *metrics.Delta) {
		if sink == nil {
			return
		}
		sinkMu.Lock()
		defer sinkMu.Unlock()
		sink(d)
	}
	stepCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	end := &blockEnd{ch: make(chan struct{})}
	relayStop := make(chan struct{})
	var relay sync.WaitGroup
	if sp.End != nil {
		relay.Go(func() {
			select {
			case <-sp.End:
				end.end()
			case <-relayStop:
			}
		})
	}

	results := make([]TaskResult, len(tasks))
	var first firstError
	var wg sync.WaitGroup
	for i := range tasks {
		tp, completes := tasks[i].plan, tasks[i].completes
		tp.Complete = end.ch
		wg.Go(func() {
			res, err := RunTask(stepCtx, tp, serialSink)
			results[i] = res
			if err != nil {
				if ctx.Err() == nil && first.set(err) {
					cancel()
				}
				return
			}
			// A host with no clients of the task has not seen it finish.
			if completes && res.Clients > 0 && stepCtx.Err() == nil && end.end() && sp.Completed != nil {
				sp.Completed(tp.Task.Name)
			}
		})
	}
	wg.Wait()
	close(relayStop)
	relay.Wait()
	if err := first.get(); err != nil {
		return results, err
	}
	return results, ctx.Err()
}

// poissonMargin is how many standard deviations StepBound allows beyond
// the mean duration of a Poisson schedule: its n gaps sum to a duration of
// mean n/rate and standard deviation sqrt(n)/rate, which six deviations
// exceed with negligible probability.
const poissonMargin = 6

// StepBound is how long a step can last from its schedule alone, from its
// start to its last client's last intended request: the longest of its
// tasks, each ramp-up plus warmup-time-period plus time-period when timed,
// or (warmup-iterations + iterations) × clients / target-throughput when
// throttled by iterations in ops/s. It is false when a task's duration
// depends on the target (unthrottled iterations, a bulk over its corpus,
// throttling in another unit). A block that a task completes lasts as long
// as that task (the shortest one under completed-by "any"). When the
// block's clients are fewer than its tasks', clients take turns and the
// bound is that of greedy scheduling, total work / clients + the longest
// client × (1 - 1/clients); a coordinator that spreads the block's clients
// over hosts spreads the limit in proportion. testMode shortens tasks as
// RunTask does. Service times are not included: a caller adds a grace.
func StepBound(step *track.Step, testMode bool) (time.Duration, bool) {
	if step == nil || len(step.Tasks) == 0 {
		return 0, false
	}
	var longest, completing time.Duration
	var work float64 // client-seconds
	allBounded, anyCompleting := true, false
	clients := 0
	for ti := range step.Tasks {
		task := step.Tasks[ti]
		if testMode {
			applyTestMode(&task)
		}
		n := max(task.Clients, 1)
		clients += n
		d, ok := taskBound(&task)
		if !ok {
			allBounded = false
			continue
		}
		longest = max(longest, d)
		work += float64(n) * d.Seconds()
		if completesBlock(step, &task) && (!anyCompleting || d < completing) {
			completing, anyCompleting = d, true
		}
	}
	if limit := step.Clients; limit > 0 && limit < clients {
		if !allBounded {
			return 0, false
		}
		l := float64(limit)
		secs := work/l + longest.Seconds()*(1-1/l)
		return time.Duration(math.Ceil(secs * float64(time.Second))), true
	}
	if anyCompleting {
		return completing, true
	}
	return longest, allBounded
}

// taskBound is how long one client of a task can run from its schedule
// alone, ramp-up included (see StepBound).
func taskBound(t *track.Task) (time.Duration, bool) {
	if t.WarmupTimePeriod > 0 || t.TimePeriod > 0 {
		if t.TimePeriod <= 0 {
			// Timed warmup, then until the corpus is exhausted.
			return 0, false
		}
		return t.RampUpTimePeriod + t.WarmupTimePeriod + t.TimePeriod, true
	}
	unit := t.TargetThroughputUnit
	// Without iterations an operation runs once per client, or over its
	// whole corpus for a bulk: only compiling the task tells which.
	if t.Iterations <= 0 || t.TargetThroughput <= 0 || (unit != "" && unit != "ops/s") {
		return 0, false
	}
	n := float64(t.WarmupIterations + t.Iterations)
	rate := t.TargetThroughput / float64(max(t.Clients, 1))
	if rate >= maxRate {
		return 0, false // test mode's "never wait": unthrottled in effect
	}
	if t.Schedule == track.SchedulePoisson {
		n += poissonMargin * math.Sqrt(n)
	}
	secs := n / rate
	return t.RampUpTimePeriod + time.Duration(math.Ceil(secs*float64(time.Second))), true
}
