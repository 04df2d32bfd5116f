package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"rally/metrics"
	"rally/track"
)

// recReq is a request as the test server saw it.
type recReq struct {
	Method, URI, Body string
	Header            http.Header
}

// String renders "METHOD URI body" with JSON bodies normalised.
func (r recReq) String() string {
	s := r.Method + " " + r.URI
	if r.Body != "" {
		s += " " + normJSON(r.Body)
	}
	return s
}

// normJSON re-encodes JSON (and NDJSON) with sorted keys so comparisons do
// not depend on key order; other text is returned unchanged.
func normJSON(s string) string {
	var parts []string
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		var v any
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if dec.Decode(&v) != nil {
			return s
		}
		b, _ := json.Marshal(v)
		parts = append(parts, string(b))
	}
	return strings.Join(parts, "\n")
}

// testES is a local stand-in for Elasticsearch that records every request
// and answers with handle (200 "{}" when nil).
type testES struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []recReq
	handle func(r recReq) (int, string)
}

func newTestES(t testing.TB, handle func(r recReq) (int, string)) *testES {
	s := &testES{handle: handle}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rr := recReq{Method: r.Method, URI: r.RequestURI, Body: string(body), Header: r.Header.Clone()}
		s.mu.Lock()
		s.reqs = append(s.reqs, rr)
		h := s.handle
		s.mu.Unlock()
		status, resp := 200, "{}"
		if h != nil {
			status, resp = h(rr)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, resp)
	}))
	t.Cleanup(s.Close)
	return s
}

// setHandle replaces the handler.
func (s *testES) setHandle(h func(r recReq) (int, string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handle = h
}

func (s *testES) target() Target {
	return Target{Scheme: "http", Host: strings.TrimPrefix(s.URL, "http://")}
}

func (s *testES) requests() []recReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recReq(nil), s.reqs...)
}

func (s *testES) lines() []string {
	var out []string
	for _, r := range s.requests() {
		out = append(out, r.String())
	}
	return out
}

// jsonParams decodes operation params as the track loader does (numbers as
// json.Number).
func jsonParams(t testing.TB, js string) map[string]any {
	t.Helper()
	if js == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("params %s: %v", js, err)
	}
	return m
}

// opTask is a task running one inline operation once with one client.
func opTask(t testing.TB, name, opType, params string) *track.Task {
	return &track.Task{
		Name:               name,
		Operation:          track.Operation{Name: name, Type: opType, Params: jsonParams(t, params)},
		Clients:            1,
		IncludeInReporting: true,
	}
}

// runResult is what a test run produced.
type runResult struct {
	res     TaskResult
	err     error
	summary metrics.TaskSummary
}

// runTask runs a task against srv and summarises its samples.
func runTask(t testing.TB, tr *track.Track, task *track.Task, srv *testES, mod ...func(*TaskPlan)) runResult {
	t.Helper()
	epoch := time.Now()
	agg := metrics.NewAggregator(epoch)
	tp := TaskPlan{Track: tr, Task: task, Targets: []Target{srv.target()}, ClientOptions: DefaultClientOptions(), Epoch: epoch, DataDir: t.TempDir(), FlushInterval: 100 * time.Millisecond}
	for _, m := range mod {
		m(&tp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := RunTask(ctx, tp, func(d *metrics.Delta) {
		if err := agg.Add(d); err != nil {
			t.Errorf("add delta: %v", err)
		}
	})
	sum := agg.Summary([]metrics.TaskInfo{res.Info})
	return runResult{res: res, err: err, summary: sum.Tasks[0]}
}

func equalLines(t testing.TB, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n  got  %s\n  want %s", strings.Join(got, "\n       "), strings.Join(want, "\n       "))
	}
}

// ndjson joins lines with newlines (and a final one).
func ndjsonLines(lines ...string) string {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}
