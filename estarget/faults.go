package estarget

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Faults is what the target does to requests before (and while) answering
// them: rules tried in order, the first whose method and path match a
// request deciding its fate; a request no rule matches is answered
// untouched. The zero value injects nothing. Requests under /_estarget/
// are never faulted.
type Faults struct {
	Rules []Rule
	// Seed makes the dice reproducible: the same seed and the same order
	// of requests give the same faults and the same jitter.
	Seed int64
}

// Rule is one fault rule: which requests it matches and what it does to
// them.
//
// Rejections (Rate429, Rate5xx) and resets answer in the engine's place:
// the request never reaches it. Slow and truncated bodies damage the real
// answer: the request was executed.
type Rule struct {
	// Method is an HTTP method or a comma-separated list of them ("POST,PUT");
	// empty or "*" matches every method.
	Method string
	// Path is a glob on the request path without its query: '*' matches any
	// run of characters ('/' included), '?' any one. Empty matches every
	// path; "*/_bulk" matches /_bulk and /logs/_bulk.
	Path string
	// Latency is added to every matching request; Jitter adds a further
	// delay drawn uniformly from [0, Jitter).
	Latency, Jitter time.Duration
	// StallEvery and StallFor simulate stop-the-world pauses such as a long
	// JVM garbage collection: starting StallEvery after the faults were
	// set, every StallEvery a window of StallFor opens. A matching request
	// arriving inside a window waits until the window ends, and so does one
	// whose answer is ready inside a window (it was in flight when the
	// pause began).
	StallEvery, StallFor time.Duration
	// Rate429 is the share of matching requests (0..1) rejected with 429
	// es_rejected_execution_exception; Rate5xx the share answered with a
	// server error, half 503 and half 500.
	Rate429, Rate5xx float64
	// RateReset is the share whose connection is reset (TCP RST) instead of
	// an answer.
	RateReset float64
	// RateTruncate is the share whose answer declares its full
	// Content-Length, sends half of the body and closes the connection.
	RateTruncate float64
	// SlowBodyPause, when positive, slows every matching answer down: its
	// body goes out in chunks of SlowBodyChunk bytes (512 when zero) with
	// this pause after each.
	SlowBodyPause time.Duration
	SlowBodyChunk int
}

// defaultSlowChunk is the chunk of a slow body when the rule names none.
const defaultSlowChunk = 512

// String names the rule by what it matches, for errors and logs.
func (r Rule) String() string {
	return cmp.Or(r.Method, "*") + " " + cmp.Or(r.Path, "*")
}

// Validate reports the first value of the rule that cannot be used.
func (r Rule) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"latency", r.Latency}, {"jitter", r.Jitter}, {"stall_every", r.StallEvery}, {"stall_for", r.StallFor}, {"slow_body_pause", r.SlowBodyPause}} {
		if d.v < 0 {
			return fmt.Errorf("%s %v: must not be negative", d.name, d.v)
		}
	}
	if (r.StallEvery > 0) != (r.StallFor > 0) {
		return fmt.Errorf("stall_every %v and stall_for %v: set both or neither", r.StallEvery, r.StallFor)
	}
	if r.StallEvery > 0 && r.StallFor >= r.StallEvery {
		return fmt.Errorf("stall_for %v: must be shorter than stall_every %v", r.StallFor, r.StallEvery)
	}
	sum := 0.0
	for _, rate := range []struct {
		name string
		v    float64
	}{{"rate_429", r.Rate429}, {"rate_5xx", r.Rate5xx}, {"rate_reset", r.RateReset}, {"rate_truncate", r.RateTruncate}} {
		if rate.v < 0 || rate.v > 1 {
			return fmt.Errorf("%s %v: must be between 0 and 1", rate.name, rate.v)
		}
		sum += rate.v
	}
	if sum > 1 {
		return fmt.Errorf("rate_429 + rate_5xx + rate_reset + rate_truncate = %v: must not exceed 1", sum)
	}
	if r.SlowBodyChunk < 0 {
		return fmt.Errorf("slow_body_chunk %d: must not be negative", r.SlowBodyChunk)
	}
	for _, m := range strings.Split(r.Method, ",") {
		if m = strings.TrimSpace(m); m != "" && m != "*" && strings.Trim(strings.ToUpper(m), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return fmt.Errorf("method %q: want an HTTP method such as POST, or a comma-separated list", m)
		}
	}
	return nil
}

// Validate reports the first rule that cannot be used, by its position.
func (f Faults) Validate() error {
	for i, r := range f.Rules {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("faults: rules[%d] (%s): %w", i, r, err)
		}
	}
	return nil
}

// ruleJSON is the wire form of a Rule in PUT/GET /_estarget/faults:
// durations are Go duration strings ("1s", "250ms").
type ruleJSON struct {
	Method        string  `json:"method,omitempty"`
	Path          string  `json:"path,omitempty"`
	Latency       string  `json:"latency,omitempty"`
	Jitter        string  `json:"jitter,omitempty"`
	StallEvery    string  `json:"stall_every,omitempty"`
	StallFor      string  `json:"stall_for,omitempty"`
	Rate429       float64 `json:"rate_429,omitempty"`
	Rate5xx       float64 `json:"rate_5xx,omitempty"`
	RateReset     float64 `json:"rate_reset,omitempty"`
	RateTruncate  float64 `json:"rate_truncate,omitempty"`
	SlowBodyPause string  `json:"slow_body_pause,omitempty"`
	SlowBodyChunk int     `json:"slow_body_chunk,omitempty"`
}

