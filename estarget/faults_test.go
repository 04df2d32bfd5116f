package estarget

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestStallRemaining(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name                   string
		elapsed, every, length time.Duration
		want                   time.Duration
	}{
		{"no_stalls_configured", 350 * ms, 0, 0, 0},
		{"before_first_window", 299 * ms, 300 * ms, 100 * ms, 0},
		{"window_start_waits_full_length", 300 * ms, 300 * ms, 100 * ms, 100 * ms},
		{"inside_window_waits_for_its_end", 320 * ms, 300 * ms, 100 * ms, 80 * ms},
		{"window_end_is_outside", 400 * ms, 300 * ms, 100 * ms, 0},
		{"between_windows", 500 * ms, 300 * ms, 100 * ms, 0},
		{"later_window", 650 * ms, 300 * ms, 100 * ms, 50 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stallRemaining(tt.elapsed, tt.every, tt.length); got != tt.want {
				t.Fatalf("stallRemaining(%v, %v, %v) = %v, want %v", tt.elapsed, tt.every, tt.length, got, tt.want)
			}
		})
	}
}

func TestDecideFault(t *testing.T) {
	r := &Rule{Rate429: 0.1, Rate5xx: 0.1, RateReset: 0.1, RateTruncate: 0.1}
	tests := []struct {
		u    float64
		want faultKind
	}{
		{0, fault429}, {0.099, fault429}, {0.1, fault503}, {0.149, fault503}, {0.151, fault500}, {0.199, fault500},
		{0.2, faultReset}, {0.299, faultReset}, {0.301, faultTruncate}, {0.399, faultTruncate}, {0.4, faultNone}, {0.99, faultNone},
	}
	for _, tt := range tests {
		if got := decideFault(tt.u, r); got != tt.want {
			t.Errorf("decideFault(%v) = %v, want %v", tt.u, got, tt.want)
		}
	}
}

func TestRuleMatching(t *testing.T) {
	tests := []struct {
		name         string
		rule         Rule
		method, path string
		want         bool
	}{
		{"empty_rule_matches_all", Rule{}, "GET", "/", true},
		{"glob_matches_index_bulk", Rule{Path: "*/_bulk"}, "POST", "/logs/_bulk", true},
		{"glob_matches_root_bulk", Rule{Path: "*/_bulk"}, "POST", "/_bulk", true},
		{"glob_is_anchored", Rule{Path: "*/_bulk"}, "POST", "/_bulk/x", false},
		{"star_spans_slashes", Rule{Path: "/a*z"}, "GET", "/a/b/c/z", true},
		{"question_mark_is_one_byte", Rule{Path: "/ix-?/_search"}, "GET", "/ix-1/_search", true},
		{"question_mark_not_two", Rule{Path: "/ix-?/_search"}, "GET", "/ix-12/_search", false},
		{"method_list", Rule{Method: "POST, PUT", Path: "*/_bulk"}, "PUT", "/_bulk", true},
		{"method_case_insensitive", Rule{Method: "post"}, "POST", "/x", true},
		{"other_method", Rule{Method: "POST"}, "GET", "/_bulk", false},
		{"star_method", Rule{Method: "*", Path: "/"}, "DELETE", "/", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.matches(tt.method, tt.path); got != tt.want {
				t.Fatalf("%s matches %s %s: %v, want %v", tt.rule, tt.method, tt.path, got, tt.want)
			}
		})
	}
	t.Run("first_matching_rule_wins", func(t *testing.T) {
		fs := newFaultState(Faults{Rules: []Rule{{Path: "*/_search", Rate429: 1}, {Rate5xx: 1}}}, time.Now())
		if r := fs.match("GET", "/ix/_search"); r == nil || r.Rate429 != 1 {
			t.Fatalf("search matched %+v", r)
		}
		if r := fs.match("POST", "/_bulk"); r == nil || r.Rate5xx != 1 {
			t.Fatalf("bulk matched %+v", r)
		}
		if r := newFaultState(Faults{Rules: []Rule{{Path: "/x"}}}, time.Now()).match("GET", "/y"); r != nil {
			t.Fatalf("no rule may match /y: %+v", r)
		}
	})
}

