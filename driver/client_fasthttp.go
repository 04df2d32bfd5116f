package driver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fasthttp"
)

// userAgent identifies the driver to the cluster.
const userAgent = "rally-go"

// FastClient is the fasthttp Client: one HostClient with MaxConns 1, so one
// keep-alive connection per benchmark client, and a request and response
// reused for every call, so the request loop allocates nothing once warm.
type FastClient struct {
	clientConfig
	hc    *fasthttp.HostClient
	req   fasthttp.Request
	resp  fasthttp.Response
	url   []byte // scratch: base + path
	gzw   *gzip.Writer
	gzbuf bytes.Buffer

	// conn is the one live connection, so a cancelled context can break a
	// request that is waiting for its response.
	conn atomic.Pointer[net.Conn]
	// inFlight is the watch generation of the request Do waits for, zero
	// while none is in flight: only a cancellation of that request's own
	// context breaks the connection. An idle connection stays usable, and
	// so does the next request's when the previous context is cancelled
	// after its request ended (its callback may still run late, on its own
	// goroutine, while the next request is in flight).
	inFlight atomic.Uint64
	// watched is the context whose cancellation currently aborts requests,
	// gen its generation; registering once per context keeps Do free of
	// allocations.
	watched   context.Context
	gen       uint64
	stopWatch func() bool

	netDialer *net.Dialer
	// ready is a connection opened by Connect that the first dial
	// takes instead of dialling.
	ready net.Conn
	// shape is what the request in req was built from.
	shape builtShape
	// quiet is the live connection when it is a quietConn, told each
	// request's timeout so it can set coarse deadlines without reading
	// the clock.
	quiet *quietConn

	// lastDone is when the previous request ended, idle how long the
	// connection sat unused before the request in flight (from the
	// Request when its caller knows, else from lastDone).
	lastDone time.Time
	idle     time.Duration
}

// builtShape is what a fasthttp request is built from, but its body.
type builtShape struct {
	ok                  bool
	body                bool
	method, path, ctype string
	headers             []Header
}

// same reports whether req has the shape s was set from.
func (s *builtShape) same(req *Request) bool {
	return s.ok && s.body == (req.Body != nil) && s.method == req.Method && s.path == req.Path &&
		(!s.body || s.ctype == contentType(req)) && slices.Equal(s.headers, req.Headers)
}

// set records req's shape, reusing s's header list.
func (s *builtShape) set(req *Request) {
	s.ok, s.body, s.method, s.path, s.ctype = true, req.Body != nil, req.Method, req.Path, contentType(req)
	s.headers = append(s.headers[:0], req.Headers...)
}

// staleAfter is the idle time after which a connection's failure before
// the first byte of a response is taken for the server's closing of an
// idle keep-alive connection and retried once on a new one.
const staleAfter = time.Second

var _ Client = (*FastClient)(nil)

// NewFastClient returns a fasthttp Client for target.
func NewFastClient(target Target, opts ClientOptions) (*FastClient, error) {
	cfg, err := newClientConfig(target, opts)
	if err != nil {
		return nil, err
	}
	f := &FastClient{clientConfig: cfg}
	f.netDialer = f.dialer()
	f.hc = &fasthttp.HostClient{
		Addr:      target.Host,
		Name:      userAgent,
		IsTLS:     cfg.tls != nil,
		TLSConfig: cfg.tls,
		MaxConns:  1,
		Dial: func(addr string) (net.Conn, error) {
			c := f.ready
			if c != nil {
				f.ready = nil
			} else {
				var err error
				if c, err = f.open(context.Background(), addr); err != nil {
					return nil, err
				}
			}
			f.conn.Store(&c)
			f.quiet, _ = c.(*quietConn)
			return c, nil
		},
		// A keep-alive connection that sat idle may have been closed by the
		// server (or a proxy) just as the request went out: it fails before
		// any byte of the response. That one case is retried once, and only
		// after an idle gap of staleAfter: a connection closed or reset in
		// the middle of busy traffic is a fault of the target, reported as
		// it happened and never resent (a bulk would be indexed twice).
		MaxIdemponentCallAttempts: 2,
		RetryIfErr: func(_ *fasthttp.Request, attempts int, err error) (bool, bool) {
			return false, attempts == 1 && f.idle >= staleAfter &&
				(errors.Is(err, io.EOF) || errors.Is(err, fasthttp.ErrConnectionClosed))
		},
		MaxIdleConnDuration: 90 * time.Second,
		// Each connection holds one read and one write buffer, so their
		// size is most of a client's memory (10,000 clients with 64 KiB
		// buffers kept 1.3 GB of them). The read buffer must hold a
		// response's headers (Elasticsearch's own limit for a request's
		// is 16 KiB); bodies larger than a buffer are read and written
		// directly, around it.
		ReadBufferSize:                16 << 10,
		WriteBufferSize:               16 << 10,
		DisableHeaderNamesNormalizing: false,
		DisablePathNormalizing:        true,
		SecureErrorLogMessage:         true,
	}
	return f, nil
}

