package estarget

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Faults describes what the target does to requests before handling them.
// The zero value injects nothing. Control endpoints under /_estarget/ are
// never subject to faults.
type Faults struct {
	// Latency is added to every request; Jitter adds a further uniformly
	// drawn delay in [0, Jitter).
	Latency time.Duration
	Jitter  time.Duration
	// StallEvery and StallFor simulate stop-the-world pauses such as a long
	// JVM garbage collection: starting StallEvery after the faults were set,
	// every StallEvery a window of StallFor opens. A request arriving inside a
	// window waits until the window ends; a request whose response is ready
	// inside a window (it was in flight when the pause began) also waits.
	StallEvery time.Duration
	StallFor   time.Duration
	// Rate429 is the share of requests (0..1) rejected with 429
	// es_rejected_execution_exception; Rate5xx the share answered with a
	// server error, half 503 and half 500.
	Rate429 float64
	Rate5xx float64
	// Seed makes the sequence of injected errors and jitter reproducible:
	// the same seed and the same order of requests give the same faults.
	Seed int64
}

// Validate reports the first value that cannot be used.
func (f Faults) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"latency", f.Latency}, {"jitter", f.Jitter}, {"stall_every", f.StallEvery}, {"stall_for", f.StallFor}} {
		if d.v < 0 {
			return fmt.Errorf("faults: %s %v: must not be negative", d.name, d.v)
		}
	}
	if (f.StallEvery > 0) != (f.StallFor > 0) {
		return fmt.Errorf("faults: stall_every %v and stall_for %v: set both or neither", f.StallEvery, f.StallFor)
	}
	if f.StallEvery > 0 && f.StallFor >= f.StallEvery {
		return fmt.Errorf("faults: stall_for %v: must be shorter than stall_every %v", f.StallFor, f.StallEvery)
	}
	if f.Rate429 < 0 || f.Rate429 > 1 {
		return fmt.Errorf("faults: rate_429 %v: must be between 0 and 1", f.Rate429)
	}
	if f.Rate5xx < 0 || f.Rate5xx > 1 {
		return fmt.Errorf("faults: rate_5xx %v: must be between 0 and 1", f.Rate5xx)
	}
	if f.Rate429+f.Rate5xx > 1 {
		return fmt.Errorf("faults: rate_429 %v + rate_5xx %v: must not exceed 1", f.Rate429, f.Rate5xx)
	}
	return nil
}

// faultsJSON is the wire form of Faults used by PUT/GET /_estarget/faults:
// durations are Go duration strings ("1s", "250ms").
type faultsJSON struct {
	Latency    string  `json:"latency"`
	Jitter     string  `json:"jitter"`
	StallEvery string  `json:"stall_every"`
	StallFor   string  `json:"stall_for"`
	Rate429    float64 `json:"rate_429"`
	Rate5xx    float64 `json:"rate_5xx"`
	Seed       int64   `json:"seed"`
}

// MarshalJSON writes durations as strings such as "1.5s".
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{
		Latency: f.Latency.String(), Jitter: f.Jitter.String(),
		StallEvery: f.StallEvery.String(), StallFor: f.StallFor.String(),
		Rate429: f.Rate429, Rate5xx: f.Rate5xx, Seed: f.Seed,
	})
}

// UnmarshalJSON reads durations as strings ("1s"); missing members are zero.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var w faultsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	var out Faults
	for _, d := range []struct {
		name string
		s    string
		dst  *time.Duration
	}{{"latency", w.Latency, &out.Latency}, {"jitter", w.Jitter, &out.Jitter},
		{"stall_every", w.StallEvery, &out.StallEvery}, {"stall_for", w.StallFor, &out.StallFor}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return fmt.Errorf("faults: %s: %w", d.name, err)
		}
		*d.dst = v
	}
	out.Rate429, out.Rate5xx, out.Seed = w.Rate429, w.Rate5xx, w.Seed
	*f = out
	return nil
}

// stallRemaining is how long a request at elapsed (since the faults were set)
// must wait for the current stall window to end; 0 outside windows. Windows
// are [k·every, k·every+length) for k ≥ 1.
func stallRemaining(elapsed, every, length time.Duration) time.Duration {
	if every <= 0 || length <= 0 || elapsed < every {
		return 0
	}
	phase := elapsed % every
	if phase < length {
		return length - phase
	}
	return 0
}

// faultKind is what the dice decided for one request.
type faultKind uint8

