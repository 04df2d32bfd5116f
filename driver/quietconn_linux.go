package driver

import (
	"io"
	"math/bits"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// quietConn is a TCP connection whose reads and writes are raw system calls
// on its non-blocking socket, waiting on the runtime's network poller as
// net.Conn does when the socket is not ready.
//
// Why: every blocking-capable system call (syscall.Syscall, which net.Conn
// uses) tells the Go scheduler it enters a system call, and when the whole
// process was idle the scheduler's monitor thread (sysmon) is asleep and
// gets woken by the first such call. A benchmark client is idle between
// every request and its response, so each request paid a futex wake of
// that thread, its 20 µs sleeps and its going back to sleep: about a third
// of the load driver's context switches on a real engine. A read or write
// of a non-blocking socket never blocks, so it needs no such bookkeeping
// (RawSyscall); waiting is still the poller's (syscall.RawConn), so
// deadlines and the context watch work as on any net.Conn.
//
// A quietConn belongs to one request loop: Read and Write are not called
// concurrently with each other, and a Read follows the Writes of a request
// (fasthttp's HostClient writes a request and reads its response from the
// goroutine that sends it; net/http, whose reader and writer are separate
// goroutines, must not use it: a small write waits for the next Read).
// Deadlines may be set from anywhere.
type quietConn struct {
	*net.TCPConn
	rc syscall.RawConn

	// The state of the call in progress, kept here so that the functions
	// handed to rc (bound once) allocate nothing.
	rbuf, wbuf     []byte
	rn, wn         int
	rerrno, werrno syscall.Errno
	readFn         func(uintptr) bool
	writeFn        func(uintptr) bool
	sendReadFn     func(uintptr) bool

	// held is a copy of what Write holds back for the next Read to send
	// (see Write); held[sent:] is still to go.
	held []byte
	sent int

	// laddr and raddr are the addresses, kept: the HTTP client asks for
	// both with every response.
	laddr, raddr net.Addr

	// The read and write deadlines in force, in Unix nanoseconds (0:
	// none), as coarse deadlines sets them, and the grain they are
	// rounded to (0: from each deadline's distance).
	rdl, wdl, grain atomic.Int64
}

// newQuietConn wraps c when it is a TCP connection whose descriptor can be
// reached; anything else is returned as it is.
func newQuietConn(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	q := &quietConn{TCPConn: tc, rc: rc, laddr: tc.LocalAddr(), raddr: tc.RemoteAddr()}
	q.readFn = q.read
	q.writeFn = q.write
	q.sendReadFn = q.sendRead
	return q
}

func (q *quietConn) read(fd uintptr) bool {
	for {
		n, e := rawRead(fd, q.rbuf)
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // wait until readable
		}
		q.rn, q.rerrno = int(n), e
		return true
	}
}

// Read reads from the socket; io.EOF when the peer closed it.
func (q *quietConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	q.rbuf, q.rn, q.rerrno = p, 0, 0
	var err error
	if len(q.held) > 0 {
		if err = q.sendHeld(); err != nil {
			q.rbuf = nil
			return 0, err
		}
	} else {
		err = q.rc.Read(q.readFn)
	}
	q.rbuf = nil
	if err != nil {
		return 0, q.opError("read", err)
	}
	if q.rerrno != 0 {
		return 0, q.opError("read", os.NewSyscallError("read", q.rerrno))
	}
	if q.rn == 0 {
		return 0, io.EOF
	}
	return q.rn, nil
}

// writeOut writes b[*n:], advancing *n, until all of b is out (0), the
// socket's buffer is full (EAGAIN) or it fails (the errno).
func writeOut(fd uintptr, b []byte, n *int) syscall.Errno {
	for *n < len(b) {
		k, e := rawWrite(fd, b[*n:])
		switch e {
		case 0:
			*n += k
		case syscall.EINTR:
		default:
			return e
		}
	}
	return 0
}

func (q *quietConn) write(fd uintptr) bool {
	e := writeOut(fd, q.wbuf, &q.wn)
	if e == syscall.EAGAIN {
		return false // wait until writable
	}
	q.werrno = e
	return true
}

// maxHeld is the most Write holds back for the next Read: requests up to
// it are copied (a search's body is a few hundred bytes); larger ones, bulk
// bodies, go out at once.
const maxHeld = 16 << 10

// Write writes all of p unless the socket fails. A small write (a request,
// up to maxHeld in all) is held back and sent by the next Read, which then
// waits for the answer without first trying a read that cannot succeed
// yet. Why: a request's response is never there the moment the request
// is out, so reading right after writing, as net.Conn does, always meets
// EAGAIN first: a third of a closed-loop client's system calls. Sent from
// inside the poller's read wait, after it has reset the socket's readiness,
// the response's arrival is always seen, so the wait needs no such probe.
// What is held is a copy, so the caller may reuse p at once (TLS does);
// a larger write sends what is held first, and Close sends what is still
// held.
func (q *quietConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(q.held)+len(p) <= maxHeld {
		q.held = append(q.held, p...)
		return len(p), nil
	}
	if len(q.held) > 0 {
		if err := q.flushHeld(); err != nil {
			return 0, err
		}
	}
	return q.write1(p)
}

// write1 writes all of p.
func (q *quietConn) write1(p []byte) (int, error) {
	q.wbuf, q.wn, q.werrno = p, 0, 0
	err := q.rc.Write(q.writeFn)
	q.wbuf = nil
	if err == nil && q.werrno != 0 {
		err = os.NewSyscallError("write", q.werrno)
	}
	if err != nil {
		return q.wn, q.opError("write", err)
	}
	return q.wn, nil
}

