package driver

import (
	"context"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestPacerReleasesEveryClientAtItsTime(t *testing.T) {
	// 50 clients each wait for 20 intended starts spread at random over
	// the next 20 ms: every wait ends, none before its time.
	p := newPacer()
	defer p.close()
	const clients, waits = 50, 20
	var mu sync.Mutex
	var lateness []time.Duration
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			ch := make(chan struct{}, 1)
			for range waits {
				at := time.Now().Add(time.Duration(rng.Int64N(int64(20 * time.Millisecond))))
				if !p.until(ch, at) {
					t.Error("wait interrupted")
					return
				}
				late := time.Since(at)
				if late < 0 {
					t.Errorf("released %v early", -late)
				}
				mu.Lock()
				lateness = append(lateness, late)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(lateness) != clients*waits {
		t.Fatalf("%d waits ended, want %d", len(lateness), clients*waits)
	}
	slices.Sort(lateness)
	// How late is the benchmarks' business; this only shows it.
	t.Logf("lateness: median %v, p99 %v", lateness[len(lateness)/2], lateness[len(lateness)*99/100])
}

func TestPacerWaitStopsOnCancelAndComplete(t *testing.T) {
	start := time.Now()
	// Cancelled while a client waits: the wait ends, and no new one
	// starts.
	p := newPacer()
	defer p.close()
	ch := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	p.bind(ctx, nil)
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if p.until(ch, start.Add(time.Hour)) {
		t.Fatal("wait not interrupted by cancel")
	}
	if p.until(ch, time.Now().Add(time.Hour)) {
		t.Fatal("a wait started after the cancel")
	}
	// Completed before the wait.
	q := newPacer()
	defer q.close()
	stop := make(chan struct{})
	close(stop)
	q.bind(context.Background(), stop)
	for !q.stopped.Load() {
		runtime.Gosched()
	}
	if q.until(make(chan struct{}, 1), time.Now().Add(time.Hour)) {
		t.Fatal("wait not interrupted by complete")
	}
	if time.Since(start) > time.Second {
		t.Fatal("interrupt took too long")
	}
}

// Many clients waiting when the task is cancelled all return at once.
func TestPacerCancelEndsEveryWait(t *testing.T) {
	p := newPacer()
	defer p.close()
	ctx, cancel := context.WithCancel(context.Background())
	p.bind(ctx, nil)
	const n = 100
	done := make(chan bool, n)
	for range n {
		go func() { done <- p.until(make(chan struct{}, 1), time.Now().Add(time.Hour)) }()
	}
	time.Sleep(20 * time.Millisecond)
	cancel()
	for range n {
		select {
		case ok := <-done:
			if ok {
				t.Fatal("a wait ended as if due")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a wait outlived the cancel")
		}
	}
}

func TestPacerHeapPopsInOrder(t *testing.T) {
	p := &pacer{}
	rng := rand.New(rand.NewPCG(3, 4))
	var want []time.Duration
	for range 1000 {
		at := time.Duration(rng.Int64N(1000))
		want = append(want, at)
		p.push(pacerWait{at: at})
	}
	slices.Sort(want)
	for i, w := range want {
		if got := p.pop().at; got != w {
			t.Fatalf("pop %d = %v, want %v", i, got, w)
		}
	}
	if len(p.waits) != 0 {
		t.Fatalf("%d waits left", len(p.waits))
	}
}

func TestAlarm(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func() alarm
	}{{"platform", newAlarm}, {"runtime_timer", func() alarm { return newTimerAlarm() }}} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.new()
			start := time.Now()
			a.set(time.Hour)
			a.set(2 * time.Millisecond) // a later setting replaces the first
			if !a.wait() {
				t.Fatal("wait reported closed")
			}
			if took := time.Since(start); took < 2*time.Millisecond || took > 10*time.Second {
				t.Fatalf("fired after %v, want 2 ms or a little more", took)
			}
			// An expiry before the wait starts is not lost.
			a.set(time.Millisecond)
			time.Sleep(20 * time.Millisecond)
			expired := make(chan bool)
			go func() { expired <- a.wait() }()
			select {
			case <-expired:
			case <-time.After(10 * time.Second):
				t.Fatal("an expiry before the wait was lost")
			}
			// Set and waited for over and over, it fires each time, never
			// early.
			for i := range 200 {
				at := time.Now().Add(100 * time.Microsecond)
				a.set(100 * time.Microsecond)
				if !a.wait() {
					t.Fatal("wait reported closed")
				}
				if now := time.Now(); now.Before(at) {
					t.Fatalf("round %d fired %v early", i, at.Sub(now))
				}
			}
			done := make(chan bool)
			go func() { done <- a.wait() }()
			a.close()
			select {
			case ok := <-done:
				if ok {
					t.Fatal("wait after close reported a firing")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("close did not end the wait")
			}
		})
	}
}

// A throttled client's wait is on every request's path: once the heap has
// grown, it allocates nothing, in the client or in the pacer.
func TestPacerWaitAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; run without -race to count allocations")
	}
	p := newPacer()
	defer p.close()
	ch := make(chan struct{}, 1)
	wait := func() {
		if !p.until(ch, time.Now().Add(100*time.Microsecond)) {
			t.Fatal("wait interrupted")
		}
	}
	for range 10 {
		wait()
	}
	if n := testing.AllocsPerRun(200, wait); n != 0 {
		t.Fatalf("%v allocations per wait, want 0", n)
	}
}
