package estarget

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
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

func (d *discardWriter) reset() {
	clear(d.h)
	d.status = 0
}

// benchHandler runs one request repeatedly against the handler and reports
// requests per second.
func benchHandler(b *testing.B, s *Server, method, path string, body []byte) {
	req, err := http.NewRequest(method, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	rd := bytes.NewReader(body)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		req.ContentLength = int64(len(body))
		w.reset()
		s.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func BenchmarkRoot(b *testing.B) {
	benchHandler(b, New(Options{}), http.MethodGet, "/", nil)
}

func smallBulk(n int) []byte {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "{\"index\":{\"_index\":\"bench\"}}\n{\"@timestamp\":\"2024-01-01T00:00:%02dZ\",\"message\":\"GET /index.html 200\",\"size\":%d}\n", i%60, i)
	}
	return []byte(sb.String())
}

func BenchmarkBulkSmall(b *testing.B) {
	benchHandler(b, New(Options{}), http.MethodPost, "/_bulk", smallBulk(10))
}

func BenchmarkSearchTiny(b *testing.B) {
	s := New(Options{})
	body := smallBulk(100)
	if res := call(b, s, http.MethodPost, "/_bulk", string(body)); res.status != 200 {
		b.Fatal(res.status)
	}
	b.Run("match_all", func(b *testing.B) {
		benchHandler(b, s, http.MethodPost, "/bench/_search", []byte(`{"query":{"match_all":{}},"size":10}`))
	})
	b.Run("term", func(b *testing.B) {
		benchHandler(b, s, http.MethodPost, "/bench/_search", []byte(`{"query":{"term":{"size":42}}}`))
	})
}

// BenchmarkRootHTTP measures GET / over loopback with keep-alive clients,
// which is what a load driver sees.
func BenchmarkRootHTTP(b *testing.B) {
	sv, cancel := listenLoopback(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	url := sv.URL() + "/"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.StopTimer()
	cancel()
	if err := sv.Wait(); err != nil {
		b.Fatal(err)
	}
}
