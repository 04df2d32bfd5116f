package estarget

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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
		if strings.HasSuffix(path, "_bulk") || strings.Contains(path, "_bulk?") {
			req.Header.Set("Content-Type", "application/x-ndjson")
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
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

// decode unmarshals strictly: a member the struct does not mirror is an
// error, so tests notice shape drift in both directions where they use
// strict structs.
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
			Index  string `json:"index"`
		} `json:"root_cause"`
		Type      string `json:"type"`
		Reason    string `json:"reason"`
		Index     string `json:"index"`
		IndexUUID string `json:"index_uuid"`
	} `json:"error"`
	Status int `json:"status"`
}

// mustError checks an ES-shaped error with the given status and type.
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
		t.Fatalf("error reason missing or differs from root cause: %s", res.body)
	}
	return eb
}

// httptestCompat sends GET / asking for the versioned media type and
// returns the response Content-Type.
func httptestCompat(t testing.TB, h http.Handler) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept", "application/vnd.elasticsearch+json; compatible-with=8")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Header().Get("Content-Type")
}

// callRaw sends a request with a byte body and headers.
func callRaw(t testing.TB, h http.Handler, method, path string, body []byte, headers map[string]string) response {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// mustAnswerCleanly fails unless res is a 200 whose body decodes into ok or
// a 4xx with a well-formed error body: what any input, however mangled, may
// get, and never a 5xx.
func mustAnswerCleanly(t testing.TB, res response, ok any) {
	t.Helper()
	switch {
	case res.status == http.StatusOK:
		decode(t, res.body, ok)
	case res.status >= 400 && res.status < 500:
		var eb errorBody
		decode(t, res.body, &eb)
		if eb.Status != res.status || eb.Error.Type == "" {
			t.Fatalf("error body: %s", res.body)
		}
	default:
		t.Fatalf("status %d: %s", res.status, res.body)
	}
}

// listenLoopback serves a new default target on a free loopback port until
// the returned cancel is called, at the latest when the test ends.
func listenLoopback(t testing.TB) (*Serving, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sv, err := Listen(ctx, "127.0.0.1:0", New(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	return sv, cancel
}

func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	x, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return x
}
