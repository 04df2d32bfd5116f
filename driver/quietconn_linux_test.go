package driver

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"
)

// quietPair returns a quietConn dialed to a fresh listener and the server
// side of that connection.
func quietPair(t *testing.T) (*quietConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	q, ok := newQuietConn(c).(*quietConn)
	if !ok {
		t.Fatalf("newQuietConn(%T) did not wrap it", c)
	}
	s := (<-accepted).(*net.TCPConn)
	t.Cleanup(func() { q.Close(); s.Close() })
	return q, s
}

// TestQuietConnMovesBytesBothWays writes more than the socket buffers hold
// to a peer that reads slowly, so writes meet EAGAIN and wait on the
// poller, and reads back what the peer echoes.
func TestQuietConnMovesBytesBothWays(t *testing.T) {
	q, s := quietPair(t)
	go func() {
		buf := make([]byte, 4096)
		for {
			time.Sleep(50 * time.Microsecond)
			n, err := s.Read(buf)
			if n > 0 {
				if _, werr := s.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	werr := make(chan error, 1)
	go func() {
		n, err := q.Write(want)
		if err == nil && n != len(want) {
			err = io.ErrShortWrite
		}
		werr <- err
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(q, got); err != nil {
		t.Fatal(err)
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the echoed bytes differ from the written ones")
	}
}

func TestQuietConnReadsEOFWhenThePeerCloses(t *testing.T) {
	q, s := quietPair(t)
	s.Write([]byte("last"))
	s.Close()
	b, err := io.ReadAll(q)
	if err != nil || string(b) != "last" {
		t.Fatalf("ReadAll = %q, %v; want \"last\", nil", b, err)
	}
	if n, err := q.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Fatalf("Read after EOF = %d, %v; want 0, io.EOF", n, err)
	}
}

func TestQuietConnHonoursDeadlines(t *testing.T) {
	q, _ := quietPair(t)
	q.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	start := time.Now()
	_, err := q.Read(make([]byte, 8))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline = %v; want a timeout", err)
	}
	if waited := time.Since(start); waited < 25*time.Millisecond {
		t.Fatalf("Read returned after %v, before its deadline", waited)
	}
	// A deadline in the past breaks a read that is already waiting, as the
	// context watch of FastClient does.
	q.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, err := q.Read(make([]byte, 8)); done <- err }()
	time.Sleep(20 * time.Millisecond)
	q.SetDeadline(time.Unix(1, 0))
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("broken read = %v; want os.ErrDeadlineExceeded", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a past deadline did not break the waiting read")
	}
}

func TestQuietConnReportsAReset(t *testing.T) {
	q, s := quietPair(t)
	s.SetLinger(0)
	s.Close()
	_, err := q.Read(make([]byte, 8))
	var oe *net.OpError
	if !errors.Is(err, syscall.ECONNRESET) || !errors.As(err, &oe) || oe.Op != "read" {
		t.Fatalf("Read of a reset connection = %v; want a read OpError with ECONNRESET", err)
	}
}

// TestFastClientSpeaksThroughAQuietConn checks that the benchmark clients'
// connections are quiet ones.
func TestFastClientSpeaksThroughAQuietConn(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) }))
	defer srv.Close()
	c, err := NewFastClient(Target{Host: srv.Listener.Addr().String()}, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var resp Response
	if err := c.Do(t.Context(), &Request{Method: "GET", Path: "/"}, &resp); err != nil || string(resp.Body) != `{"ok":true}` {
		t.Fatalf("Do = %q, %v", resp.Body, err)
	}
	if conn := c.conn.Load(); conn == nil {
		t.Fatal("no connection recorded")
	} else if _, ok := (*conn).(*quietConn); !ok {
		t.Fatalf("the connection is a %T, not a quietConn", *conn)
	}
}

// A coarse deadline is never earlier than the one asked for, at most 1/64
// of the time left later, and the same for the requests of one grain, so
// that a busy connection changes its deadlines rarely.
func TestCoarseDeadline(t *testing.T) {
	now := time.Now()
	for _, d := range []time.Duration{time.Millisecond, 100 * time.Millisecond, time.Second, time.Minute, time.Hour} {
		want := now.Add(d)
		got := coarseDeadline(want)
		late := time.Duration(got - want.UnixNano())
		if late < 0 || late > d/64 {
			t.Errorf("timeout %v: deadline %v late, want within [0, %v]", d, late, d/64)
		}
	}
	if got := coarseDeadline(time.Time{}); got != 0 {
		t.Errorf("zero deadline: %d", got)
	}
	past := time.Unix(1, 0)
	if got := coarseDeadline(past); got != past.UnixNano() {
		t.Errorf("a deadline in the past moved: %d", got)
	}
	// 1,000 requests 10 µs apart with a 60 s timeout share at most two
	// distinct deadlines.
	seen := map[int64]bool{}
	for i := range 1000 {
		seen[coarseDeadline(now.Add(time.Duration(i)*10*time.Microsecond+time.Minute))] = true
	}
	if len(seen) > 2 {
		t.Errorf("%d distinct deadlines for requests of 10 ms", len(seen))
	}
}

// The connection's deadlines still work: a read past a short deadline
// times out, and a cancelled (past) deadline breaks a pending read at once.
func TestQuietConnCoarseDeadlinesStillFire(t *testing.T) {
	q, _ := quietPair(t)
	if err := q.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := q.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v", err)
	}
	if took := time.Since(start); took < 50*time.Millisecond || took > 2*time.Second {
		t.Fatalf("timed out after %v, want about 50 ms (at most 1/64 late)", took)
	}
	if err := q.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := q.Read(make([]byte, 1)); done <- err }()
	time.Sleep(20 * time.Millisecond)
	if err := q.SetDeadline(time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("read after the past deadline: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a past deadline did not break the pending read")
	}
}

// Small writes are held for the next Read, which sends them and then waits
// for the answer; a large write sends what is held first, so the peer gets
// the bytes in order; Close sends what is still held.
func TestQuietConnHeldWrites(t *testing.T) {
	q, s := quietPair(t)
	if _, err := q.Write([]byte("GET / HTTP/1.1\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := []byte("Host: x\r\n\r\n")
	if _, err := q.Write(buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXX") // held is a copy: the caller may reuse its buffer
	if len(q.held) == 0 {
		t.Fatal("a small write went out at once")
	}
	go func() {
		b := make([]byte, 64)
		n, _ := io.ReadAtLeast(s, b, len("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		_, _ = s.Write(b[:n]) // echo
	}()
	got := make([]byte, 64)
	n, err := q.Read(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(got[:n]) != "GET / HTTP/1.1\r\nHost: x\r\n\r\n" {
		t.Fatalf("the peer got %q", got[:n])
	}

	// Held, then large: in order.
	small := []byte("head;")
	large := bytes.Repeat([]byte("b"), maxHeld+1)
	if _, err := q.Write(small); err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte, 1)
	go func() {
		b := make([]byte, len(small)+len(large))
		_, _ = io.ReadFull(s, b)
		done <- b
	}()
	if _, err := q.Write(large); err != nil {
		t.Fatal(err)
	}
	if b := <-done; !bytes.Equal(b, append(append([]byte{}, small...), large...)) {
		t.Fatal("a large write overtook the held bytes")
	}

	// Held at Close: sent.
	if _, err := q.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(s)
	if string(rest) != "bye" {
		t.Fatalf("after Close the peer got %q", rest)
	}
}
