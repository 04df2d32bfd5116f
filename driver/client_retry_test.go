package driver

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// closingServer answers HTTP/1.1 requests on raw connections and lets the
// test decide, per request, whether to answer or to close the connection
// without a byte (the request then counts as received).
type closingServer struct {
	ln       net.Listener
	requests atomic.Int64
	conns    atomic.Int64
	// answer says for request n (1-based, over all connections) whether to
	// answer it; afterAnswer whether to close the connection after that.
	answer      func(n int64) bool
	afterAnswer func(n int64) bool
	wg          sync.WaitGroup
}

func newClosingServer(t *testing.T) *closingServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &closingServer{ln: ln, answer: func(int64) bool { return true }, afterAnswer: func(int64) bool { return false }}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *closingServer) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		req.Body.Close()
		n := s.requests.Add(1)
		if !s.answer(n) {
			return // closed without a byte of a response
		}
		if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")); err != nil {
			return
		}
		if s.afterAnswer(n) {
			return
		}
	}
}

func (s *closingServer) client(t *testing.T) *FastClient {
	c, err := NewFastClient(Target{Host: s.ln.Addr().String()}, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestFastClientRetriesAStaleKeepAliveConnectionOnce: a connection the
// server closed while it sat idle fails at the next request; after an
// idle gap that request goes once more, on a new connection.
func TestFastClientRetriesAStaleKeepAliveConnectionOnce(t *testing.T) {
	s := newClosingServer(t)
	s.afterAnswer = func(n int64) bool { return n == 1 } // an idle timeout, as it were
	c := s.client(t)
	var resp Response
	post := &Request{Method: "POST", Path: "/_bulk", Body: []byte("{}\n")}
	if err := c.Do(t.Context(), post, &resp); err != nil {
		t.Fatal(err)
	}
	time.Sleep(staleAfter + 100*time.Millisecond)
	if err := c.Do(t.Context(), post, &resp); err != nil || resp.Status != 200 {
		t.Fatalf("the request after an idle gap: %v (status %d); want it retried on a new connection", err, resp.Status)
	}
	if got := s.conns.Load(); got != 2 {
		t.Fatalf("%d connections, want 2", got)
	}
}

// TestFastClientNeverResendsWhatATargetDroppedMidTraffic: a target that
// closes the connection on a request in busy traffic has failed it; the
// failure is reported and the request is not sent again (the target may
// have acted on it: a bulk would be indexed twice).
func TestFastClientNeverResendsWhatATargetDroppedMidTraffic(t *testing.T) {
	s := newClosingServer(t)
	s.answer = func(n int64) bool { return n != 2 }
	c := s.client(t)
	var resp Response
	post := &Request{Method: "POST", Path: "/_bulk", Body: []byte("{}\n")}
	if err := c.Do(t.Context(), post, &resp); err != nil {
		t.Fatal(err)
	}
	err := c.Do(t.Context(), post, &resp)
	if err == nil {
		t.Fatal("the dropped request succeeded")
	}
	if got := s.requests.Load(); got != 2 {
		t.Fatalf("the target received %d requests, want 2: the dropped one was sent again", got)
	}
	if err := c.Do(t.Context(), post, &resp); err != nil || resp.Status != 200 {
		t.Fatalf("the next request: %v; want it answered on a new connection", err)
	}
}
