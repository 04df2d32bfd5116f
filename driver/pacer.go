package driver

import (
	"context"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// pacerSlack is how long after the earliest waiting client's intended
// start the pacer wakes: every client due by then goes in the same wake-up.
// Each wake-up of an idle process costs a thread switch, tens of µs on a
// virtual machine (and the target's, woken by the first request of each
// batch, as much again), so the slack trades schedule lag for CPU. Measured
// with bench/run.sh (5,000 ops/s over 500 clients on one core of a 2-core
// VM, against the no-op nginx), CPU per request and schedule lag p99:
// 250 µs about 55 µs and 0.6 ms, 500 µs 36 µs and 0.7 ms, 600 µs 34 µs and
// 0.8 ms, 750 µs 31 µs and 0.9 ms, 1 ms 28 µs and 1.2 ms. The lag p50 is
// about half the slack.
const pacerSlack = 700 * time.Microsecond

// alarm is a one-shot timer that one goroutine waits on while others may
// re-arm it.
type alarm interface {
	// set arms the alarm to fire once, d (> 0) from now, replacing any
	// earlier setting.
	set(d time.Duration)
	// wait blocks until the alarm fires; it returns false once the alarm
	// is closed.
	wait() bool
	// close ends wait; set must not be called after it.
	close()
}

// pacer starts the throttled clients of one task at their intended times
// without a timer per client: clients register their next intended start
// and block on their own channel; one goroutine sleeps until the earliest
// one is due (plus pacerSlack) and releases every client due by then. On
// Linux it sleeps on a timerfd, which wakes the process within some tens of
// µs, where Go's runtime timers are up to a millisecond late when the
// process is otherwise idle (the netpoller's epoll timeout has millisecond
// resolution). No client spins: a load driver that burns its CPU waiting
// delays the very responses it times.
type pacer struct {
	alarm alarm
	base  time.Time // origin of the waits' times, on the monotonic clock

	mu      sync.Mutex
	waits   []pacerWait // a min-heap by at
	armed   bool
	armedAt time.Duration // the wait the alarm was set for
	closed  bool
	// stopped: the task's context ended or its step completed (see
	// bind); no wait lasts or starts any more.
	stopped atomic.Bool

	done    chan struct{}
	unbound chan struct{} // closed by close: bind's watch ends
}

// pacerWait is one client waiting: released by a send on ch.
type pacerWait struct {
	at time.Duration // since the pacer's base
	ch chan struct{}
}

// newPacer starts a pacer; close stops it.
func newPacer() *pacer {
	p := &pacer{alarm: newAlarm(), base: time.Now(), done: make(chan struct{}), unbound: make(chan struct{})}
	go p.run()
	return p
}

func (p *pacer) run() {
	defer close(p.done)
	for p.alarm.wait() {
		p.release()
	}
}

// release sends every client due by now (or within spinBelow of it: the
// client finishes that wait itself) on its way and re-arms the alarm for
// the next one.
func (p *pacer) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed = false
	if p.closed {
		return
	}
	now := time.Since(p.base)
	p.releaseDue(now + spinBelow)
	if len(p.waits) > 0 {
		p.arm(p.waits[0].at, now)
	}
}

// releaseDue sends every client due by t on its way; p.mu is held.
func (p *pacer) releaseDue(t time.Duration) {
	for len(p.waits) > 0 && p.waits[0].at <= t {
		w := p.pop()
		select {
		case w.ch <- struct{}{}:
		default: // its channel holds a release already (the stop's)
		}
	}
}

// arm sets the alarm for the wait due at (pacerSlack after it); p.mu is
// held.
func (p *pacer) arm(at, now time.Duration) {
	p.alarm.set(max(at-now+pacerSlack, time.Nanosecond))
	p.armed, p.armedAt = true, at
}

// bind ends every wait, and refuses new ones, once ctx is done or stop
// (nil: never) is closed: one goroutine watches them for all clients, so
// a client's wait is a plain receive on its own channel, not a select over
// three channels that 500 clients share.
func (p *pacer) bind(ctx context.Context, stop <-chan struct{}) {
	go func() {
		select {
		case <-ctx.Done():
		case <-stop:
		case <-p.unbound:
			return
		}
		p.mu.Lock()
		p.stopped.Store(true)
		p.releaseDue(math.MaxInt64)
		p.mu.Unlock()
	}()
}

// until blocks the client owning ch until at; it returns false, early,
// once the pacer is stopped (see bind). ch is the client's own, with a
// buffer of one. It never returns true before at: a client released up to
// spinBelow early yields the rest away, and one released early for any
// other reason waits again.
func (p *pacer) until(ch chan struct{}, at time.Time) bool {
	for now := time.Now(); at.Sub(now) >= spinBelow; now = time.Now() {
		t := at.Sub(p.base)
		p.mu.Lock()
		if p.stopped.Load() {
			p.mu.Unlock()
			return false
		}
		p.push(pacerWait{at: t, ch: ch})
		if !p.armed || t < p.armedAt {
			p.arm(t, now.Sub(p.base))
		}
		p.mu.Unlock()
		<-ch
		if p.stopped.Load() {
			return false
		}
	}
	for time.Now().Before(at) {
		if p.stopped.Load() {
			return false
		}
		runtime.Gosched()
	}
	return !p.stopped.Load()
}

// close stops the pacer once no client waits any more.
func (p *pacer) close() {
	p.mu.Lock()
	p.closed = true
	p.alarm.close()
	p.mu.Unlock()
	close(p.unbound)
	<-p.done
}

// push adds w to the heap (no allocation once the slice has grown).
func (p *pacer) push(w pacerWait) {
	p.waits = append(p.waits, w)
	h := p.waits
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if h[parent].at <= h[i].at {
			break
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
}

// pop removes and returns the earliest wait.
func (p *pacer) pop() pacerWait {
	h := p.waits
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = pacerWait{}
	h = h[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[l].at < h[small].at {
			small = l
		}
		if r < len(h) && h[r].at < h[small].at {
			small = r
		}
		if small == i {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
	p.waits = h
	return top
}

// timerAlarm is an alarm on a runtime timer, where no better one exists.
type timerAlarm struct {
	t      *time.Timer
	closed chan struct{}
}

var _ alarm = (*timerAlarm)(nil)

func newTimerAlarm() *timerAlarm {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &timerAlarm{t: t, closed: make(chan struct{})}
}

func (a *timerAlarm) set(d time.Duration) { a.t.Reset(d) }

func (a *timerAlarm) wait() bool {
	select {
	case <-a.t.C:
		return true
	case <-a.closed:
		return false
	}
}

func (a *timerAlarm) close() {
	a.t.Stop()
	close(a.closed)
}