func TestFaultsValidate(t *testing.T) {
	for _, tt := range []struct {
		rule Rule
		want string
	}{
		{Rule{Latency: -1}, "latency"},
		{Rule{StallEvery: time.Second}, "set both or neither"},
		{Rule{StallEvery: time.Second, StallFor: time.Second}, "shorter than stall_every"},
		{Rule{Rate429: 1.5}, "rate_429"},
		{Rule{Rate429: 0.6, RateTruncate: 0.6}, "must not exceed 1"},
		{Rule{SlowBodyChunk: -1}, "slow_body_chunk"},
		{Rule{Method: "GET /x"}, "method"},
	} {
		err := Faults{Rules: []Rule{{}, tt.rule}}.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "rules[1]") {
			t.Errorf("%+v: %v, want an error naming rules[1] and %q", tt.rule, err, tt.want)
		}
	}
	if err := (Faults{Rules: []Rule{{Method: "POST,PUT", Path: "*/_bulk", Rate429: 0.5, RateReset: 0.5}}}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestFaultsJSON(t *testing.T) {
	f := Faults{Seed: 7, Rules: []Rule{
		{Method: "POST", Path: "*/_bulk", Rate429: 0.25, Latency: 2 * time.Millisecond},
		{Path: "*/_search", RateTruncate: 0.5, SlowBodyPause: 10 * time.Millisecond, SlowBodyChunk: 64, StallEvery: 5 * time.Second, StallFor: time.Second},
	}}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"latency":"2ms"`) || !strings.Contains(string(b), `"stall_every":"5s"`) {
		t.Errorf("durations must be strings: %s", b)
	}
	var back Faults
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Rules, f.Rules) || back.Seed != 7 {
		t.Fatalf("round trip: %+v, want %+v", back, f)
	}
	t.Run("top_level_members_are_one_more_rule", func(t *testing.T) {
		var g Faults
		if err := json.Unmarshal([]byte(`{"rules":[{"path":"/x","rate_5xx":1}],"latency":"5ms","rate_429":0.01,"seed":1}`), &g); err != nil {
			t.Fatal(err)
		}
		want := []Rule{{Path: "/x", Rate5xx: 1}, {Latency: 5 * time.Millisecond, Rate429: 0.01}}
		if !slices.Equal(g.Rules, want) || g.Seed != 1 {
			t.Fatalf("got %+v, want rules %+v", g, want)
		}
	})
	for _, bad := range []string{`{"colour":"red"}`, `{"rules":[{"latency":"soon"}]}`, `{"rules":{}}`} {
		var g Faults
		if err := json.Unmarshal([]byte(bad), &g); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
}

// statusSequence sends n requests to a new canned target with f and
// returns their statuses.
func statusSequence(t *testing.T, f Faults, n int) []int {
	t.Helper()
	s := New(Options{Faults: f})
	out := make([]int, n)
	for i := range out {
		out[i] = call(t, s, http.MethodGet, "/", "").status
	}
	return out
}

func TestErrorRatesAreRoughlyRightAndSeeded(t *testing.T) {
	const n = 4000
	f := Faults{Seed: 42, Rules: []Rule{{Rate429: 0.1, Rate5xx: 0.05}}}
	seq := statusSequence(t, f, n)
	count := map[int]int{}
	for _, st := range seq {
		count[st]++
	}
	within := func(got int, rate float64) bool {
		want := rate * n
		return float64(got) > want*0.75 && float64(got) < want*1.25
	}
	if !within(count[429], 0.1) || !within(count[503]+count[500], 0.05) || count[503] == 0 || count[500] == 0 {
		t.Fatalf("status counts %v for rate_429 0.1 and rate_5xx 0.05 over %d requests", count, n)
	}
	if count[200]+count[429]+count[503]+count[500] != n {
		t.Fatalf("unexpected statuses: %v", count)
	}
	if again := statusSequence(t, f, n); !slices.Equal(seq, again) {
		t.Fatal("the same seed gave a different sequence")
	}
	f.Seed = 43
	if other := statusSequence(t, f, n); slices.Equal(seq, other) {
		t.Fatal("a different seed gave the same sequence")
	}
}

func TestInjectedErrorsAnswerInTheEnginesPlace(t *testing.T) {
	tests := []struct {
		name   string
		rule   Rule
		status int
		typ    string
	}{
		{"rate_429_is_es_rejected_execution", Rule{Rate429: 1}, 429, "es_rejected_execution_exception"},
		{"rate_5xx_gives_503_or_500", Rule{Rate5xx: 1}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Faults: Faults{Seed: 1, Rules: []Rule{tt.rule}}})
			res := call(t, s, http.MethodPost, "/_bulk", bulkBody("a", 1))
			if tt.status != 0 {
				eb := mustError(t, res, tt.status, tt.typ)
				if !strings.Contains(eb.Error.Reason, "estarget fault injection") {
					t.Fatalf("an injected error must say where it comes from: %s", eb.Error.Reason)
				}
			} else if res.status != 503 && res.status != 500 {
				t.Fatalf("status %d", res.status)
			}
			if res.header.Get("X-Elastic-Product") != "Elasticsearch" {
				t.Fatal("injected errors of the canned elasticsearch flavor carry the product header too")
			}
			st := stats(t, s)
			if st.Docs != 0 || st.Indices != 0 {
				t.Fatalf("a rejected bulk was executed: %+v", st)
			}
			if st.Requests["bulk"] != 1 || st.Faults.Rejected429+st.Faults.Errors503+st.Faults.Errors500 != 1 {
				t.Fatalf("counters: %+v", st)
			}
		})
	}
}

func TestLatencyAndJitter(t *testing.T) {
	s := New(Options{Faults: Faults{Seed: 3, Rules: []Rule{{Path: "/", Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond}}}})
	for range 3 {
		start := time.Now()
		must(t, s, http.StatusOK, http.MethodGet, "/", "")
		if d := time.Since(start); d < 20*time.Millisecond || d > 200*time.Millisecond {
			t.Fatalf("request took %v with latency 20ms + jitter <10ms", d)
		}
	}
	start := time.Now()
	must(t, s, http.StatusOK, http.MethodGet, "/_cluster/health", "")
	if d := time.Since(start); d > 15*time.Millisecond {
		t.Errorf("a request the rule does not match took %v", d)
	}
	if st := stats(t, s); st.Faults.Delayed != 3 {
		t.Fatalf("delayed counter %d, want 3", st.Faults.Delayed)
	}
}

// TestStallHoldsRequestsUntilWindowEnds uses windows every 300 ms lasting
// 100 ms ([300,400), [600,700), ...) in front of an upstream that takes
// 200 ms to answer /slow.
func TestStallHoldsRequestsUntilWindowEnds(t *testing.T) {
	up := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(200 * time.Millisecond)
		}
		io.WriteString(w, `{}`)
	})
	s := New(Options{Upstream: up.URL})
	if err := s.SetFaults(Faults{Rules: []Rule{{StallEvery: 300 * time.Millisecond, StallFor: 100 * time.Millisecond}}}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	at := func(d time.Duration) { time.Sleep(time.Until(t0.Add(d))) }
	var wg sync.WaitGroup
	var inFlightDone time.Duration
	wg.Go(func() {
		at(150 * time.Millisecond)
		// Arrives outside a window; its answer is ready inside [300,400)
		// and must be held until 400.
		must(t, s, http.StatusOK, http.MethodGet, "/slow", "")
		inFlightDone = time.Since(t0)
	})
	at(100 * time.Millisecond)
	outside := time.Now()
	must(t, s, http.StatusOK, http.MethodGet, "/", "")
	if d := time.Since(outside); d > 150*time.Millisecond {
		t.Errorf("request outside a window took %v", d)
	}
	at(320 * time.Millisecond)
	must(t, s, http.StatusOK, http.MethodGet, "/", "")
	if inside := time.Since(t0); inside < 395*time.Millisecond || inside > 560*time.Millisecond {
		t.Errorf("request arriving at 320ms finished at %v, want the window's end (400ms)", inside)
	}
	wg.Wait()
	if inFlightDone < 395*time.Millisecond || inFlightDone > 560*time.Millisecond {
		t.Errorf("in-flight request answered at %v, want the window's end (400ms)", inFlightDone)
	}
	if st := s.Stats(); st.Faults.Stalled != 2 {
		t.Errorf("stalled counter %d, want 2", st.Faults.Stalled)
	}
}

func TestResetClosesTheConnectionWithoutAnswer(t *testing.T) {
	s := New(Options{Faults: Faults{Rules: []Rule{{Method: "POST", Path: "*/_bulk", RateReset: 1}}}})
	url := serve(t, s)
	_, _, err := get(t, http.MethodPost, url+"/_bulk", bulkBody("a", 3))
	if err == nil || !(errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "EOF")) {
		t.Fatalf("POST /_bulk: %v, want the connection reset", err)
	}
	if res, _, err := get(t, http.MethodGet, url+"/_count", ""); err != nil || res.StatusCode != 200 {
		t.Fatalf("a request the rule does not match: %v %v", res, err)
	}
	if st := s.Stats(); st.Faults.Resets != 1 || st.Docs != 0 {
		t.Fatalf("counters %+v: want one reset and nothing indexed", st)
	}
}

func TestTruncatedAnswerDeclaresItsLengthAndStopsHalfway(t *testing.T) {
	s := New(Options{Faults: Faults{Rules: []Rule{{Path: "*/_nodes", RateTruncate: 1}}}})
	url := serve(t, s)
	res, body, err := get(t, http.MethodGet, url+"/_nodes", "")
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("GET /_nodes: %v, want an unexpected EOF", err)
	}
	full := must(t, New(Options{}), http.StatusOK, http.MethodGet, "/_nodes", "").body
	if res.StatusCode != 200 || res.ContentLength < int64(len(full))-64 || int64(len(body)) != res.ContentLength/2 {
		t.Fatalf("status %d, Content-Length %d, %d bytes read; want about %d declared and half of it sent",
			res.StatusCode, res.ContentLength, len(body), len(full))
	}
	if st := s.Stats(); st.Faults.Truncated != 1 {
		t.Fatalf("truncated counter %d", st.Faults.Truncated)
	}
}

func TestSlowBodyArrivesWholeInPausedChunks(t *testing.T) {
	s := New(Options{Faults: Faults{Rules: []Rule{{Path: "/_nodes", SlowBodyPause: 20 * time.Millisecond, SlowBodyChunk: 200}}}})
	url := serve(t, s)
	start := time.Now()
	res, body, err := get(t, http.MethodGet, url+"/_nodes", "")
	took := time.Since(start)
	if err != nil || res.StatusCode != 200 || int64(len(body)) != res.ContentLength {
		t.Fatalf("GET /_nodes: %v, status %v, %d of %d bytes", err, res, len(body), res.ContentLength)
	}
	var v map[string]any
	decode(t, body, &v)
	chunks := (len(body) + 199) / 200
	if min := time.Duration(chunks-1) * 20 * time.Millisecond; took < min {
		t.Errorf("%d bytes in %d chunks took %v, want at least %v", len(body), chunks, took, min)
	}
	if st := s.Stats(); st.Faults.Slowed != 1 {
		t.Fatalf("slowed counter %d", st.Faults.Slowed)
	}
}

func TestControlEndpoints(t *testing.T) {
	s := New(Options{})
	res := must(t, s, http.StatusOK, http.MethodPut, "/_estarget/faults",
		`{"seed":9,"rules":[{"method":"POST","path":"*/_bulk","rate_429":1}],"latency":"1ms"}`)
	var f Faults
	decode(t, res.body, &f)
	want := []Rule{{Method: "POST", Path: "*/_bulk", Rate429: 1}, {Latency: time.Millisecond}}
	if !slices.Equal(f.Rules, want) || f.Seed != 9 {
		t.Fatalf("faults echoed: %s", res.body)
	}
	if !jsonEqual(t, must(t, s, http.StatusOK, http.MethodGet, "/_estarget/faults", "").body, res.body) {
		t.Fatal("GET /_estarget/faults differs from what PUT answered")
	}
	mustError(t, call(t, s, http.MethodPost, "/_bulk", bulkBody("a", 1)), http.StatusTooManyRequests, "es_rejected_execution_exception")
	must(t, s, http.StatusOK, http.MethodGet, "/", "")
	// The control namespace is never faulted nor counted.
	c := stats(t, s)
	if c.Faults.Rejected429 != 1 || c.Faults.Delayed != 1 || c.Requests["root"] != 1 || c.Requests["bulk"] != 1 || c.Requests["estarget"] != 0 {
		t.Fatalf("stats: %+v", c)
	}
	for _, bad := range []string{`{"rate_429":2}`, `{"latency":"soon"}`, `{"stall_every":"1s"}`, `{"colour":"red"}`} {
		mustError(t, call(t, s, http.MethodPut, "/_estarget/faults", bad), http.StatusBadRequest, "illegal_argument_exception")
	}
	if got := s.CurrentFaults(); !slices.Equal(got.Rules, want) {
		t.Fatalf("a refused change replaced the faults: %+v", got)
	}
	must(t, s, http.StatusOK, http.MethodPut, "/_estarget/faults", `{}`)
	must(t, s, http.StatusOK, http.MethodPost, "/_bulk", bulkBody("a", 1))
	must(t, s, http.StatusMethodNotAllowed, http.MethodDelete, "/_estarget/faults", "")
	mustError(t, call(t, s, http.MethodGet, "/_estarget/nope", ""), http.StatusBadRequest, "illegal_argument_exception")
	if s.SetFaults(Faults{Rules: []Rule{{Rate5xx: -1}}}) == nil {
		t.Fatal("SetFaults accepted a negative rate")
	}
}