// faultsJSON is the wire form of Faults. Rule members at the top level
// ({"latency":"5ms","rate_429":0.01,"seed":1}) make one more rule after
// the listed ones, so the one-rule form stays short.
type faultsJSON struct {
	ruleJSON
	Rules []ruleJSON `json:"rules"`
	Seed  int64      `json:"seed"`
}

func durString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func (r Rule) wire() ruleJSON {
	return ruleJSON{Method: r.Method, Path: r.Path, Latency: durString(r.Latency), Jitter: durString(r.Jitter),
		StallEvery: durString(r.StallEvery), StallFor: durString(r.StallFor), Rate429: r.Rate429, Rate5xx: r.Rate5xx,
		RateReset: r.RateReset, RateTruncate: r.RateTruncate, SlowBodyPause: durString(r.SlowBodyPause), SlowBodyChunk: r.SlowBodyChunk}
}

func (w ruleJSON) rule() (Rule, error) {
	r := Rule{Method: w.Method, Path: w.Path, Rate429: w.Rate429, Rate5xx: w.Rate5xx, RateReset: w.RateReset,
		RateTruncate: w.RateTruncate, SlowBodyChunk: w.SlowBodyChunk}
	for _, d := range []struct {
		name, s string
		dst     *time.Duration
	}{{"latency", w.Latency, &r.Latency}, {"jitter", w.Jitter, &r.Jitter}, {"stall_every", w.StallEvery, &r.StallEvery},
		{"stall_for", w.StallFor, &r.StallFor}, {"slow_body_pause", w.SlowBodyPause, &r.SlowBodyPause}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return r, fmt.Errorf("%s: %w", d.name, err)
		}
		*d.dst = v
	}
	return r, nil
}

// MarshalJSON writes {"rules":[...],"seed":N} with durations as strings.
func (f Faults) MarshalJSON() ([]byte, error) {
	out := faultsJSON{Rules: make([]ruleJSON, 0, len(f.Rules)), Seed: f.Seed}
	for _, r := range f.Rules {
		out.Rules = append(out.Rules, r.wire())
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads the wire form; unknown members are an error.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var w faultsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	out := Faults{Seed: w.Seed}
	rules := w.Rules
	if w.ruleJSON != (ruleJSON{}) {
		rules = append(rules, w.ruleJSON)
	}
	for i, rw := range rules {
		r, err := rw.rule()
		if err != nil {
			return fmt.Errorf("faults: rules[%d] (%s): %w", i, r, err)
		}
		out.Rules = append(out.Rules, r)
	}
	*f = out
	return nil
}

// globMatch reports whether s matches pattern, where '*' matches any run
// of bytes and '?' any one byte.
func globMatch(pattern, s string) bool {
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p, mark = star+1, mark+1
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matches reports whether the rule applies to a request.
func (r *Rule) matches(method, path string) bool {
	if r.Path != "" && !globMatch(r.Path, path) {
		return false
	}
	if r.Method == "" || r.Method == "*" {
		return true
	}
	for _, m := range strings.Split(r.Method, ",") {
		if strings.EqualFold(strings.TrimSpace(m), method) {
			return true
		}
	}
	return false
}

// stallRemaining is how long a request at elapsed (since the faults were set)
// must wait for the current stall window to end; 0 outside windows. Windows
// are [k·every, k·every+length) for k ≥ 1.
func stallRemaining(elapsed, every, length time.Duration) time.Duration {
	if every <= 0 || length <= 0 || elapsed < every {
		return 0
	}
	if phase := elapsed % every; phase < length {
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
	faultReset
	faultTruncate
)

// decideFault maps a uniform draw u in [0,1) onto the rule's rates, in the
// order 429, 503, 500, reset, truncate.
func decideFault(u float64, r *Rule) faultKind {
	edge := 0.0
	for _, k := range []struct {
		rate float64
		kind faultKind
	}{{r.Rate429, fault429}, {r.Rate5xx / 2, fault503}, {r.Rate5xx / 2, fault500}, {r.RateReset, faultReset}, {r.RateTruncate, faultTruncate}} {
		edge += k.rate
		if u < edge {
			return k.kind
		}
	}
	return faultNone
}

// faultState is one configuration of faults with its seeded generator;
// SetFaults swaps the whole state, so stall windows and the sequence of
// draws restart.
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

// match returns the first rule matching the request, nil when none does.
func (fs *faultState) match(method, path string) *Rule {
	for i := range fs.f.Rules {
		if fs.f.Rules[i].matches(method, path) {
			return &fs.f.Rules[i]
		}
	}
	return nil
}

// draw returns the request's fault and its extra delay (latency + jitter).
func (fs *faultState) draw(r *Rule) (faultKind, time.Duration) {
	if r.Rate429 == 0 && r.Rate5xx == 0 && r.RateReset == 0 && r.RateTruncate == 0 && r.Jitter == 0 {
		return faultNone, r.Latency
	}
	fs.mu.Lock()
	u := fs.rng.Float64()
	var j time.Duration
	if r.Jitter > 0 {
		j = time.Duration(fs.rng.Int64N(int64(r.Jitter)))
	}
	fs.mu.Unlock()
	return decideFault(u, r), r.Latency + j
}

// stallLeft is how long a request matching r must wait now for the open
// stall window to close.
func (fs *faultState) stallLeft(r *Rule) time.Duration {
	return stallRemaining(time.Since(fs.epoch), r.StallEvery, r.StallFor)
}
