package actor

import "time"

// clockWindow is how many recent round trips the estimate looks at. With
// one heartbeat a second it spans the last few seconds: long enough to find
// a round trip that did not queue behind other frames, short enough to
// follow a clock that is being slewed.
const clockWindow = 8

// maxSaneRTT drops round trips that cannot be real (a peer that lies, or a
// clock that jumped between t0 and t3).
const maxSaneRTT = time.Minute

// clockSample is one heartbeat round trip in NTP terms.
type clockSample struct {
	rtt    time.Duration
	offset time.Duration // the peer's clock minus ours
}

// measureClock turns one round trip into a sample: t0 we sent, t1 the peer
// received, t2 the peer answered (both on the peer's clock), t3 we received.
// It reports false for round trips that cannot be right.
func measureClock(t0, t1, t2, t3 time.Time) (clockSample, bool) {
	if t0.IsZero() || t1.IsZero() || t2.IsZero() || t3.IsZero() {
		return clockSample{}, false
	}
	hold := t2.Sub(t1)
	rtt := t3.Sub(t0) - hold
	if hold < 0 || rtt < 0 || rtt > maxSaneRTT {
		return clockSample{}, false
	}
	// offset = ((t1 - t0) + (t2 - t3)) / 2, written so that the halves are
	// taken before the sum: each difference may be large when clocks are far
	// apart, and halving first cannot overflow.
	return clockSample{rtt: rtt, offset: t1.Sub(t0)/2 + t2.Sub(t3)/2}, true
}

// clockFilter keeps the recent samples and answers with the one of least
// round-trip time: its offset has the smallest possible error (at most half
// its RTT), because the least queueing went into it.
type clockFilter struct {
	samples [clockWindow]clockSample
	n, next int
}

func (f *clockFilter) add(s clockSample) {
	f.samples[f.next] = s
	f.next = (f.next + 1) % clockWindow
	if f.n < clockWindow {
		f.n++
	}
}

// best returns the sample of least RTT in the window, false when empty.
func (f *clockFilter) best() (clockSample, bool) {
	if f.n == 0 {
		return clockSample{}, false
	}
	best := f.samples[0]
	for _, s := range f.samples[1:f.n] {
		if s.rtt < best.rtt {
			best = s
		}
	}
	return best, true
}
