package estarget

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// proxy forwards requests to one real engine over keep-alive connections,
// streaming bodies both ways.
type proxy struct {
	base      *url.URL
	transport *http.Transport
}

func newProxy(base *url.URL) *proxy {
	return &proxy{base: base, transport: &http.Transport{
		Proxy:               nil, // never through an environment proxy: the upstream is a test engine
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
		// Answers pass through as the engine encoded them.
		DisableCompression: true,
	}}
}

// hopHeaders are the hop-by-hop headers a proxy must not forward (RFC 9110
// section 7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func dropHopHeaders(h http.Header) {
	for _, f := range strings.Split(h.Get("Connection"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			h.Del(f)
		}
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
}

// forward sends r to the upstream and returns its answer with the body
// still to be read; a failure to reach the upstream is a 502 naming it.
func (p *proxy) forward(s *Server, r *http.Request) answer {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	u := *p.base
	u.Path = strings.TrimSuffix(p.base.Path, "/") + r.URL.Path
	u.RawPath = ""
	if r.URL.RawPath != "" {
		u.RawPath = strings.TrimSuffix(p.base.EscapedPath(), "/") + r.URL.RawPath
	}
	u.RawQuery = r.URL.RawQuery
	out.URL, out.Host = &u, ""
	if r.ContentLength == 0 {
		out.Body = nil
	}
	dropHopHeaders(out.Header)
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		s.counters.faults[cUpstreamErrors].Add(1)
		return errorReply(errf(http.StatusBadGateway, "estarget_upstream_exception", "estarget: upstream %s: %v", p.base, err)).answer()
	}
	dropHopHeaders(resp.Header)
	resp.Header.Del("Content-Length")
	return answer{status: resp.StatusCode, header: resp.Header, body: resp.Body, length: resp.ContentLength,
		close: func() { resp.Body.Close() }}
}
