package estarget

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// discardWriter is a ResponseWriter that keeps nothing, so benchmarks
// measure the handler rather than a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// benchHandler runs one request repeatedly against h and reports requests
// per second.
func benchHandler(b *testing.B, h http.Handler, method, path string, body []byte) {
	req, err := http.NewRequest(method, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	rd := bytes.NewReader(body)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		req.ContentLength = int64(len(body))
		clear(w.h)
		w.status = 0
		h.ServeHTTP(w, req)
		if w.status >= 300 {
			b.Fatalf("status %d", w.status)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func BenchmarkRoot(b *testing.B) {
	benchHandler(b, New(Options{}), http.MethodGet, "/", nil)
}

func BenchmarkBulkSmall(b *testing.B) {
	benchHandler(b, New(Options{}), http.MethodPost, "/_bulk", []byte(bulkBody("bench", 10)))
}

func BenchmarkSearch(b *testing.B) {
	s := New(Options{})
	call(b, s, http.MethodPost, "/_bulk", bulkBody("bench", 100))
	benchHandler(b, s, http.MethodPost, "/bench/_search", []byte(`{"query":{"match_all":{}},"size":10}`))
}

// BenchmarkProxy forwards a small search to a loopback upstream through a
// kept-alive connection.
func BenchmarkProxy(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"took":1,"timed_out":false,"hits":{"total":{"value":0,"relation":"eq"},"hits":[]}}`)
	}))
	defer up.Close()
	benchHandler(b, New(Options{Upstream: up.URL}), http.MethodPost, "/bench/_search", []byte(`{"query":{"match_all":{}}}`))
}
