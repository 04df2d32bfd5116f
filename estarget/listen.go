package estarget

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serving is a Server listening on a TCP address.
type Serving struct {
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
	err  error
}

// Addr is the address actually listened on (useful with port 0).
func (sv *Serving) Addr() net.Addr { return sv.ln.Addr() }

// URL is "http://" plus Addr.
func (sv *Serving) URL() string { return "http://" + sv.ln.Addr().String() }

// Wait blocks until the server has shut down (after ctx given to Listen
// ended) and returns the serve error, nil after a clean shutdown.
func (sv *Serving) Wait() error {
	<-sv.done
	return sv.err
}

// shutdownGrace bounds how long in-flight requests may finish after the
// context ends (a stalled request may be waiting out a stall window).
const shutdownGrace = 5 * time.Second

// Listen serves s on addr ("127.0.0.1:0" picks a free port) until ctx ends,
// then shuts down gracefully. The serving goroutine is owned by the
// returned Serving: Wait returns once it has finished.
func Listen(ctx context.Context, addr string, s *Server) (*Serving, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("estarget: listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		ConnState: func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				s.counters.httpOpen.Add(1)
				s.counters.httpTotal.Add(1)
			case http.StateClosed, http.StateHijacked:
				s.counters.httpOpen.Add(-1)
			}
		},
	}
	sv := &Serving{ln: ln, srv: srv, done: make(chan struct{})}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	go func() {
		defer close(sv.done)
		select {
		case err := <-serveErr:
			sv.err = fmt.Errorf("estarget: serve on %s: %w", ln.Addr(), err)
			return
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
		if s.proxy != nil {
			s.proxy.transport.CloseIdleConnections()
		}
		if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			sv.err = fmt.Errorf("estarget: serve on %s: %w", ln.Addr(), err)
		}
	}()
	return sv, nil
}
