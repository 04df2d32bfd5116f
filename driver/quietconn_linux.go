package driver

import (
	"io"
	"net"
	"os"
	"syscall"
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
// concurrently with themselves (fasthttp's HostClient reads and writes a
// connection from the goroutine that sends the request). Deadlines may be
// set from anywhere.
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
	q := &quietConn{TCPConn: tc, rc: rc}
	q.readFn = q.read
	q.writeFn = q.write
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
	err := q.rc.Read(q.readFn)
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

func (q *quietConn) write(fd uintptr) bool {
	for q.wn < len(q.wbuf) {
		rest := q.wbuf[q.wn:]
		n, e := rawWrite(fd, rest)
		switch e {
		case 0:
			q.wn += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false // wait until writable
		default:
			q.werrno = e
			return true
		}
	}
	return true
}

// Write writes all of p unless the socket fails.
func (q *quietConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
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

func (q *quietConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: q.LocalAddr(), Addr: q.RemoteAddr(), Err: err}
}
