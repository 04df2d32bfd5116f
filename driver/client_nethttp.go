package driver

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// NetClient is the net/http Client, kept to compare against FastClient in
// benchmarks and as a fallback. It allocates per request (net/http does).
type NetClient struct {
	clientConfig
	hc  *http.Client
	tr  *http.Transport
	buf bytes.Buffer
}

var _ Client = (*NetClient)(nil)

// NewNetClient returns a net/http Client for target with one keep-alive
// connection.
func NewNetClient(target Target, opts ClientOptions) (*NetClient, error) {
	cfg, err := newClientConfig(target, opts)
	if err != nil {
		return nil, err
	}
	n := &NetClient{clientConfig: cfg}
	n.tr = &http.Transport{
		DialContext:         n.dialer().DialContext,
		TLSClientConfig:     cfg.tls,
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
	ctx, cancel := context.WithTimeout(ctx, n.requestTimeout(req))
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
	n.setHeaders(req, hr.Header.Set)
	if req.Body != nil {
		hr.Header.Set("Content-Type", contentType(req))
		if n.gzip && len(req.Body) > 0 {
			hr.Header.Set("Content-Encoding", "gzip")
		}
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