// sendRead is sendHeld's function for the poller's read wait: it sends
// what is held, then reads once the poller says the socket is readable.
func (q *quietConn) sendRead(fd uintptr) bool {
	if len(q.held) == 0 {
		return q.read(fd)
	}
	switch e := writeOut(fd, q.held, &q.sent); e {
	case 0:
		q.dropHeld()
		return false // sent: wait until the answer is readable
	case syscall.EAGAIN:
		// The socket's send buffer is full: the rest goes through the
		// write wait (flushHeld).
		return true
	default:
		q.werrno = e
		return true
	}
}

// sendHeld sends what Write held back and reads into q.rbuf; its errors
// are the connection's own (net.OpError).
func (q *quietConn) sendHeld() error {
	q.werrno = 0
	err := q.rc.Read(q.sendReadFn)
	if err == nil && q.werrno != 0 {
		err = os.NewSyscallError("write", q.werrno)
		q.dropHeld()
		return q.opError("write", err)
	}
	if err != nil {
		q.dropHeld()
		return q.opError("read", err)
	}
	if len(q.held) > 0 { // the send buffer filled: finish the usual way
		if err := q.flushHeld(); err != nil {
			return err
		}
		if err := q.rc.Read(q.readFn); err != nil {
			return q.opError("read", err)
		}
	}
	return nil
}

// flushHeld writes what is held, waiting on the poller as Write does.
func (q *quietConn) flushHeld() error {
	_, err := q.write1(q.held[q.sent:])
	q.dropHeld()
	return err
}

// dropHeld forgets what is held, keeping the buffer.
func (q *quietConn) dropHeld() { q.held, q.sent = q.held[:0], 0 }

// Close sends what is still held (without waiting) and closes the
// connection.
func (q *quietConn) Close() error {
	if len(q.held) > q.sent {
		_ = q.rc.Write(func(fd uintptr) bool {
			writeOut(fd, q.held, &q.sent)
			return true
		})
		q.dropHeld()
	}
	return q.TCPConn.Close()
}

// Deadlines are coarse: a deadline d from now is rounded up to a power of
// two of at most d/64 (about a second for the default 60 s timeout, 2 ms
// for 100 ms), and the connection's is changed only when the rounded one
// differs from the one in force. The HTTP client sets a read and a write
// deadline for every request, each a change of a runtime timer under its
// lock; with the rounding a busy connection changes them about once per
// grain instead, and a request times out at most 1/64 of its timeout late,
// never early. A deadline in the past (what cancellation sets) is set as
// it is.
func coarseDeadline(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	d := time.Until(t)
	if d <= 0 {
		return t.UnixNano()
	}
	return roundUp(t.UnixNano(), grainFor(d))
}

// grainFor is the rounding of a deadline d from now: the largest power of
// two of nanoseconds not above d/64 (0: none).
func grainFor(d time.Duration) int64 {
	if d < 128 {
		return 0
	}
	return int64(1) << (bits.Len64(uint64(d/64)) - 1)
}

// roundUp rounds ns up to a multiple of grain, a power of two (0: none).
func roundUp(ns, grain int64) int64 {
	if grain <= 1 {
		return ns
	}
	return (ns + grain - 1) &^ (grain - 1)
}

// setGrain tells the connection the timeout of the request about to go
// out: its deadlines, that timeout from now, are rounded to
// grainFor(timeout) without reading the clock. A deadline already past
// (cancellation) stays past.
func (q *quietConn) setGrain(timeout time.Duration) { q.grain.Store(grainFor(timeout)) }

// coarse is t's coarse deadline in Unix nanoseconds (0: none).
func (q *quietConn) coarse(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	if g := q.grain.Load(); g > 0 {
		return roundUp(t.UnixNano(), g)
	}
	return coarseDeadline(t)
}

// changeDeadline records t's coarse value in cur and returns it, with false
// when it is the one in force already.
func (q *quietConn) changeDeadline(cur *atomic.Int64, t time.Time) (time.Time, bool) {
	ns := q.coarse(t)
	if cur.Swap(ns) == ns {
		return t, false
	}
	if ns == 0 {
		return time.Time{}, true
	}
	return time.Unix(0, ns), true
}

// SetReadDeadline sets the read deadline, coarsely (see coarseDeadline).
func (q *quietConn) SetReadDeadline(t time.Time) error {
	if t, ok := q.changeDeadline(&q.rdl, t); ok {
		return q.TCPConn.SetReadDeadline(t)
	}
	return nil
}

// SetWriteDeadline sets the write deadline, coarsely (see coarseDeadline).
func (q *quietConn) SetWriteDeadline(t time.Time) error {
	if t, ok := q.changeDeadline(&q.wdl, t); ok {
		return q.TCPConn.SetWriteDeadline(t)
	}
	return nil
}

// SetDeadline sets both deadlines, coarsely (see coarseDeadline).
func (q *quietConn) SetDeadline(t time.Time) error {
	if err := q.SetReadDeadline(t); err != nil {
		return err
	}
	return q.SetWriteDeadline(t)
}

// LocalAddr is the connection's local address.
func (q *quietConn) LocalAddr() net.Addr { return q.laddr }

// RemoteAddr is the connection's remote address.
func (q *quietConn) RemoteAddr() net.Addr { return q.raddr }

func (q *quietConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: q.LocalAddr(), Addr: q.RemoteAddr(), Err: err}
}
