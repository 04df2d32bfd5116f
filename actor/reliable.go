package actor

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Reliable delivery, member → coordinator, is go-back-N over the link:
// every message given to SendReliable gets the next rseq and stays in the
// member's window until the coordinator acknowledges it (cumulatively, by
// the highest rseq it accepted in order). The coordinator drops what its
// full inbox cannot take and everything after such a gap, without an ack;
// when the oldest unacknowledged message has waited a retransmission
// timeout since it was last sent, the member sends again from there. A
// message unacknowledged for longer than the expiry means the link is
// broken, and Run says so.
//
// The coordinator's inbox may be much smaller than the window, and a drop
// is only ever noticed by a timeout, so two things keep a fast producer
// from turning every drop into a flood of frames the coordinator throws
// away: at most cwnd messages are in flight (the window grows by one per
// acknowledged message and halves on every timeout, as in TCP), and the
// timeout follows the measured time to an ack (Jacobson's srtt + 4·rttvar,
// never below 4× the heartbeat RTT or minRetransmitTimeout) and doubles
// while timeouts repeat, so that an inbox stuck behind a slow handler is
// probed ever more rarely rather than hammered.

// DefaultReliableWindow is how many reliable messages a member keeps
// unacknowledged before SendReliable blocks: a producer faster than the
// coordinator is slowed down rather than losing data.
const DefaultReliableWindow = 4096

// Bounds of the retransmission timeout. The floor keeps a loopback link,
// whose round trips take microseconds, from resending frames the
// coordinator is still reading; the ceiling keeps a stuck inbox probed
// several times within the expiry.
const (
	minRetransmitTimeout = 5 * time.Millisecond
	maxRetransmitTimeout = 2 * time.Second
	maxBackoff           = 7 // doublings of the timeout
)

// initialCongestionWindow is how many reliable messages may be in flight
// before the first ack.
const initialCongestionWindow = 16

// reliableMsg is one message in the window.
type reliableMsg struct {
	rseq  uint64
	typ   string
	body  []byte
	sends int       // how often it was handed to the outbox
	first time.Time // first handed to the outbox; zero until then
	last  time.Time // last handed to the outbox
}

// reliableOut is the member's window of unacknowledged reliable messages.
// SendReliable appends to it, the read loop removes what acks cover, and
// one sender goroutine (Member.sendReliable) hands frames to the outbox.
type reliableOut struct {
	mu          sync.Mutex
	window      int
	closed      bool          // Run has returned: nothing more is sent
	last        uint64        // rseq of the newest message
	pending     []reliableMsg // unacknowledged, oldest first
	next        uint64        // rseq the sender hands to the outbox next
	cwnd        int           // how many may be in flight
	srtt        time.Duration // smoothed time from hand-off to ack; zero before the first
	rttvar      time.Duration
	backoff     int // timeouts since the last ack that made progress
	retransmits int64
	acked       chan struct{} // closed and replaced whenever an ack frees room
	work        chan struct{} // capacity 1: the sender has something to do
}

func newReliableOut(window int) *reliableOut {
	if window <= 0 {
		window = DefaultReliableWindow
	}
	return &reliableOut{
		window: window,
		next:   1,
		cwnd:   min(initialCongestionWindow, window),
		acked:  make(chan struct{}),
		work:   make(chan struct{}, 1),
	}
}

func (r *reliableOut) wake() {
	select {
	case r.work <- struct{}{}:
	default:
	}
}

// add appends a message when the window has room. Otherwise it returns a
// channel closed by the next ack, to wait on. It fails after Run returned.
func (r *reliableOut) add(typ string, body []byte) (<-chan struct{}, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if len(r.pending) >= r.window {
		return r.acked, nil
	}
	r.last++
	r.pending = append(r.pending, reliableMsg{rseq: r.last, typ: typ, body: body})
	r.wake()
	return nil, nil
}

// ack removes the messages up to seq, acknowledged at now. An ack beyond
// what was sent cannot be right and is ignored; one that covers nothing
// new (a duplicate's answer) changes nothing.
func (r *reliableOut) ack(seq uint64, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq > r.last {
		return
	}
	n := 0
	for n < len(r.pending) && r.pending[n].rseq <= seq {
		n++
	}
	if n == 0 {
		return
	}
	// Karn's rule: only a message sent once tells how long an ack takes.
	if m := r.pending[n-1]; m.sends == 1 {
		r.sampleRTT(now.Sub(m.last))
	}
	clear(r.pending[:n]) // let the bodies go
	r.pending = r.pending[n:]
	if r.next <= seq {
		r.next = seq + 1
	}
	r.cwnd = min(r.cwnd+n, r.window)
	r.backoff = 0
	close(r.acked)
	r.acked = make(chan struct{})
	r.wake()
}

