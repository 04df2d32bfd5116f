package driver

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func TestClientConfigAppliesOptionsToTheTarget(t *testing.T) {
	plain := Target{Scheme: "http", Host: "h:9200", PathPrefix: "/es"}
	for _, tc := range []struct {
		name     string
		target   Target
		opts     string
		wantBase string
		wantTLS  bool
		timeout  time.Duration
		auth     string
		headers  int
	}{
		{name: "plain target with defaults", target: plain, wantBase: "http://h:9200/es", timeout: DefaultTimeout},
		{name: "use_ssl makes a plain target https", target: plain, opts: "use_ssl:true,verify_certs:false",
			wantBase: "https://h:9200/es", wantTLS: true, timeout: DefaultTimeout},
		{name: "https target", target: Target{Scheme: "https", Host: "h:443"}, wantBase: "https://h:443", wantTLS: true, timeout: DefaultTimeout},
		{name: "timeout, auth and headers", target: plain, opts: "timeout:5,basic_auth_user:'u',basic_auth_password:'p',headers:{'X-A':'1','X-B':'2'}",
			wantBase: "http://h:9200/es", timeout: 5 * time.Second, auth: "Basic dTpw", headers: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := ParseClientOptions(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			c, err := newClientConfig(tc.target, opts)
			if err != nil {
				t.Fatal(err)
			}
			if c.base != tc.wantBase || (c.tls != nil) != tc.wantTLS || c.timeout != tc.timeout || c.auth != tc.auth || len(c.headers) != tc.headers {
				t.Fatalf("config base %q tls %v timeout %v auth %q headers %v", c.base, c.tls != nil, c.timeout, c.auth, c.headers)
			}
		})
	}
}

func TestClientConfigZeroTimeoutIsTheDefault(t *testing.T) {
	c, err := newClientConfig(Target{Scheme: "http", Host: "h"}, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.timeout != DefaultTimeout || c.requestTimeout(&Request{}) != DefaultTimeout || c.requestTimeout(&Request{Timeout: time.Second}) != time.Second {
		t.Fatalf("timeout %v", c.timeout)
	}
}

func TestClientConfigUnreadableCACertsFails(t *testing.T) {
	opts := ClientOptions{UseSSL: true, CACerts: "/nonexistent/ca.pem"}
	if _, err := newClientConfig(Target{Scheme: "http", Host: "h"}, opts); err == nil {
		t.Fatal("missing ca_certs accepted")
	}
	opts.UseSSL = false // plain http reads no certificates
	if _, err := newClientConfig(Target{Scheme: "http", Host: "h"}, opts); err != nil {
		t.Fatal(err)
	}
}

func TestRequestHeadersWinOverClientHeaders(t *testing.T) {
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			srv := newTestES(t, nil)
			opts, err := ParseClientOptions("headers:{'X-A':'client','X-B':'client'}")
			if err != nil {
				t.Fatal(err)
			}
			c, err := NewClient(tr, srv.target(), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer closeClient(c)
			req := Request{Method: "POST", Path: "/_bulk", Body: []byte("{}\n"), ContentType: "application/x-ndjson", Headers: []Header{{"X-A", "request"}}}
			var resp Response
			if err := c.Do(context.Background(), &req, &resp); err != nil {
				t.Fatal(err)
			}
			h := srv.requests()[0].Header
			if h.Get("X-A") != "request" || h.Get("X-B") != "client" || h.Get("Content-Type") != "application/x-ndjson" || h.Get("Authorization") != "" {
				t.Fatalf("headers %v", h)
			}
		})
	}
}

// The request loop's promise: once warm, a FastClient request with
// authentication, client-option and request headers allocates nothing.
func TestFastClientRequestAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; run without -race to count allocations")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString(`{}`) }}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	opts, err := ParseClientOptions("api_key:'k',headers:{'X-A':'1'}")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewFastClient(Target{Scheme: "http", Host: ln.Addr().String()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := Request{Method: "POST", Path: "/idx/_search", Body: []byte(`{}`), Headers: []Header{{"X-Opaque-Id", "q"}}, Timeout: 5 * time.Second}
	var resp Response
	do := func() {
		if err := c.Do(ctx, &req, &resp); err != nil || resp.Status != 200 {
			t.Fatalf("status %d: %v", resp.Status, err)
		}
	}
	for range 50 {
		do()
	}
	if n := testing.AllocsPerRun(500, do); n != 0 {
		t.Fatalf("%v allocations per request, want 0", n)
	}
}
