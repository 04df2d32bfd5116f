package actor

import (
	"testing"
	"time"
)

func TestMeasureClock(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	tests := []struct {
		name        string
		t1, t2, t3  time.Duration // after t0; t1 and t2 on the peer's clock
		ok          bool
		rtt, offset time.Duration
	}{
		// Peer 2s ahead, 1ms each way, answers at once.
		{"peer_ahead_symmetric_path", 2*time.Second + ms, 2*time.Second + ms, 2 * ms, true, 2 * ms, 2 * time.Second},
		// Peer 2s behind, holds the message 5ms: the hold is not RTT.
		{"peer_behind_with_hold", -2*time.Second + ms, -2*time.Second + 6*ms, 7 * ms, true, 2 * ms, -2 * time.Second},
		// All the delay on the way back: the offset is off by half the
		// asymmetry, which the min-RTT filter keeps small.
		{"asymmetric_path", 0, 0, 4 * ms, true, 4 * ms, -2 * ms},
		{"negative_rtt_is_dropped", 0, 10 * ms, 5 * ms, false, 0, 0},
		{"negative_hold_is_dropped", 5 * ms, 0, 10 * ms, false, 0, 0},
		{"absurd_rtt_is_dropped", 0, 0, 2 * time.Minute, false, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := measureClock(t0, t0.Add(tc.t1), t0.Add(tc.t2), t0.Add(tc.t3))
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v (sample %+v)", ok, tc.ok, s)
			}
			if ok && (s.rtt != tc.rtt || s.offset != tc.offset) {
				t.Errorf("rtt %s offset %s, want %s and %s", s.rtt, s.offset, tc.rtt, tc.offset)
			}
		})
	}
	if _, ok := measureClock(time.Time{}, t0, t0, t0); ok {
		t.Error("a zero time made a sample")
	}
}

func TestClockFilter(t *testing.T) {
	var f clockFilter
	if _, ok := f.best(); ok {
		t.Fatal("empty filter has a best sample")
	}
	f.add(clockSample{rtt: 5, offset: 50})
	f.add(clockSample{rtt: 1, offset: 10})
	f.add(clockSample{rtt: 3, offset: 30})
	if s, _ := f.best(); s.offset != 10 {
		t.Errorf("best = %+v, want the 1ns round trip", s)
	}
	// The 1ns sample ages out after a window of slower ones.
	for i := range clockWindow {
		f.add(clockSample{rtt: time.Duration(10 + i), offset: time.Duration(100 + i)})
	}
	if s, _ := f.best(); s.offset != 100 {
		t.Errorf("best = %+v after the window moved, want the oldest of the new samples (rtt 10)", s)
	}
}