// sampleRTT folds one hand-off-to-ack time into srtt and rttvar (RFC 6298).
func (r *reliableOut) sampleRTT(s time.Duration) {
	if s < 0 {
		return
	}
	if r.srtt == 0 {
		r.srtt, r.rttvar = s, s/2
		return
	}
	d := r.srtt - s
	if d < 0 {
		d = -d
	}
	r.rttvar = r.rttvar*3/4 + d/4
	r.srtt = r.srtt*7/8 + s/8
}

// timeout is the retransmission timeout given the heartbeats' RTT.
func (r *reliableOut) timeout(hbRTT time.Duration) time.Duration {
	rto := max(r.srtt+4*r.rttvar, 4*hbRTT, minRetransmitTimeout)
	for range r.backoff {
		if rto >= maxRetransmitTimeout {
			break
		}
		rto *= 2
	}
	return min(rto, maxRetransmitTimeout)
}

// unacked is the number of messages in the window.
func (r *reliableOut) unacked() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

// newest is the rseq of the last message given to SendReliable.
func (r *reliableOut) newest() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// retransmitted is how many hand-offs were resends.
func (r *reliableOut) retransmitted() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.retransmits
}

// close stops the window taking messages; what it holds stays unacked.
func (r *reliableOut) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	close(r.acked)
	r.acked = make(chan struct{})
}

// waitAcked blocks until every message up to rseq is acknowledged or ctx
// ends.
func (r *reliableOut) waitAcked(ctx context.Context, rseq uint64) error {
	for {
		r.mu.Lock()
		done := len(r.pending) == 0 || r.pending[0].rseq > rseq
		acked := r.acked
		r.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-acked:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// reliableStep is what the sender does next: hand frame to the outbox,
// give up with err, or wait until woken (by a new message or an ack) or,
// when wait is positive, for at most wait.
type reliableStep struct {
	frame *outFrame
	err   error
	wait  time.Duration
}

// step decides the sender's next move at now. It goes back to the oldest
// message once that has waited a retransmission timeout since it was last
// sent, and declares the link broken once it has waited expiry since it
// was first sent.
func (r *reliableOut) step(now time.Time, hbRTT, expiry time.Duration) reliableStep {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return reliableStep{}
	}
	oldest := r.pending[0]
	rto := r.timeout(hbRTT)
	if !oldest.first.IsZero() {
		if waited := now.Sub(oldest.first); waited > expiry {
			return reliableStep{err: fmt.Errorf("%w: reliable message %s (rseq %d) unacknowledged for %s (expiry %s); %d unacknowledged",
				ErrLinkLost, oldest.typ, oldest.rseq, waited.Round(time.Millisecond), expiry, len(r.pending))}
		}
		if r.next > oldest.rseq && now.Sub(oldest.last) >= rto {
			r.next = oldest.rseq
			r.cwnd = max(r.cwnd/2, 1)
			r.backoff = min(r.backoff+1, maxBackoff)
			rto = r.timeout(hbRTT)
		}
	}
	inFlight := int(r.next - oldest.rseq)
	if inFlight < len(r.pending) && inFlight < r.cwnd {
		m := r.pending[inFlight]
		return reliableStep{frame: &outFrame{typ: m.typ, body: m.body, rseq: m.rseq}}
	}
	// The window is in flight: wake when the oldest is due again, or when
	// it expires.
	wait := min(oldest.last.Add(rto).Sub(now), oldest.first.Add(expiry).Sub(now)+time.Millisecond)
	return reliableStep{wait: max(wait, time.Millisecond)}
}

// sent records that rseq was handed to the outbox at now.
func (r *reliableOut) sent(rseq uint64, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next == rseq {
		r.next = rseq + 1
	}
	if len(r.pending) == 0 || rseq < r.pending[0].rseq {
		return // acknowledged meanwhile
	}
	m := &r.pending[rseq-r.pending[0].rseq]
	if m.sends == 0 {
		m.first = now
	} else {
		r.retransmits++
	}
	m.sends++
	m.last = now
}

// sendReliable is the one goroutine that hands reliable frames to the
// outbox, in rseq order, blocking while the outbox is full. It ends the
// run with ErrLinkLost when a message goes unacknowledged for longer than
// the expiry.
func (m *Member) sendReliable(ctx context.Context, cancel context.CancelCauseFunc) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		st := m.rel.step(m.now(), m.RTT(), m.welcome.Expiry)
		switch {
		case st.err != nil:
			m.log.Warn("reliable message unacknowledged: link broken", "err", st.err)
			cancel(st.err)
			return
		case st.frame != nil:
			select {
			case m.l.out <- *st.frame:
				m.rel.sent(st.frame.rseq, m.now())
			case <-ctx.Done():
				return
			}
			continue
		}
		var due <-chan time.Time
		if st.wait > 0 {
			timer.Reset(st.wait)
			due = timer.C
		}
		select {
		case <-m.rel.work:
		case <-due:
		case <-ctx.Done():
			return
		}
	}
}
