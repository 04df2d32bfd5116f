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