const (
	faultNone faultKind = iota
	fault429
	fault503
	fault500
)

// decideFault maps a uniform draw u in [0,1) onto the configured rates.
func decideFault(u, rate429, rate5xx float64) faultKind {
	switch {
	case u < rate429:
		return fault429
	case u < rate429+rate5xx/2:
		return fault503
	case u < rate429+rate5xx:
		return fault500
	}
	return faultNone
}

// faultState is one configuration of faults with its own seeded generator;
// SetFaults swaps the whole state, so a new seed restarts the sequence.
type faultState struct {
	f     Faults
	epoch time.Time

	mu  sync.Mutex
	rng *rand.Rand
}

func newFaultState(f Faults, now time.Time) *faultState {
	seed := uint64(f.Seed)
	return &faultState{f: f, epoch: now, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (fs *faultState) active() bool {
	f := fs.f
	return f.Latency > 0 || f.Jitter > 0 || f.StallEvery > 0 || f.Rate429 > 0 || f.Rate5xx > 0
}

// draw returns the request's fault and its extra delay (latency + jitter).
func (fs *faultState) draw() (faultKind, time.Duration) {
	f := fs.f
	if f.Rate429 == 0 && f.Rate5xx == 0 && f.Jitter == 0 {
		return faultNone, f.Latency
	}
	fs.mu.Lock()
	u := fs.rng.Float64()
	var j time.Duration
	if f.Jitter > 0 {
		j = time.Duration(fs.rng.Int64N(int64(f.Jitter)))
	}
	fs.mu.Unlock()
	return decideFault(u, f.Rate429, f.Rate5xx), f.Latency + j
}

// stallWait blocks while now falls into a stall window. It reports whether
// it waited at all, and returns early with ctx's error if ctx ends.
func (fs *faultState) stallWait(ctx context.Context) (bool, error) {
	if fs.f.StallEvery <= 0 {
		return false, nil
	}
	d := stallRemaining(time.Since(fs.epoch), fs.f.StallEvery, fs.f.StallFor)
	if d <= 0 {
		return false, nil
	}
	return true, sleepCtx(ctx, d)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// applyFaults runs the fault middleware for one request. It returns the
// writer the handler must use (one that holds responses back during stalls)
// and false when it already answered the request.
func (s *Server) applyFaults(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, bool) {
	fs := s.faults.Load()
	if !fs.active() {
		return w, true
	}
	kind, delay := fs.draw()
	if delay > 0 {
		s.counters.delayed.Add(1)
		if err := sleepCtx(r.Context(), delay); err != nil {
			return w, false
		}
	}
	if waited, err := fs.stallWait(r.Context()); err != nil {
		return w, false
	} else if waited {
		s.counters.stalled.Add(1)
	}
	switch kind {
	case fault429:
		s.counters.injected429.Add(1)
		s.writeError(w, r, &esError{status: http.StatusTooManyRequests, typ: "es_rejected_execution_exception",
			reason: "rejected execution of coordinating operation [estarget fault injection: rate_429]"})
		return w, false
	case fault503:
		s.counters.injected5xx.Add(1)
		s.writeError(w, r, &esError{status: http.StatusServiceUnavailable, typ: "cluster_block_exception",
			reason: "blocked by: [SERVICE_UNAVAILABLE/2/estarget fault injection: rate_5xx];"})
		return w, false
	case fault500:
		s.counters.injected5xx.Add(1)
		s.writeError(w, r, &esError{status: http.StatusInternalServerError, typ: "exception",
			reason: "estarget fault injection: rate_5xx"})
		return w, false
	}
	if fs.f.StallEvery > 0 {
		return &stallWriter{ResponseWriter: w, s: s, fs: fs, ctx: r.Context()}, true
	}
	return w, true
}

// stallWriter holds a response back while a stall window is open: a request
// that was being handled when the pause began answers only when it ends.
type stallWriter struct {
	http.ResponseWriter
	s       *Server
	fs      *faultState
	ctx     context.Context
	checked bool
}

func (sw *stallWriter) hold() {
	if sw.checked {
		return
	}
	sw.checked = true
	if waited, _ := sw.fs.stallWait(sw.ctx); waited {
		sw.s.counters.stalled.Add(1)
	}
}

func (sw *stallWriter) WriteHeader(code int) {
	sw.hold()
	sw.ResponseWriter.WriteHeader(code)
}

func (sw *stallWriter) Write(b []byte) (int, error) {
	sw.hold()
	return sw.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (sw *stallWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }
