package driver

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"rally/track"
)

func TestDeterministicScheduleGivesExactIntendedTimes(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		i    int64
		want time.Duration
	}{
		{50, 0, 0},
		{50, 1, 20 * time.Millisecond},
		{50, 3, 60 * time.Millisecond},
		{3, 1, 333333333},
		{3, 3, time.Second},
		{3, 3_000_000, 1_000_000 * time.Second}, // no drift over millions of requests
		{0.5, 2, 4 * time.Second},
	} {
		d := Deterministic{Rate: tc.rate}
		if got := d.Next(tc.i, 0); got != tc.want {
			t.Errorf("rate %v request %d: got %v, want %v", tc.rate, tc.i, got, tc.want)
		}
	}
}

func TestUnthrottledScheduleIsAlwaysDue(t *testing.T) {
	var u Unthrottled
	if u.Throttled() || u.Next(0, 0) != 0 || u.Next(1000, time.Hour) != 0 {
		t.Fatal("unthrottled schedule delays requests")
	}
}

func TestPoissonScheduleMeanRate(t *testing.T) {
	const rate, n = 200.0, 200_000
	p := NewPoisson(rate, 42)
	var prev time.Duration
	var gaps []float64
	for i := int64(0); i < n; i++ {
		next := p.Next(i, prev)
		if next < prev {
			t.Fatalf("request %d scheduled before its predecessor", i)
		}
		if i > 0 {
			gaps = append(gaps, (next - prev).Seconds())
		}
		prev = next
	}
	if p.Next(0, 0) != 0 {
		t.Fatal("first request is not due at once")
	}
	gotRate := float64(n-1) / prev.Seconds()
	if math.Abs(gotRate-rate)/rate > 0.01 {
		t.Fatalf("mean rate %.2f/s, want %.0f/s ±1%%", gotRate, rate)
	}
	// Exponential gaps: standard deviation equals the mean.
	var mean, sq float64
	for _, g := range gaps {
		mean += g
	}
	mean /= float64(len(gaps))
	for _, g := range gaps {
		sq += (g - mean) * (g - mean)
	}
	sd := math.Sqrt(sq / float64(len(gaps)))
	if math.Abs(sd-mean)/mean > 0.03 {
		t.Fatalf("gap sd %.6f vs mean %.6f: not exponential", sd, mean)
	}
}

func TestPoissonScheduleIsReproducible(t *testing.T) {
	a, b, c := NewPoisson(10, 7), NewPoisson(10, 7), NewPoisson(10, 8)
	var pa, pb, pc time.Duration
	same := true
	for i := int64(0); i < 100; i++ {
		pa, pb, pc = a.Next(i, pa), b.Next(i, pb), c.Next(i, pc)
		if pa != pb {
			t.Fatalf("same seed differs at %d", i)
		}
		same = same && pa == pc
	}
	if same {
		t.Fatal("different seeds give the same schedule")
	}
}

func TestScheduleForSplitsThroughputAcrossClients(t *testing.T) {
	task := &track.Task{TargetThroughput: 100}
	d, ok := ScheduleFor(task, 4, 1, 1).(Deterministic)
	if !ok || d.Rate != 25 {
		t.Fatalf("got %#v, want deterministic 25/s per client", ScheduleFor(task, 4, 1, 1))
	}
	task.Schedule = track.SchedulePoisson
	if p, ok := ScheduleFor(task, 5, 1, 1).(*Poisson); !ok || p.Rate != 20 {
		t.Fatalf("got %#v, want poisson 20/s per client", ScheduleFor(task, 5, 1, 1))
	}
	if _, ok := ScheduleFor(&track.Task{}, 4, 1, 1).(Unthrottled); !ok {
		t.Fatal("no target throughput should be unthrottled")
	}
	bulk := &track.Task{TargetThroughput: 5000, TargetThroughputUnit: "docs/s"}
	if d, ok := ScheduleFor(bulk, 2, 500, 1).(Deterministic); !ok || d.Rate != 5 {
		t.Fatalf("5000 docs/s over 2 clients with 500 docs per bulk: got %#v, want 5 requests/s per client", ScheduleFor(bulk, 2, 500, 1))
	}
	if _, ok := ScheduleFor(&track.Task{TargetThroughput: math.MaxInt64}, 1, 1, 1).(Unthrottled); !ok {
		t.Fatal("test mode's sys.maxsize throughput should never wait")
	}
}

