package driver

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"rally/track"
)

// Schedule gives each request of one client its intended start time,
// relative to the moment the client started sending. It is a pure function
// of its inputs (plus, for Poisson, a seeded random source), so it is tested
// without clocks.
type Schedule interface {
	// Next returns the intended start of request i (0-based); prev is the
	// value Next returned for request i-1 (zero for i == 0).
	Next(i int64, prev time.Duration) time.Duration
	// Throttled is false when requests go out as fast as possible; latency
	// is then reported equal to service time, as Rally does.
	Throttled() bool
}

// Unthrottled sends every request as soon as the previous one is done.
type Unthrottled struct{}

var _ Schedule = Unthrottled{}

// Next always returns 0: every request is due at once.
func (Unthrottled) Next(int64, time.Duration) time.Duration { return 0 }

// Throttled is false.
func (Unthrottled) Throttled() bool { return false }

// Deterministic spaces requests evenly at Rate per second: request i is due
// at i/Rate. Computing from i (not by adding intervals) keeps rounding from
// accumulating over long runs.
type Deterministic struct {
	// Rate is requests per second for this client; must be > 0.
	Rate float64
}

var _ Schedule = Deterministic{}

// Next returns i/Rate.
func (d Deterministic) Next(i int64, _ time.Duration) time.Duration {
	return time.Duration(math.Round(float64(i) / d.Rate * float64(time.Second)))
}

// Throttled is true.
func (Deterministic) Throttled() bool { return true }

// Poisson spaces requests with exponentially distributed gaps of mean
// 1/Rate: arrivals of an open system, as in Rally's "poisson" schedule.
// Request 0 is due at once.
type Poisson struct {
	Rate float64
	rng  *rand.Rand
}

var _ Schedule = (*Poisson)(nil)

// NewPoisson returns a Poisson schedule drawing from a PCG source seeded
// with seed, so a run is reproducible.
func NewPoisson(rate float64, seed uint64) *Poisson {
	return &Poisson{Rate: rate, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Next returns prev plus an exponential gap (0 for request 0).
func (p *Poisson) Next(i int64, prev time.Duration) time.Duration {
	if i == 0 {
		return 0
	}
	gap := p.rng.ExpFloat64() / p.Rate
	return prev + time.Duration(gap*float64(time.Second))
}

// Throttled is true.
func (*Poisson) Throttled() bool { return true }

// Phase is how far into its first interval client index (0-based, of
// total clients of a task) of a deterministic schedule starts: index/total
// of the interval, added to each of its intended starts. The task's
// clients then together send at an even rate, as its target throughput
// says, instead of all at once at the start of every interval: 5,000 ops/s
// over 500 clients is a request every 200 µs, not a burst of 500 every
// 100 ms that no load driver could start on time and that loads the target
// in a way the track did not ask for. Rally starts every client's schedule
// at once; a ramp-up (which spreads the clients' starts anyway) keeps that.
// Unthrottled and Poisson schedules start at once.
func Phase(s Schedule, index, total int) time.Duration {
	d, ok := s.(Deterministic)
	if !ok || total <= 1 || index <= 0 || index >= total || d.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / d.Rate * float64(index) / float64(total))
}

// maxRate is the per-client rate above which a schedule is unthrottled:
// test mode sets Rally's sys.maxsize as target throughput, which means
// "throttled code path, never waiting".
const maxRate = 1e9

// ScheduleFor returns the schedule of one client of a task: the task's
// target throughput is split evenly over all its clients (each gets
// TargetThroughput/totalClients), as in Rally. requestWeight converts a
// throughput in documents to requests: a bulk task with target-throughput
// "5000 docs/s" and bulk-size 500 sends 10 requests/s (1 for "ops/s").
// seed makes Poisson reproducible per client.
func ScheduleFor(t *track.Task, totalClients int, requestWeight float64, seed uint64) Schedule {
	if t.TargetThroughput <= 0 {
		return Unthrottled{}
	}
	if totalClients < 1 {
		totalClients = 1
	}
	if requestWeight <= 0 {
		requestWeight = 1
	}
	rate := t.TargetThroughput / float64(totalClients) / requestWeight
	if rate >= maxRate || math.IsInf(rate, 0) || math.IsNaN(rate) {
		return Unthrottled{}
	}
	if t.Schedule == track.SchedulePoisson {
		return NewPoisson(rate, seed)
	}
	return Deterministic{Rate: rate}
}

// RampUpDelay is how long client index (0-based among total clients of a
// step) waits before its first request so load grows gradually over
// rampUp: index/total of the period, as in Rally.
func RampUpDelay(rampUp time.Duration, index, total int) time.Duration {
	if rampUp <= 0 || total <= 0 || index <= 0 {
		return 0
	}
	return time.Duration(float64(rampUp) * float64(index) / float64(total))
}

// spinBelow is the longest wait a Waiter spends yielding the processor
// instead of sleeping on its timer: a timer cannot serve so short a wait
// any better, and spinning that briefly costs next to nothing.
const spinBelow = 20 * time.Microsecond

// Waiter sleeps until a given time on one reused runtime timer, so waiting
// allocates nothing and burns no CPU: a client's one-off waits (the step's
// start, its ramp-up) use it, while the requests of throttled clients wait
// on their task's pacer. Go's timers fire up to about a millisecond late on
// Linux when the process is otherwise idle (the netpoller's epoll timeout
// has millisecond resolution); the Waiter does not spin ahead of the time
// to hide that, since a load driver whose waiting clients keep the
// processors busy delays the very responses it times. A Waiter belongs to
// one goroutine.
type Waiter struct {
	timer *time.Timer
}

// NewWaiter returns a Waiter with a stopped timer.
func NewWaiter() *Waiter {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &Waiter{timer: t}
}

// Until waits until at, never returning before it (unless interrupted). It
// returns false, early, when ctx is done or stop is closed (stop may be
// nil).
func (w *Waiter) Until(ctx context.Context, stop <-chan struct{}, at time.Time) bool {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err() == nil
	}
	if d < spinBelow {
		for time.Now().Before(at) {
			if ctx.Err() != nil {
				return false
			}
			runtime.Gosched()
		}
		return ctx.Err() == nil
	}
	// The timer runs on the monotonic clock, as time.Until measures, and
	// never fires before its time.
	w.timer.Reset(d)
	select {
	case <-w.timer.C:
		return ctx.Err() == nil
	case <-ctx.Done():
		w.timer.Stop()
		return false
	case <-stop:
		w.timer.Stop()
		return false
	}
}

// Stop releases the timer.
func (w *Waiter) Stop() { w.timer.Stop() }
