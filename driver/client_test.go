package driver

import (
	"compress/gzip"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var transports = []Transport{TransportFastHTTP, TransportNetHTTP}

func TestClientSendsRequestAndReadsResponse(t *testing.T) {
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			srv := newTestES(t, func(r recReq) (int, string) { return 201, `{"ok":` + r.Body + `}` })
			target := srv.target()
			target.PathPrefix = "/es"
			opts, _ := ParseClientOptions("api_key:'k3y',headers:{'X-Global':'g'}")
			c, err := NewClient(tr, target, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer closeClient(c)
			req := Request{Method: "PUT", Path: "/idx?x=1", Body: []byte(`true`), Headers: []Header{{"X-Req", "r"}}}
			var resp Response
			for i := 0; i < 3; i++ { // the response buffer is reused
				if err := c.Do(context.Background(), &req, &resp); err != nil {
					t.Fatal(err)
				}
			}
			if resp.Status != 201 || string(resp.Body) != `{"ok":true}` {
				t.Fatalf("response %d %q", resp.Status, resp.Body)
			}
			got := srv.requests()
			if len(got) != 3 || got[0].URI != "/es/idx?x=1" || got[0].Method != "PUT" {
				t.Fatalf("requests %v", got)
			}
			h := got[0].Header
			if h.Get("Authorization") != "ApiKey k3y" || h.Get("X-Global") != "g" || h.Get("X-Req") != "r" || h.Get("Content-Type") != "application/json" {
				t.Fatalf("headers %v", h)
			}
		})
	}
}

// A client keeps the last request's method, URI and headers when the next
// has the same shape and rebuilds them otherwise: every request arrives as
// it was sent, with no header, body or encoding left over from the one
// before, with and without compression.
func TestClientRequestsOfChangingShape(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compressed=%v", compress), func(t *testing.T) {
			srv := newTestES(t, func(r recReq) (int, string) { return 200, `{}` })
			opts := DefaultClientOptions()
			opts.HTTPCompress = compress
			c, err := NewClient(TransportFastHTTP, srv.target(), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer closeClient(c)
			reqs := []Request{
				{Method: "GET", Path: "/a"},
				{Method: "POST", Path: "/b", Body: []byte(`{"n":1}`)},
				{Method: "POST", Path: "/b", Body: []byte(`{"n":22}`)},
				{Method: "POST", Path: "/b", Body: []byte{}},
				{Method: "POST", Path: "/b", Body: []byte(`{"n":3}`), Headers: []Header{{"X-Opaque-Id", "q"}}},
				{Method: "POST", Path: "/b", Body: []byte("x\n"), ContentType: "application/x-ndjson"},
				{Method: "GET", Path: "/a"},
			}
			var resp Response
			for i := range reqs {
				if err := c.Do(context.Background(), &reqs[i], &resp); err != nil {
					t.Fatal(err)
				}
			}
			got := srv.requests()
			if len(got) != len(reqs) {
				t.Fatalf("%d requests arrived, want %d", len(got), len(reqs))
			}
			for i, r := range got {
				want := reqs[i]
				if r.Header.Get("Content-Encoding") == "gzip" {
					zr, err := gzip.NewReader(strings.NewReader(r.Body))
					if err != nil {
						t.Fatalf("request %d: %v", i, err)
					}
					b, _ := io.ReadAll(zr)
					r.Body = string(b)
				} else if compress && len(want.Body) > 0 {
					t.Errorf("request %d: not compressed", i)
				}
				if r.Method != want.Method || r.URI != want.Path || r.Body != string(want.Body) {
					t.Errorf("request %d arrived as %s %s %q, sent %s %s %q", i, r.Method, r.URI, r.Body, want.Method, want.Path, want.Body)
				}
				if (r.Header.Get("X-Opaque-Id") != "") != (len(want.Headers) > 0) {
					t.Errorf("request %d: X-Opaque-Id %q", i, r.Header.Get("X-Opaque-Id"))
				}
				if want.Body != nil && r.Header.Get("Content-Type") != contentType(&want) {
					t.Errorf("request %d: Content-Type %q", i, r.Header.Get("Content-Type"))
				}
			}
		})
	}
}

func TestClientTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are the point
	srv.StartTLS()
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	for _, tr := range transports {
		for _, tc := range []struct {
			name, opts string
			target     Target
			ok         bool
		}{
			{"use_ssl on a plain host without verification", "use_ssl:true,verify_certs:false", Target{"http", host, ""}, true},
			{"https target verified against ca_certs", "ca_certs:'" + caFile + "'", Target{"https", host, ""}, true},
			{"https target with an unknown CA fails", "", Target{"https", host, ""}, false},
		} {
			t.Run(string(tr)+"/"+tc.name, func(t *testing.T) {
				opts, err := ParseClientOptions(tc.opts)
				if err != nil {
					t.Fatal(err)
				}
				c, err := NewClient(tr, tc.target, opts)
				if err != nil {
					t.Fatal(err)
				}
				defer closeClient(c)
				var resp Response
				err = c.Do(context.Background(), &Request{Method: "GET", Path: "/"}, &resp)
				if (err == nil) != tc.ok {
					t.Fatalf("err = %v, want success %v", err, tc.ok)
				}
			})
		}
	}
}

func TestClientTimeoutIsClassified(t *testing.T) {
	srv := newTestES(t, func(recReq) (int, string) { time.Sleep(300 * time.Millisecond); return 200, "{}" })
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			c, _ := NewClient(tr, srv.target(), DefaultClientOptions())
			defer closeClient(c)
			err := c.Do(context.Background(), &Request{Method: "GET", Path: "/", Timeout: 50 * time.Millisecond}, &Response{})
			if err == nil || !isTimeout(err) {
				t.Fatalf("err = %v, want a timeout", err)
			}
			if out := transportFailure("GET", "/", err); out.errType != "timeout" || !out.transport {
				t.Fatalf("classified as %+v", out)
			}
		})
	}
}

