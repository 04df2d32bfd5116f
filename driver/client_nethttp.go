package driver

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// NetClient is the net/http Client, kept to compare against FastClient in
// benchmarks and as a fallback. It allocates per request (net/http does).
type NetClient struct {
	hc      *http.Client
	tr      *http.Transport
	base    string
	timeout time.Duration
	auth    string
	headers []Header
	gzip    bool
	buf     bytes.Buffer
}

var _ Client = (*NetClient)(nil)

// NewNetClient returns a net/http Client for target with one keep-alive
// connection.
func NewNetClient(target Target, opts ClientOptions) (*NetClient, error) {
	scheme := target.Scheme
	if opts.UseSSL {
		scheme = "https"
	}
	n := &NetClient{
		base:    scheme + "://" + target.Host + target.PathPrefix,
		timeout: opts.Timeout,
		auth:    opts.AuthorizationHeader(),
		gzip:    opts.HTTPCompress,
	}
	if n.timeout <= 0 {
		n.timeout = DefaultTimeout
	}
	for k, v := range opts.Headers {
		n.headers = append(n.headers, Header{Name: k, Value: v})
	}
	var tlsConf *tls.Config
	if scheme == "https" {
		var err error
		if tlsConf, err = tlsConfig(opts); err != nil {
			return nil, err
		}
	}
	n.tr = &http.Transport{
		DialContext:         (&net.Dialer{Timeout: min(n.timeout, 30*time.Second), KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConf,
		MaxConnsPerHost:     1,
		MaxIdleConns:        1,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	n.hc = &http.Client{
		Transport: n.tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return n, nil
}

// Do sends req and reads the whole response into resp.
func (n *NetClient) Do(ctx context.Context, req *Request, resp *Response) error {
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = n.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
		if n.gzip && len(req.Body) > 0 {
			var zb bytes.Buffer
			zw := gzip.NewWriter(&zb)
			_, _ = zw.Write(req.Body)
			_ = zw.Close()
			body = &zb
		}
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, n.base+req.Path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	hr.Header.Set("User-Agent", userAgent)
	if n.auth != "" {
		hr.Header.Set("Authorization", n.auth)
	}
	for _, h := range n.headers {
		hr.Header.Set(h.Name, h.Value)
	}
	for _, h := range req.Headers {
		hr.Header.Set(h.Name, h.Value)
	}
	if req.Body != nil {
		ct := req.ContentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
		if n.gzip && len(req.Body) > 0 {
			hr.Header.Set("Content-Encoding", "gzip")
		}
	}
	if n.gzip {
		hr.Header.Set("Accept-Encoding", "gzip")
	}
	hresp, err := n.hc.Do(hr)
	if err != nil {
		return err
	}
	defer hresp.Body.Close()
	var rd io.Reader = hresp.Body
	if n.gzip && hresp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(hresp.Body)
		if err != nil {
			return fmt.Errorf("gunzip response: %w", err)
		}
		rd = zr
	}
	n.buf.Reset()
	if _, err := n.buf.ReadFrom(rd); err != nil {
		return err
	}
	resp.Status = hresp.StatusCode
	resp.Body = append(resp.Body[:0], n.buf.Bytes()...)
	return nil
}

// Close closes idle connections.
func (n *NetClient) Close() { n.tr.CloseIdleConnections() }
