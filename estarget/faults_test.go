package estarget

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
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
	tests := []struct {
		u    float64
		want faultKind
	}{
		{0, fault429}, {0.099, fault429}, {0.1, fault503}, {0.149, fault503}, {0.151, fault500}, {0.199, fault500}, {0.2, faultNone}, {0.99, faultNone},
	}
	for _, tt := range tests {
		if got := decideFault(tt.u, 0.1, 0.1); got != tt.want {
			t.Errorf("decideFault(%v) = %v, want %v", tt.u, got, tt.want)
		}
	}
}

// TestStallHoldsRequestsUntilWindowEnds uses windows every 300 ms lasting
// 100 ms: [300,400), [600,700), ...
func TestStallHoldsRequestsUntilWindowEnds(t *testing.T) {
	s := New(Options{})
	must(t, s, http.StatusOK, http.MethodPut, "/exists", "")
	if err := s.SetFaults(Faults{StallEvery: 300 * time.Millisecond, StallFor: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	at := func(d time.Duration) { time.Sleep(time.Until(t0.Add(d))) }

	var wg sync.WaitGroup
	var inFlightDone time.Duration
	var inFlightStatus int
	wg.Add(1)
	go func() {
		defer wg.Done()
		at(150 * time.Millisecond)
		// Arrives outside a window; its answer (a 408 after a 200 ms
		// timeout) is ready inside [300,400) and must be held until 400.
		res := call(t, s, http.MethodGet, "/_cluster/health/missing?wait_for_status=green&timeout=200ms", "")
		inFlightDone, inFlightStatus = time.Since(t0), res.status
	}()

	at(100 * time.Millisecond)
	outside := time.Now()
	must(t, s, http.StatusOK, http.MethodGet, "/", "")
	if d := time.Since(outside); d > 150*time.Millisecond {
		t.Errorf("request outside a window took %v", d)
	}

	at(320 * time.Millisecond)
	must(t, s, http.StatusOK, http.MethodGet, "/", "")
	inside := time.Since(t0)
	if inside < 395*time.Millisecond || inside > 560*time.Millisecond {
		t.Errorf("request arriving at 320ms finished at %v, want the window end (400ms)", inside)
	}
	wg.Wait()
	if inFlightStatus != http.StatusRequestTimeout {
		t.Errorf("in-flight request status %d", inFlightStatus)
	}
	if inFlightDone < 395*time.Millisecond || inFlightDone > 560*time.Millisecond {
		t.Errorf("in-flight request answered at %v, want the window end (400ms)", inFlightDone)
	}
	if st := s.Stats(); st.Faults.Stalled < 2 {
		t.Errorf("stalled counter %d, want >= 2", st.Faults.Stalled)
	}
}

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
	f := Faults{Rate429: 0.1, Rate5xx: 0.05, Seed: 42}
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

func TestInjectedErrorShapes(t *testing.T) {
	tests := []struct {
		name   string
		f      Faults
		status int
		typ    string
	}{
		{"rate_429_is_es_rejected_execution", Faults{Rate429: 1}, 429, "es_rejected_execution_exception"},
		{"rate_5xx_gives_503_or_500", Faults{Rate5xx: 1, Seed: 1}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Faults: tt.f})
			res := call(t, s, http.MethodPost, "/_bulk", "{\"index\":{\"_index\":\"a\"}}\n{}\n")
			if tt.status != 0 {
				eb := mustError(t, res, tt.status, tt.typ)
				if !strings.Contains(eb.Error.Reason, "estarget") {
					t.Fatalf("injected error must say where it comes from: %s", eb.Error.Reason)
				}
			} else if res.status != 503 && res.status != 500 {
				t.Fatalf("status %d", res.status)
			}
			if s.Stats().DocsStored != 0 {
				t.Fatal("a rejected request was executed")
			}
			if res.header.Get("X-Elastic-Product") != "Elasticsearch" {
				t.Fatal("injected errors must carry the product header too")
			}
			st := s.Stats()
			if st.Requests["bulk"] != 1 || st.Faults.Rejected429+st.Faults.Errors5xx != 1 {
				t.Fatalf("counters: %+v", st)
			}
		})
	}
}

func TestLatencyAndJitter(t *testing.T) {
	s := New(Options{Faults: Faults{Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond, Seed: 3}})
	for i := 0; i < 3; i++ {
		start := time.Now()
		must(t, s, http.StatusOK, http.MethodGet, "/", "")
		if d := time.Since(start); d < 20*time.Millisecond || d > 200*time.Millisecond {
			t.Fatalf("request took %v with latency 20ms + jitter <10ms", d)
		}
	}
	if s.Stats().Faults.Delayed != 3 {
		t.Fatalf("delayed counter %d", s.Stats().Faults.Delayed)
	}
}

func TestControlEndpoints(t *testing.T) {
	s := New(Options{})
	res := must(t, s, http.StatusOK, http.MethodPut, "/_estarget/faults", `{"latency":"1ms","stall_every":"5s","stall_for":"1s","rate_429":1,"seed":9}`)
	var f Faults
	if err := json.Unmarshal(res.body, &f); err != nil {
		t.Fatal(err)
	}
	if f.Latency != time.Millisecond || f.StallEvery != 5*time.Second || f.StallFor != time.Second || f.Rate429 != 1 || f.Seed != 9 {
		t.Fatalf("faults echoed: %s", res.body)
	}
	if !strings.Contains(string(res.body), `"stall_every":"5s"`) {
		t.Fatalf("durations must be strings: %s", res.body)
	}
	mustError(t, call(t, s, http.MethodGet, "/", ""), http.StatusTooManyRequests, "es_rejected_execution_exception")
	// The control namespace is never faulted.
	st := must(t, s, http.StatusOK, http.MethodGet, "/_estarget/stats", "")
	var c Counters
	decode(t, st.body, &c)
	if c.Faults.Rejected429 != 1 || c.Requests["root"] != 1 {
		t.Fatalf("stats: %s", st.body)
	}
	for _, bad := range []string{`{"rate_429":2}`, `{"latency":"soon"}`, `{"stall_every":"1s"}`, `{"colour":"red"}`} {
		mustError(t, call(t, s, http.MethodPut, "/_estarget/faults", bad), http.StatusBadRequest, "illegal_argument_exception")
	}
	must(t, s, http.StatusOK, http.MethodPut, "/_estarget/faults", `{}`)
	must(t, s, http.StatusOK, http.MethodGet, "/", "")
	if s.SetFaults(Faults{Rate5xx: -1}) == nil {
		t.Fatal("SetFaults accepted a negative rate")
	}
}