func TestClientCompressionWhenAsked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			body, _ = io.ReadAll(zr)
		}
		if r.Header.Get("Accept-Encoding") != "gzip" || string(body) != `{"q":1}` {
			http.Error(w, "not compressed", 400)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, `{"echo":`+string(body)+`}`)
		zw.Close()
	}))
	defer srv.Close()
	opts, _ := ParseClientOptions("http_compress:true")
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			c, _ := NewClient(tr, Target{"http", strings.TrimPrefix(srv.URL, "http://"), ""}, opts)
			defer closeClient(c)
			var resp Response
			if err := c.Do(context.Background(), &Request{Method: "POST", Path: "/", Body: []byte(`{"q":1}`)}, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 || string(resp.Body) != `{"echo":{"q":1}}` {
				t.Fatalf("%d %q", resp.Status, resp.Body)
			}
		})
	}
}

func TestFastClientCancelBreaksAWaitingRequest(t *testing.T) {
	release := make(chan struct{})
	srv := newTestES(t, func(recReq) (int, string) {
		select {
		case <-release:
		case <-time.After(3 * time.Second):
		}
		return 200, "{}"
	})
	defer close(release)
	c, _ := NewFastClient(srv.target(), DefaultClientOptions())
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Do(ctx, &Request{Method: "GET", Path: "/"}, &Response{})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
	// The client works again with a fresh context.
	srv.setHandle(func(recReq) (int, string) { return 200, "{}" })
	if err := c.Do(context.Background(), &Request{Method: "GET", Path: "/"}, &Response{}); err != nil {
		t.Fatalf("after cancel: %v", err)
	}
}

func TestDetectDistribution(t *testing.T) {
	for _, tc := range []struct{ body, name, version string }{
		{`{"name":"n","cluster_name":"c","version":{"number":"8.15.0","build_flavor":"default","lucene_version":"9.11.1"},"tagline":"You Know, for Search"}`, "elasticsearch", "8.15.0"},
		{`{"name":"n","version":{"number":"9.1.0"}}`, "elasticsearch", "9.1.0"},
		{`{"name":"n","version":{"distribution":"opensearch","number":"2.11.1"},"tagline":"The OpenSearch Project"}`, "opensearch", "2.11.1"},
	} {
		srv := newTestES(t, func(recReq) (int, string) { return 200, tc.body })
		c, _ := NewFastClient(srv.target(), DefaultClientOptions())
		name, version, err := DetectDistribution(context.Background(), c)
		c.Close()
		if err != nil || name != tc.name || version != tc.version {
			t.Fatalf("got %s %s %v, want %s %s", name, version, err, tc.name, tc.version)
		}
		if r := srv.requests(); len(r) != 1 || r[0].Method != "GET" || r[0].URI != "/" {
			t.Fatalf("requests %v", r)
		}
	}
	srv := newTestES(t, func(recReq) (int, string) { return 401, `{"error":"security_exception"}` })
	c, _ := NewFastClient(srv.target(), DefaultClientOptions())
	defer c.Close()
	if _, _, err := DetectDistribution(context.Background(), c); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewClientUnknownTransport(t *testing.T) {
	if _, err := NewClient("carrier-pigeon", Target{"http", "a:1", ""}, DefaultClientOptions()); err == nil {
		t.Fatal("accepted")
	}
	if _, err := NewClient("", Target{"https", "a:1", ""}, ClientOptions{CACerts: "/nonexistent.pem"}); err == nil {
		t.Fatal("missing ca_certs accepted")
	}
}

func TestFastClientStaysUsableAfterAnIdleCancel(t *testing.T) {
	srv := newTestES(t, nil)
	c, _ := NewFastClient(srv.target(), DefaultClientOptions())
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.Do(ctx, &Request{Method: "GET", Path: "/"}, &Response{}); err != nil {
		t.Fatal(err)
	}
	cancel() // while the connection is idle
	time.Sleep(10 * time.Millisecond)
	if err := c.Do(context.Background(), &Request{Method: "GET", Path: "/"}, &Response{}); err != nil {
		t.Fatalf("idle connection broken by an earlier context: %v", err)
	}
}

// A context cancelled right after its request ended must not break the
// next request on the same connection: the cancellation's callback runs
// on its own goroutine and can come late, while the next request waits.
func TestFastClientLateCancelSparesTheNextRequest(t *testing.T) {
	srv := newTestES(t, nil)
	c, _ := NewFastClient(srv.target(), DefaultClientOptions())
	defer c.Close()
	failed := 0
	for i := 0; i < 300; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		err := c.Do(ctx, &Request{Method: "GET", Path: "/"}, &Response{})
		cancel()
		if err != nil {
			failed++
		}
	}
	if failed > 0 {
		t.Errorf("%d of 300 requests failed after the previous request's context was cancelled", failed)
	}
}

// Connect opens the connection the first request then uses: the server
// sees it before any request, and no second one.
func TestFastClientConnectAhead(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{}`)) }))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := NewFastClient(Target{Scheme: "http", Host: srv.Listener.Addr().String()}, DefaultClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); conns.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections after Connect, want 1", n)
	}
	var resp Response
	for range 3 {
		if err := c.Do(context.Background(), &Request{Method: "GET", Path: "/"}, &resp); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections after the requests, want the one Connect opened", n)
	}
}
