package actor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// DefaultMailbox is the default capacity of an outbox or inbox, in messages.
const DefaultMailbox = 1024

// ErrMailboxFull is returned (wrapped) by Send when the receiver's outbox
// is full: the peer is not reading fast enough. The message is dropped.
var ErrMailboxFull = errors.New("mailbox full")

// outFrame is a message waiting in an outbox; its body is already JSON.
type outFrame struct {
	typ  string
	body []byte
}

// link is one side of a connection: a buffered reader used by exactly one
// goroutine and a writer goroutine fed by a bounded outbox. Both the
// coordinator's sessions and the member use it.
type link struct {
	nc  net.Conn
	r   *bufio.Reader
	buf []byte // read buffer, reused

	from, to string // envelope names; fixed before the writer starts

	out          chan outFrame
	writeTimeout time.Duration
	seq          uint64 // owned by whoever writes: the handshake, then the writer

	// wrote is called by the writer after each frame it writes.
	wrote func(typ string, n int)

	werrMu sync.Mutex
	werr   error // why the writer gave up, if it did

	drain      chan struct{} // closed: write what is queued, then close
	quit       chan struct{} // closed: stop at once
	writerDone chan struct{}
	drainOnce  sync.Once
	quitOnce   sync.Once
}

func newLink(nc net.Conn, mailbox int, writeTimeout time.Duration) *link {
	if mailbox <= 0 {
		mailbox = DefaultMailbox
	}
	return &link{
		nc:           nc,
		r:            bufio.NewReaderSize(nc, 16<<10),
		out:          make(chan outFrame, mailbox),
		writeTimeout: writeTimeout,
		wrote:        func(string, int) {},
		drain:        make(chan struct{}),
		quit:         make(chan struct{}),
		writerDone:   make(chan struct{}),
	}
}

// read reads and decodes one frame of at most limit bytes. It returns the
// frame's size on the wire even when decoding fails. An error wrapping
// ErrMalformed leaves the stream usable; any other error ends it.
func (l *link) read(limit int) (Envelope, int, error) {
	p, err := readFrame(l.r, l.buf, limit)
	if err != nil {
		if errors.Is(err, ErrFrameTooLarge) {
			return Envelope{}, frameHeaderSize, err
		}
		return Envelope{}, 0, err
	}
	if cap(p) <= 1<<20 {
		l.buf = p[:0] // keep ordinary buffers; let a rare huge one go
	}
	env, err := DecodeEnvelope(p)
	return env, frameHeaderSize + len(p), err
}

// enqueue puts a message into the outbox without blocking.
func (l *link) enqueue(typ string, body []byte) bool {
	select {
	case l.out <- outFrame{typ: typ, body: body}:
		return true
	default:
		return false
	}
}

// enqueueValue marshals body and enqueues it; for the protocol's own
// messages, whose bodies always marshal.
func (l *link) enqueueValue(typ string, body any) bool {
	b, err := json.Marshal(body)
	if err != nil {
		return false
	}
	return l.enqueue(typ, b)
}

// writeNow writes one frame synchronously; only before the writer starts
// (the handshake) or instead of it (a rejected connection).
func (l *link) writeNow(typ string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode %s: %w", typ, err)
	}
	l.seq++
	frame, err := AppendFrame(nil, Envelope{Type: typ, From: l.from, To: l.to, Seq: l.seq, Body: b})
	if err != nil {
		return err
	}
	_ = l.nc.SetWriteDeadline(time.Now().Add(l.writeTimeout))
	if _, err := l.nc.Write(frame); err != nil {
		return fmt.Errorf("write %s: %w", typ, err)
	}
	l.wrote(typ, len(frame))
	return nil
}

// runWriter writes queued frames until quit, drain or a write error. It
// batches whatever is queued into one flush. On drain it writes what is
// queued, flushes and closes the connection; on a write error it closes the
// connection so that the reader stops too.
func (l *link) runWriter() {
	defer close(l.writerDone)
	bw := bufio.NewWriterSize(l.nc, 32<<10)
	var buf []byte
	write := func(f outFrame) error {
		l.seq++
		var err error
		buf, err = AppendFrame(buf[:0], Envelope{Type: f.typ, From: l.from, To: l.to, Seq: l.seq, Body: f.body})
		if err != nil {
			return nil // Send checks sizes; a frame that still does not fit is skipped
		}
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		l.wrote(f.typ, len(buf))
		return nil
	}
	// writeQueued writes f and everything queued behind it, then flushes.
	writeQueued := func(f *outFrame) error {
		_ = l.nc.SetWriteDeadline(time.Now().Add(l.writeTimeout))
		if f != nil {
			if err := write(*f); err != nil {
				return err
			}
		}
		for {
			select {
			case g := <-l.out:
				if err := write(g); err != nil {
					return err
				}
			default:
				return bw.Flush()
			}
		}
	}
	for {
		select {
		case <-l.quit:
			return
		case <-l.drain:
			_ = writeQueued(nil)
			l.nc.Close()
			return
		case f := <-l.out:
			if err := writeQueued(&f); err != nil {
				l.werrMu.Lock()
				l.werr = err
				l.werrMu.Unlock()
				l.nc.Close()
				return
			}
		}
	}
}

// writeError returns the error that stopped the writer, if any.
func (l *link) writeError() error {
	l.werrMu.Lock()
	defer l.werrMu.Unlock()
	return l.werr
}

// drainAndClose asks the writer to write what is queued, then close.
func (l *link) drainAndClose() { l.drainOnce.Do(func() { close(l.drain) }) }

// close closes the connection and stops the writer without flushing.
func (l *link) close() {
	l.quitOnce.Do(func() { close(l.quit) })
	l.nc.Close()
}

// pending is the number of frames queued but not yet written.
func (l *link) pending() int { return len(l.out) }
