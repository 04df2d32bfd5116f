package driver

import (
	"context"
	"errors"
	"net"
	"os"
	"time"

	"github.com/valyala/fasthttp"
)

// Client sends one HTTP request to one Elasticsearch node and reads the
// whole response. A Client belongs to one benchmark client (one goroutine)
// and is not safe for concurrent use; it keeps one keep-alive connection.
//
// Do returns an error only when no HTTP response was read (connection
// refused, reset, timeout, cancelled context); an HTTP error status is a
// response like any other and is reported in resp.Status.
type Client interface {
	Do(ctx context.Context, req *Request, resp *Response) error
}

// Header is one extra request header.
type Header struct {
	Name, Value string
}

// Request is one HTTP request to a node, independent of the transport.
// Callers reuse one Request per client; nothing in it is retained after Do
// returns.
type Request struct {
	// Method is the HTTP method ("GET", "POST", ...).
	Method string
	// Path is the path with its query string ("/_bulk?pipeline=p"), starting
	// with "/" and without the target's path prefix, which the Client adds.
	Path string
	// Body is sent as is; nil sends no body.
	Body []byte
	// ContentType is the Content-Type of Body; empty means
	// "application/json" when Body is set.
	ContentType string
	// Headers are sent in addition to the client's own (authentication,
	// client-option headers).
	Headers []Header
	// Timeout bounds the whole request; zero means the client's default
	// (client option "timeout", 60 s unless set).
	Timeout time.Duration

	// idle is how long the client sat unused before this request, when
	// the caller knows (a session times its requests anyway); zero lets
	// the Client read the clock itself.
	idle time.Duration
}

// Reset clears r for reuse, keeping its Headers capacity.
func (r *Request) Reset() {
	r.Method, r.Path, r.ContentType = "", "", ""
	r.Body = nil
	r.Headers = r.Headers[:0]
	r.Timeout = 0
	r.idle = 0
}

// Response is the status and body of one HTTP response. Body is a buffer the
// Client overwrites on every Do; copy what must outlive the next request.
type Response struct {
	Status int
	Body   []byte
}

// Transport names an implementation of Client.
type Transport string

// The Client implementations the driver has.
const (
	// TransportFastHTTP is the default: github.com/valyala/fasthttp, which
	// allocates nothing per request once warm.
	TransportFastHTTP Transport = "fasthttp"
	// TransportNetHTTP is net/http, kept for comparison and as a fallback.
	TransportNetHTTP Transport = "net/http"
)

// NewClient returns a Client of the given transport for one target; an
// empty transport means TransportFastHTTP.
func NewClient(t Transport, target Target, opts ClientOptions) (Client, error) {
	switch t {
	case "", TransportFastHTTP:
		return NewFastClient(target, opts)
	case TransportNetHTTP:
		return NewNetClient(target, opts)
	default:
		return nil, errors.New("unknown HTTP transport " + string(t) + ` (want "fasthttp" or "net/http")`)
	}
}

// closer is implemented by clients that hold connections.
type closer interface{ Close() }

// closeClient releases a client's connections when it has any.
func closeClient(c Client) {
	if cl, ok := c.(closer); ok {
		cl.Close()
	}
}

// isTimeout reports whether a transport error is a timeout (as opposed to a
// refused or broken connection).
func isTimeout(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
