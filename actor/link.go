package actor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMailbox is the default capacity of an outbox or inbox, in messages.
const DefaultMailbox = 1024

// ErrMailboxFull is returned (wrapped) by Send when the receiver's outbox
// is full: the peer is not reading fast enough. The message is dropped.
var ErrMailboxFull = errors.New("mailbox full")

// priorityCapacity bounds a link's queue of protocol frames. Those come at
// the heartbeat rate (one heartbeat and one heartbeat-ack a second), and a
// writer that cannot write for the expiry closes the link, so a few dozen
// are never reached by a healthy peer. Errors answer the peer's bad frames,
// which it controls: they may fill only half, so that a peer sending
// garbage cannot crowd out the heartbeats.
const priorityCapacity = 64

// outFrame is a message waiting in an outbox; its body is already JSON.
type outFrame struct {
	typ  string
	body []byte
	rseq uint64 // a reliable message's number, else zero
}

// link is one side of a connection: a buffered reader used by exactly one
// goroutine and a writer goroutine fed by two queues. Application frames
// wait in a bounded outbox; protocol frames (heartbeats, their acks, acks
// of reliable messages, errors, the welcome) wait in a small priority queue
// that the writer empties before each application frame, so that they are
// neither dropped nor delayed behind a full outbox. Both the coordinator's
// sessions and the member use it.
type link struct {
	nc  net.Conn
	r   *bufio.Reader
	buf []byte // read buffer, reused

	from, to string // envelope names; fixed before the writer starts

	out          chan outFrame
	writeTimeout time.Duration
	seq          uint64 // owned by whoever writes: the handshake, then the writer

	pmu       sync.Mutex
	prio      []outFrame // protocol frames, in the order queued
	ackSeq    uint64     // the latest cumulative ack, when ackDue
	ackDue    bool
	final     *outFrame     // written last when draining (a member's stopped)
	prioDue   atomic.Bool   // prio, ack or final holds something
	wake      chan struct{} // capacity 1: the writer has protocol frames to write
	prioSpare []outFrame    // the writer's buffer, swapped with prio

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
		wake:         make(chan struct{}, 1),
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

// enqueue puts an application message into the outbox without blocking.
func (l *link) enqueue(typ string, body []byte) bool {
	select {
	case l.out <- outFrame{typ: typ, body: body}:
		return true
	default:
		return false
	}
}

// enqueueValue marshals body and enqueues it as an application frame; for
// the protocol's own messages that must keep their place behind the
// application's (stop), whose bodies always marshal.
func (l *link) enqueueValue(typ string, body any) bool {
	b, err := json.Marshal(body)
	if err != nil {
		return false
	}
	return l.enqueue(typ, b)
}

// enqueuePriority queues a protocol frame ahead of every application frame
// without blocking. It fails only when the priority queue is full.
func (l *link) enqueuePriority(typ string, body any) bool {
	b, err := json.Marshal(body)
	if err != nil {
		return false
	}
	limit := priorityCapacity
	if typ == TypeError {
		limit = priorityCapacity / 2
	}
	l.pmu.Lock()
	if len(l.prio) >= limit {
		l.pmu.Unlock()
		return false
	}
	l.prio = append(l.prio, outFrame{typ: typ, body: b})
	l.prioDue.Store(true)
	l.pmu.Unlock()
	l.signal()
	return true
}

// ack queues a cumulative ack of reliable messages up to seq. Acks
// replace each other: only the latest has to reach the peer, so a burst of
// accepted messages costs one frame and can never fill a queue.
func (l *link) ack(seq uint64) {
	l.pmu.Lock()
	l.ackSeq, l.ackDue = seq, true
	l.prioDue.Store(true)
	l.pmu.Unlock()
	l.signal()
}

// setFinal sets the frame written after everything else when the link is
// drained: a member's stopped, its last word.
func (l *link) setFinal(typ string, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		return
	}
	l.pmu.Lock()
	l.final = &outFrame{typ: typ, body: b}
	l.pmu.Unlock()
}

func (l *link) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// takePriority hands the writer the queued protocol frames, the ack last
// among them; the final frame only when final is true.
func (l *link) takePriority(dst []outFrame, final bool) []outFrame {
	l.pmu.Lock()
	defer l.pmu.Unlock()
	dst = append(dst[:0], l.prio...)
	clear(l.prio) // let the bodies go
	l.prio = l.prio[:0]
	if l.ackDue {
		body := make([]byte, 0, 32)
		body = append(body, `{"seq":`...)
		body = strconv.AppendUint(body, l.ackSeq, 10)
		dst = append(dst, outFrame{typ: TypeAck, body: append(body, '}')})
		l.ackDue = false
	}
	if final && l.final != nil {
		dst = append(dst, *l.final)
		l.final = nil
	}
	l.prioDue.Store(false)
	return dst
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
// batches whatever is queued into one flush, protocol frames first and
// again before every application frame. On drain it writes what is queued
// and the final frame, flushes and closes the connection; on a write error
// it closes the connection so that the reader stops too.
func (l *link) runWriter() {
	defer close(l.writerDone)
	bw := bufio.NewWriterSize(l.nc, 32<<10)
	var buf []byte
	write := func(f outFrame) error {
		l.seq++
		var err error
		buf, err = AppendFrame(buf[:0], Envelope{Type: f.typ, From: l.from, To: l.to, Seq: l.seq, RSeq: f.rseq, Body: f.body})
		if err != nil {
			return nil // Send checks sizes; a frame that still does not fit is skipped
		}
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		l.wrote(f.typ, len(buf))
		return nil
	}
	writePriority := func(final bool) error {
		if !l.prioDue.Load() && !final {
			return nil
		}
		l.prioSpare = l.takePriority(l.prioSpare, final)
		for _, f := range l.prioSpare {
			if err := write(f); err != nil {
				return err
			}
		}
		clear(l.prioSpare)
		return nil
	}
	// writeQueued writes the protocol frames, f and every application
	// frame queued behind it, then flushes.
	writeQueued := func(f *outFrame) error {
		_ = l.nc.SetWriteDeadline(time.Now().Add(l.writeTimeout))
		if err := writePriority(false); err != nil {
			return err
		}
		if f != nil {
			if err := write(*f); err != nil {
				return err
			}
		}
		for {
			if err := writePriority(false); err != nil {
				return err
			}
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
	fail := func(err error) {
		l.werrMu.Lock()
		l.werr = err
		l.werrMu.Unlock()
		l.nc.Close()
	}
	for {
		var err error
		select {
		case <-l.quit:
			return
		case <-l.drain:
			if err := writeQueued(nil); err == nil {
				_ = writePriority(true)
				_ = bw.Flush()
			}
			l.nc.Close()
			return
		case <-l.wake:
			err = writeQueued(nil)
		case f := <-l.out:
			err = writeQueued(&f)
		}
		if err != nil {
			fail(err)
			return
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

// pending is the number of application frames queued but not yet written.
func (l *link) pending() int { return len(l.out) }