func TestRampUpDelayStaggersClients(t *testing.T) {
	for _, tc := range []struct {
		idx, total int
		want       time.Duration
	}{{0, 4, 0}, {1, 4, 2500 * time.Millisecond}, {3, 4, 7500 * time.Millisecond}, {5, 10, 5 * time.Second}} {
		if got := RampUpDelay(10*time.Second, tc.idx, tc.total); got != tc.want {
			t.Errorf("client %d of %d: %v, want %v", tc.idx, tc.total, got, tc.want)
		}
	}
	if RampUpDelay(0, 3, 4) != 0 {
		t.Fatal("no ramp-up period should not delay")
	}
}

func TestWaiterWaitsUntilIntendedTime(t *testing.T) {
	w := NewWaiter()
	defer w.Stop()
	var lateness []time.Duration
	for i := 0; i < 21; i++ {
		at := time.Now().Add(3 * time.Millisecond)
		if !w.Until(context.Background(), nil, at) {
			t.Fatal("wait interrupted")
		}
		late := time.Since(at)
		if late < 0 {
			t.Fatalf("woke %v early", -late)
		}
		lateness = append(lateness, late)
	}
	slices.Sort(lateness)
	median, worst := lateness[len(lateness)/2], lateness[len(lateness)-1]
	t.Logf("lateness: median %v, worst %v", median, worst)
	// Never early is the rule; how late is the benchmarks' business. The
	// median only guards against a waiter that ignores the time (a loaded
	// shared machine preempts single waits by tens of milliseconds).
	if median > 20*time.Millisecond {
		t.Fatalf("woke %v late (median of %d waits)", median, len(lateness))
	}
}

func TestWaiterIsNeverEarlyForShortWaits(t *testing.T) {
	// Waits below spinBelow are yielded away, longer ones slept on the
	// timer: either way the wait ends at or after its time.
	w := NewWaiter()
	defer w.Stop()
	for _, d := range []time.Duration{time.Microsecond, 5 * time.Microsecond, spinBelow - time.Microsecond, spinBelow, spinBelow + time.Microsecond, 100 * time.Microsecond} {
		for range 20 {
			at := time.Now().Add(d)
			if !w.Until(context.Background(), nil, at) {
				t.Fatalf("wait of %v interrupted", d)
			}
			if now := time.Now(); now.Before(at) {
				t.Fatalf("wait of %v ended %v early", d, at.Sub(now))
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if w.Until(ctx, nil, time.Now().Add(spinBelow/2)) {
		t.Fatal("a short wait with a cancelled context reported success")
	}
}

func TestWaiterStopsOnCancelAndComplete(t *testing.T) {
	w := NewWaiter()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	start := time.Now()
	if w.Until(ctx, nil, start.Add(time.Hour)) {
		t.Fatal("wait not interrupted by cancel")
	}
	stop := make(chan struct{})
	close(stop)
	if w.Until(context.Background(), stop, time.Now().Add(time.Hour)) {
		t.Fatal("wait not interrupted by complete")
	}
	if time.Since(start) > time.Second {
		t.Fatal("interrupt took too long")
	}
}

func TestPhaseSpreadsDeterministicClientsOverAnInterval(t *testing.T) {
	d := Deterministic{Rate: 10} // every 100 ms per client
	for _, tc := range []struct {
		index, total int
		want         time.Duration
	}{
		{0, 4, 0},
		{1, 4, 25 * time.Millisecond},
		{3, 4, 75 * time.Millisecond},
		{250, 500, 50 * time.Millisecond},
		{0, 1, 0},
		{4, 4, 0}, // out of range: no phase
	} {
		if got := Phase(d, tc.index, tc.total); got != tc.want {
			t.Errorf("client %d of %d: phase %v, want %v", tc.index, tc.total, got, tc.want)
		}
	}
	if p := Phase(NewPoisson(10, 1), 1, 4); p != 0 {
		t.Errorf("Poisson clients get a phase: %v", p)
	}
	if p := Phase(Unthrottled{}, 1, 4); p != 0 {
		t.Errorf("unthrottled clients get a phase: %v", p)
	}
}
