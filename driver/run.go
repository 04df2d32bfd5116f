package driver

import (
	"context"
	"errors"
	"fmt"
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

// stepPlan is the StepPlan of one step of the plan on this host: every
// task with all its clients, with the settings every step shares.
func (p *Plan) stepPlan(index int, step *track.Step, epoch time.Time) StepPlan {
	return StepPlan{
		Track:         p.Track,
		Step:          step,
		Targets:       p.Targets,
		ClientOptions: p.ClientOptions,
		Transport:     p.Transport,
		OnError:       p.OnError,
		TestMode:      p.TestMode,
		DataDir:       p.DataDir,
		Epoch:         epoch,
		Seed:          StepSeed(p.Seed, index),
		Progress:      p.Progress,
		NewClient:     p.NewClient,
	}
}

// StepSeed is the seed of schedule step index of a race seeded with seed:
// one rule for a single host and for members, so that a task's clients
// draw the same numbers wherever they run, and steps draw different ones.
func StepSeed(seed uint64, index int) uint64 {
	return seed + uint64(index)*0x9e3779b97f4a7c15
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

// Run runs the challenge's schedule with RunStep: steps one after another
// (a join point between them), the tasks of a parallel block concurrently
// (its completed-by task, when named, ends the block). Client deltas go to
// sink about once a second and at each task's end; Run serialises its
// calls. It stops at the first task that aborts or fails and returns that
// error; the tasks it did not run are listed with StatusNotRun.
func Run(ctx context.Context, p Plan, sink func(*metrics.Delta)) (Result, error) {
	var res Result
	if err := Prepare(ctx, p); err != nil {
		return res, err
	}
	if len(p.Targets) == 0 {
		return res, errors.New("run: no target hosts")
	}
	epoch := orNow(p.Epoch)
	var runErr error
	for si := range p.Challenge.Schedule {
		step := &p.Challenge.Schedule[si]
		if runErr != nil || ctx.Err() != nil {
			for ti := range step.Tasks {
				t := &step.Tasks[ti]
				res.Tasks = append(res.Tasks, TaskResult{Info: TaskInfoOf(p.Track, t), IncludeInReporting: t.IncludeInReporting, Status: StatusNotRun})
			}
			continue
		}
		results, err := RunStep(ctx, p.stepPlan(si, step, epoch), sink)
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