// Do sends req and reads the whole response into resp.
func (f *FastClient) Do(ctx context.Context, req *Request, resp *Response) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.watch(ctx)
	r := &f.req
	if !f.shape.same(req) {
		// A request of another shape than the last: built anew. One of
		// the same shape (a search sent over and over) keeps the last's
		// method, parsed URI and headers and changes only its body.
		r.Reset()
		f.url = append(append(f.url[:0], f.base...), req.Path...)
		r.SetRequestURIBytes(f.url)
		r.Header.SetMethod(req.Method)
		f.setHeaders(req, r.Header.Set)
		if req.Body != nil {
			r.Header.SetContentType(contentType(req))
		}
		f.shape.set(req)
	}
	if req.Body == nil {
		r.ResetBody()
	} else {
		switch {
		case f.gzip && len(req.Body) > 0:
			if err := f.compress(req.Body); err != nil {
				return err
			}
			r.Header.Set("Content-Encoding", "gzip")
			r.SetBodyRaw(f.gzbuf.Bytes())
		case f.gzip:
			r.Header.Del("Content-Encoding")
			r.SetBodyRaw(req.Body)
		default:
			r.SetBodyRaw(req.Body)
		}
	}
	f.inFlight.Store(f.gen)
	if f.idle = req.idle; f.idle == 0 {
		f.idle = time.Since(f.lastDone)
	}
	timeout := f.requestTimeout(req)
	if q := f.quiet; q != nil {
		q.setGrain(timeout)
	}
	err := f.hc.DoTimeout(r, &f.resp, timeout)
	f.inFlight.Store(0)
	if req.idle == 0 {
		f.lastDone = time.Now()
	}
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return err
	}
	resp.Status = f.resp.StatusCode()
	body := f.resp.Body()
	if f.gzip && bytes.Equal(f.resp.Header.ContentEncoding(), []byte("gzip")) {
		if body, err = f.resp.BodyUncompressed(); err != nil {
			return fmt.Errorf("gunzip response: %w", err)
		}
	}
	// The response's own buffer, valid until the next Do (as Response
	// says): no copy.
	resp.Body = body
	return nil
}

// Connect opens the client's connection now, ahead of its first request,
// which then does not pay for the TCP handshake. An error is returned and
// forgotten: the first request dials again and fails as it would have.
func (f *FastClient) Connect(ctx context.Context) error {
	if f.ready != nil {
		return nil
	}
	c, err := f.open(ctx, f.hc.Addr) // a target's Host always has its port
	if err != nil {
		return err
	}
	f.ready = c
	return nil
}

// open dials addr and wraps the connection for the request loop.
func (f *FastClient) open(ctx context.Context, addr string) (net.Conn, error) {
	c, err := f.netDialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return newQuietConn(c), nil
}

// watch arranges for ctx's cancellation to break the connection, once per
// distinct context.
func (f *FastClient) watch(ctx context.Context) {
	if ctx == f.watched {
		return
	}
	if f.stopWatch != nil {
		f.stopWatch()
		f.stopWatch = nil
	}
	f.watched = ctx
	f.gen++
	if ctx.Done() == nil {
		return // never cancelled
	}
	gen := f.gen
	f.stopWatch = context.AfterFunc(ctx, func() {
		if c := f.conn.Load(); c != nil && f.inFlight.Load() == gen {
			// An expired deadline makes the pending read fail at once;
			// fasthttp then discards the connection.
			_ = (*c).SetDeadline(time.Unix(1, 0))
		}
	})
}

func (f *FastClient) compress(body []byte) error {
	f.gzbuf.Reset()
	if f.gzw == nil {
		f.gzw, _ = gzip.NewWriterLevel(&f.gzbuf, gzip.BestSpeed)
	} else {
		f.gzw.Reset(&f.gzbuf)
	}
	if _, err := f.gzw.Write(body); err != nil {
		return fmt.Errorf("gzip request body: %w", err)
	}
	return f.gzw.Close()
}

// Close closes the client's idle connection and stops watching contexts.
func (f *FastClient) Close() {
	if f.ready != nil {
		f.ready.Close()
		f.ready = nil
	}
	if f.stopWatch != nil {
		f.stopWatch()
		f.stopWatch = nil
	}
	f.hc.CloseIdleConnections()
}
