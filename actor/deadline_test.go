package actor

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// noDeadlineConn is a connection that, like an SSH channel, supports no
// deadlines.
type noDeadlineConn struct{ net.Conn }

var errNoDeadline = errors.New("ssh: tcpChan: deadline not supported")

func (noDeadlineConn) SetDeadline(time.Time) error      { return errNoDeadline }
func (noDeadlineConn) SetReadDeadline(time.Time) error  { return errNoDeadline }
func (noDeadlineConn) SetWriteDeadline(time.Time) error { return errNoDeadline }

// TestSilentPeerWithoutDeadlinesIsClosed: a connection through a tunnel
// that never says hello is closed and counted after HelloTimeout even
// though the connection cannot take a read deadline.
func TestSilentPeerWithoutDeadlinesIsClosed(t *testing.T) {
	sys := NewSystem(Options{HelloTimeout: 200 * time.Millisecond})
	defer sys.Close()
	coord, peer := net.Pipe()
	defer peer.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sys.ServeConn(ctx, noDeadlineConn{coord}, "h1")
	start := time.Now()
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, peer) // ends when the system closes its side
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		t.Fatal("a silent peer was not closed")
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("closed after %v, before the hello timeout", d)
	}
	deadline := time.Now().Add(time.Second)
	for sys.Status().Rejected == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := sys.Status().Rejected; n != 1 {
		t.Errorf("rejected = %d, want 1", n)
	}
}
