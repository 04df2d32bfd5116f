package driver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"rally/metrics"
	"rally/track"
)

// Plan is a whole challenge for one host running all clients.
type Plan struct {
	Track     *track.Track
	Challenge *track.Challenge
	Targets   []Target
	// ClientOptions apply to every client; Transport selects the HTTP
	// client (empty means fasthttp).
	ClientOptions ClientOptions
	Transport     Transport
	// OnError is OnErrorContinue (default) or OnErrorAbort.
	OnError string
	// TestMode shortens every task (Rally's --test-mode); the track loader
	// has already chosen the small corpus files.
	TestMode bool
	// DataDir is ~/.rally/benchmarks/data.
	DataDir string
	// Epoch is race-wide for the 1-second throughput buckets; zero means
	// the start of Run.
	Epoch time.Time
	// Seed makes Poisson schedules and id conflicts reproducible.
	Seed uint64
	// Progress receives events; nil means none. Tasks of a parallel block
	// call it from their own goroutines, so it must be safe for concurrent
	// use.
	Progress func(ProgressEvent)
	// NewClient overrides the HTTP client (tests, benchmarks); nil means
	// NewClient(Transport, ...).
	NewClient func(Target, ClientOptions) (Client, error)
}

// taskPlan is the TaskPlan of one task of the plan on this host: all its
// clients, with the settings every task of the plan shares.
func (p *Plan) taskPlan(task *track.Task, epoch time.Time, seed uint64) TaskPlan {
	return TaskPlan{
		Track:         p.Track,
		Task:          task,
		TotalClients:  max(task.Clients, 1),
		Targets:       p.Targets,
		ClientOptions: p.ClientOptions,
		Transport:     p.Transport,
		OnError:       p.OnError,
		TestMode:      p.TestMode,
		DataDir:       p.DataDir,
		Epoch:         epoch,
		Seed:          seed,
		Progress:      p.Progress,
		NewClient:     p.NewClient,
	}
}

// Result is how every task of a challenge ended, in schedule order.
type Result struct {
	Tasks []TaskResult
}

// TaskInfos lists the tasks to report (include-in-reporting), for
// metrics.Aggregator.Summary.
func (r Result) TaskInfos() []metrics.TaskInfo {
	var out []metrics.TaskInfo
	for _, t := range r.Tasks {
		if t.IncludeInReporting {
			out = append(out, t.Info)
		}
	}
	return out
}

// Prepare does the slow work before a race: it makes the corpora of every
// bulk task ready (found, downloaded, decompressed, offset tables). Run
// calls it; a worker host may call it ahead of the race.
func Prepare(ctx context.Context, p Plan) error {
	if err := Validate(p.Track, p.Challenge); err != nil {
		return err
	}
	for si := range p.Challenge.Schedule {
		for ti := range p.Challenge.Schedule[si].Tasks {
			task := &p.Challenge.Schedule[si].Tasks[ti]
			spec, err := compileTask(p.Track, task)
			if err != nil {
				return fmt.Errorf("task %q: %w", task.Name, err)
			}
			if err := prepareTask(ctx, spec, p.Track, p.DataDir, p.Progress, task.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// Run runs the challenge's schedule: steps one after another (a join point
// between them), the tasks of a parallel block concurrently (its
// completed-by task, when named, ends the block). Client deltas go to sink
// about once a second and at each task's end; Run serialises its calls.
// It stops at the first task that aborts or fails and returns that error;
// the tasks it did not run are listed with StatusNotRun.
func Run(ctx context.Context, p Plan, sink func(*metrics.Delta)) (Result, error) {
	var res Result
	if err := Prepare(ctx, p); err != nil {
		return res, err
	}
	if len(p.Targets) == 0 {
		return res, errors.New("run: no target hosts")
	}
	epoch := orNow(p.Epoch)
	var sinkMu sync.Mutex
	safeSink := func(d *metrics.Delta) {
		if sink == nil {
			return
		}
		sinkMu.Lock()
		defer sinkMu.Unlock()
		sink(d)
	}
	var runErr error
	for si := range p.Challenge.Schedule {
		step := &p.Challenge.Schedule[si]
		if runErr != nil || ctx.Err() != nil {
			for ti := range step.Tasks {
				t := &step.Tasks[ti]
				res.Tasks = append(res.Tasks, TaskResult{Info: taskInfo(t, nil), IncludeInReporting: t.IncludeInReporting, Status: StatusNotRun})
			}
			continue
		}
		results, err := runStep(ctx, p, step, epoch, safeSink)
		res.Tasks = append(res.Tasks, results...)
		if err != nil {
			runErr = err
		}
	}
	if runErr == nil && ctx.Err() != nil {
		runErr = ctx.Err()
	}
	return res, runErr
}

// runStep runs one step: a task, or a parallel block.
func runStep(ctx context.Context, p Plan, step *track.Step, epoch time.Time, sink func(*metrics.Delta)) ([]TaskResult, error) {
	stepTotal := 0
	for ti := range step.Tasks {
		stepTotal += max(step.Tasks[ti].Clients, 1)
	}
	rampTotal := stepTotal
	var slots chan struct{}
	if step.Clients > 0 {
		rampTotal = step.Clients
		if step.Clients < stepTotal {
			slots = make(chan struct{}, step.Clients)
		}
	}
	complete := make(chan struct{})
	var completeOnce sync.Once
	results := make([]TaskResult, len(step.Tasks))
	// The first task to abort or fail stops the rest of the block.
	stepCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var firstErr firstError
	var wg sync.WaitGroup
	offset := 0
	for ti := range step.Tasks {
		task := &step.Tasks[ti]
		tp := p.taskPlan(task, epoch, p.Seed+uint64(ti)<<32)
		tp.RampUpOffset, tp.RampUpTotal, tp.Slots = offset, rampTotal, slots
		// With completed-by the other tasks stop when the named one ends;
		// with "any" every task stops when the first one ends.
		completes := step.CompletedBy == "any" || task.CompletesParent || (step.CompletedBy != "" && task.Name == step.CompletedBy)
		if step.CompletedBy == "any" || (step.CompletedBy != "" && !completes) {
			tp.Complete = complete
		}
		offset += tp.TotalClients
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			results[ti], err = RunTask(stepCtx, tp, sink)
			if err != nil && ctx.Err() == nil && firstErr.set(err) {
				cancel()
			}
			if completes {
				completeOnce.Do(func() { close(complete) })
			}
		}()
	}
	wg.Wait()
	return results, firstErr.get()
}
