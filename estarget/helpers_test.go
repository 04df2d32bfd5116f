package estarget

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// response is one recorded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// call sends one request straight to the handler.
func call(t testing.TB, h http.Handler, method, path, body string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// must sends a request and fails the test unless the status is want.
func must(t testing.TB, h http.Handler, want int, method, path, body string) response {
	t.Helper()
	res := call(t, h, method, path, body)
	if res.status != want {
		t.Fatalf("%s %s: status %d, want %d; body: %s", method, path, res.status, want, res.body)
	}
	return res
}

// decode unmarshals b into v or fails the test.
func decode(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %T: %v; body: %s", v, err, b)
	}
}

// errorBody mirrors Elasticsearch's error response.
type errorBody struct {
	Error struct {
		RootCause []struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"root_cause"`
		Type   string `json:"type"`
		Reason string `json:"reason"`
		Index  string `json:"index"`
	} `json:"error"`
	Status int `json:"status"`
}

// mustError checks an Elasticsearch-shaped error with the given status and
// type, and returns it.
func mustError(t testing.TB, res response, status int, typ string) errorBody {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d; body: %s", res.status, status, res.body)
	}
	var eb errorBody
	decode(t, res.body, &eb)
	if eb.Status != status || eb.Error.Type != typ || len(eb.Error.RootCause) != 1 || eb.Error.RootCause[0].Type != typ {
		t.Fatalf("error shape: want status %d type %s with one root cause; got %s", status, typ, res.body)
	}
	if eb.Error.Reason == "" || eb.Error.RootCause[0].Reason != eb.Error.Reason {
		t.Fatalf("error reason missing or differs from its root cause: %s", res.body)
	}
	return eb
}

// serve listens with s on a free loopback port until the test ends and
// returns its base URL.
func serve(t testing.TB, s *Server) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sv, err := Listen(ctx, "127.0.0.1:0", s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := sv.Wait(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return sv.URL()
}

// get sends a request over HTTP with a client of its own (no connection
// shared with other requests) and returns the status, the body read and
// the read error.
func get(t testing.TB, method, url, body string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}

// stats reads the target's counters over its control API.
func stats(t testing.TB, h http.Handler) Counters {
	t.Helper()
	var c Counters
	decode(t, must(t, h, http.StatusOK, http.MethodGet, "/_estarget/stats", "").body, &c)
	return c
}

// bulkBody is n index actions into idx with small documents.
func bulkBody(idx string, n int) string {
	var sb strings.Builder
	for i := range n {
		sb.WriteString(`{"index":{"_index":"` + idx + `"}}` + "\n" + `{"n":` + itoa(int64(i)) + `,"message":"GET /index.html 200"}` + "\n")
	}
	return sb.String()
}

// jsonEqual reports whether two JSON texts hold the same value.
func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y any
	decode(t, a, &x)
	decode(t, b, &y)
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}
