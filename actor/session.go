package actor

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// session is one connection on the coordinator's side: it runs the
// handshake, then reads frames until the connection ends, with the link's
// writer goroutine beside it.
type session struct {
	sys    *System
	l      *link
	via    string
	remote string

	m  *member // set by the handshake, before the writer starts
	in *inbox  // the member's queue for this connection, set with m

	// rseq is the highest reliable message accepted in order into in;
	// owned by the read loop.
	rseq uint64

	writerStarted bool
	draining      bool
	stopSent      atomic.Bool

	stopped     chan struct{} // closed when the member answered stop
	stoppedOnce sync.Once
	done        chan struct{} // closed when the session has ended
}

func newSession(s *System, nc net.Conn, via string) *session {
	ss := &session{
		sys:     s,
		l:       newLink(nc, s.opts.Mailbox, s.opts.Expiry),
		via:     via,
		remote:  nc.RemoteAddr().String(),
		stopped: make(chan struct{}),
		done:    make(chan struct{}),
	}
	ss.l.from = CoordinatorName
	ss.l.wrote = func(typ string, n int) {
		s.stats.bytesOut.Add(int64(n))
		s.stats.countSent(typ)
		if ss.m != nil {
			ss.m.bytesOut.Add(int64(n))
			ss.m.msgsOut.Add(1)
		}
	}
	return ss
}

// serve runs the session to its end.
func (ss *session) serve(ctx context.Context) {
	stop := context.AfterFunc(ctx, ss.l.close)
	defer stop()
	var reason error = errors.New("rejected")
	defer func() { ss.end(reason) }()
	if !ss.handshake() {
		return
	}
	ss.writerStarted = true
	go ss.l.runWriter()
	ss.sys.wg.Add(1)
	go ss.sys.dispatch(ss.m, ss.in)
	reason = ss.readLoop()
}

// handshake reads the hello and answers welcome or reject. Nothing a
// connection sends before a welcome is acted on; after a reject, nothing is
// read at all.
func (ss *session) handshake() bool {
	s := ss.sys
	var expired atomic.Bool
	var watchdog *time.Timer
	if err := ss.l.nc.SetReadDeadline(time.Now().Add(s.opts.HelloTimeout)); err != nil {
		// Connections through an SSH channel support no deadlines: a timer
		// closes a silent one instead.
		watchdog = time.AfterFunc(s.opts.HelloTimeout, func() {
			expired.Store(true)
			ss.l.nc.Close()
		})
	}
	env, n, err := ss.l.read(maxHelloFrame)
	if watchdog != nil && !watchdog.Stop() && err == nil {
		err = fmt.Errorf("hello timeout: %w", net.ErrClosed) // the timer won the race with the read
	}
	s.stats.bytesIn.Add(int64(n))
	if err != nil {
		var ne net.Error
		switch {
		case expired.Load(), errors.As(err, &ne) && ne.Timeout():
			ss.reject("", RejectNoHello, fmt.Sprintf("no hello within %s", s.opts.HelloTimeout))
		case errors.Is(err, ErrFrameTooLarge):
			s.stats.malformed.Add(1)
			ss.answerNow(ErrorBody{Code: ErrorFrameTooLarge, Message: err.Error()})
			ss.refused("", RejectBadHello, err.Error())
		case errors.Is(err, ErrMalformed):
			s.stats.malformed.Add(1)
			ss.reject("", RejectBadHello, err.Error())
		default:
			ss.refused("", RejectNoHello, "connection closed before hello: "+err.Error())
		}
		return false
	}
	if env.Type != TypeHello {
		ss.reject("", RejectBadHello, fmt.Sprintf("first frame is %q, want %q", env.Type, TypeHello))
		return false
	}
	s.stats.countReceived(TypeHello)
	hello, err := DecodeHello(env.Body)
	if err != nil {
		s.stats.malformed.Add(1)
		ss.reject("", RejectBadHello, err.Error())
		return false
	}
	if hello.Protocol != ProtocolVersion {
		ss.reject(hello.Name, RejectProtocolMismatch, fmt.Sprintf("member speaks protocol %d, coordinator %d", hello.Protocol, ProtocolVersion))
		return false
	}
	if ss.via != "" && hello.Name != ss.via {
		ss.reject(hello.Name, RejectNameMismatch, fmt.Sprintf("hello from %q through the tunnel of %q", hello.Name, ss.via))
		return false
	}

	now := s.now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	m := s.members[hello.Name]
	var reason RejectReason
	var detail string
	switch {
	case m == nil:
		reason, detail = RejectUnknownMember, fmt.Sprintf("%q is not a member of this cluster", hello.Name)
	case subtle.ConstantTimeCompare([]byte(hello.Token), []byte(m.token)) != 1:
		reason, detail = RejectWrongToken, "the token does not match this run's"
	case m.state == MemberJoined:
		reason, detail = RejectAlreadyJoined, fmt.Sprintf("%q is joined on another connection", hello.Name)
	}
	if reason != "" {
		s.mu.Unlock()
		ss.reject(hello.Name, reason, detail)
		return false
	}
	prev := m.state
	m.state = MemberJoined
	m.sess = ss
	m.via = ss.via
	m.facts, m.pid, m.build, m.version = hello.Facts, hello.PID, hello.Build, hello.Version
	m.joined, m.lastHB = now, now
	m.clock = clockFilter{}
	m.peerRTT, m.peerSkew = 0, 0
	ss.m = m
	var after <-chan struct{}
	if m.inbox != nil {
		after = m.inbox.done
	}
	ss.in = newInbox(s.opts.Mailbox, after)
	m.inbox = ss.in
	ss.l.to = m.name
	// Queued before the lock is released, and ahead of application frames,
	// so the welcome is the first frame whatever else is sent to this
	// member meanwhile.
	ss.l.enqueuePriority(TypeWelcome, Welcome{
		Protocol:          ProtocolVersion,
		Member:            m.name,
		HeartbeatInterval: s.opts.HeartbeatInterval,
		Expiry:            s.opts.Expiry,
		Version:           s.opts.Version,
		Build:             s.opts.Build,
		Time:              now,
	})
	s.notifyLocked()
	s.mu.Unlock()

	detail = fmt.Sprintf("via %s from %s, pid %d", ss.via, ss.remote, hello.PID)
	if prev == MemberLost || prev == MemberLeft {
		detail = "rejoined after " + prev + " " + detail
	}
	s.log.Info("member joined", "member", hello.Name, "detail", detail, "hello", hello)
	s.events.publish(Event{Time: now, Kind: EventJoined, Member: hello.Name, Detail: detail})
	_ = ss.l.nc.SetReadDeadline(time.Time{})
	return true
}

// reject answers a reject frame, then counts the refusal.
func (ss *session) reject(name string, reason RejectReason, detail string) {
	_ = ss.writeNow(TypeReject, Reject{Reason: reason, Detail: detail})
	ss.refused(name, reason, detail)
}

// refused counts and reports a connection that did not join.
func (ss *session) refused(name string, reason RejectReason, detail string) {
	s := ss.sys
	s.stats.rejected.Add(1)
	s.log.Warn("connection rejected", "via", ss.via, "remote", ss.remote, "claimed", name, "reason", reason, "detail", detail)
	s.events.publish(Event{Time: s.now(), Kind: EventRejected, Member: name, Detail: fmt.Sprintf("%s: %s (via %s from %s)", reason, detail, ss.via, ss.remote)})
}

// answerNow writes an error frame synchronously, before any writer runs.
func (ss *session) answerNow(body ErrorBody) {
	_ = ss.writeNow(TypeError, body)
}

func (ss *session) writeNow(typ string, body any) error {
	saved := ss.l.writeTimeout
	ss.l.writeTimeout = ss.sys.opts.HelloTimeout
	defer func() { ss.l.writeTimeout = saved }()
	return ss.l.writeNow(typ, body)
}

// answer queues an error frame about env.
func (ss *session) answer(code ErrorCode, msg string, env Envelope) {
	ss.l.enqueuePriority(TypeError, ErrorBody{Code: code, Message: msg, Seq: env.Seq, Type: env.Type})
}

// readLoop reads frames of a joined member until the connection ends.
func (ss *session) readLoop() error {
	s, m := ss.sys, ss.m
	for {
		env, n, err := ss.l.read(MaxFrameSize)
		s.stats.bytesIn.Add(int64(n))
		m.bytesIn.Add(int64(n))
		if err != nil {
			switch {
			case errors.Is(err, ErrMalformed):
				s.stats.malformed.Add(1)
				ss.answer(ErrorMalformed, err.Error(), Envelope{})
				continue
			case errors.Is(err, ErrFrameTooLarge):
				// The next frame boundary is lost: answer, then close.
				s.stats.malformed.Add(1)
				ss.answer(ErrorFrameTooLarge, err.Error(), Envelope{})
				ss.draining = true
				return err
			default:
				return err
			}
		}
		m.msgsIn.Add(1)
		if err := ss.handle(env); err != nil {
			return err
		}
	}
}

// handle acts on one frame from a joined member.
func (ss *session) handle(env Envelope) error {
	s, m := ss.sys, ss.m
	now := s.now()
	switch env.Type {
	case TypeHeartbeat:
		var hb Heartbeat
		if err := decodeBody(env, &hb); err != nil {
			s.stats.malformed.Add(1)
			ss.answer(ErrorMalformed, err.Error(), env)
			return nil
		}
		s.stats.countReceived(env.Type)
		s.mu.Lock()
		if m.sess == ss {
			m.lastHB = now
			m.peerRTT, m.peerSkew = hb.RTT, hb.ClockOffset
		}
		s.mu.Unlock()
		if !ss.l.enqueuePriority(TypeHeartbeatAck, HeartbeatAck{Seq: hb.Seq, Echo: hb.Sent, Received: now, Sent: s.now()}) {
			s.stats.mailboxFull.Add(1)
		}
	case TypeHeartbeatAck:
		var ack HeartbeatAck
		if err := decodeBody(env, &ack); err != nil {
			s.stats.malformed.Add(1)
			ss.answer(ErrorMalformed, err.Error(), env)
			return nil
		}
		s.stats.countReceived(env.Type)
		sample, ok := measureClock(ack.Echo, ack.Received, ack.Sent, now)
		s.mu.Lock()
		if m.sess == ss {
			m.lastHB = now
			if ok {
				m.clock.add(sample)
			}
		}
		s.mu.Unlock()
	case TypeStopped:
		s.stats.countReceived(env.Type)
		var evs []Event
		s.mu.Lock()
		if m.sess == ss && m.state == MemberJoined {
			m.state = MemberLeft
			evs = append(evs, Event{Time: now, Kind: EventLeft, Member: m.name, Detail: "stopped"})
			s.notifyLocked()
		}
		s.mu.Unlock()
		s.log.Info("member left", "member", m.name)
		s.events.publish(evs...)
		ss.stoppedOnce.Do(func() { close(ss.stopped) })
	case TypeError:
		s.stats.countReceived(env.Type)
		var eb ErrorBody
		_ = json.Unmarshal(env.Body, &eb) // best effort: it is only reported
		detail := fmt.Sprintf("%s: %s (about %s frame %d)", eb.Code, eb.Message, eb.Type, eb.Seq)
		s.log.Warn("member reported an error", "member", m.name, "detail", detail)
		s.events.publish(Event{Time: now, Kind: EventMessage, Member: m.name, Type: env.Type, Detail: detail})
	case TypeHello, TypeWelcome, TypeReject, TypeStop, TypeAck:
		s.stats.unknownType.Add(1)
		ss.answer(ErrorUnexpectedType, fmt.Sprintf("the coordinator does not accept %s from a joined member", env.Type), env)
	default:
		ss.accept(env, now)
	}
	return nil
}

// accept puts an application message into the member's inbox without ever
// blocking the read loop. A reliable message (rseq set) is taken only in
// order, go-back-N: the next expected one is queued and acknowledged; one
// seen before is a duplicate, acknowledged again (its ack may have been
// lost to a retransmission race) and dropped; one after a gap is dropped
// unacknowledged, since the member resends everything from the gap on. A
// full inbox refuses a message: a plain one is lost and counted, a
// reliable one is left unacknowledged so that the member sends it again.
func (ss *session) accept(env Envelope, now time.Time) {
	s, m := ss.sys, ss.m
	if env.RSeq != 0 {
		switch {
		case env.RSeq <= ss.rseq:
			m.duplicates.Add(1)
			s.stats.duplicates.Add(1)
			ss.l.ack(ss.rseq)
			return
		case env.RSeq > ss.rseq+1:
			m.outOfOrder.Add(1)
			s.stats.outOfOrder.Add(1)
			return
		}
	}
	fn := s.handler(env.Type)
	if fn == nil {
		s.stats.unknownType.Add(1)
		ss.answer(ErrorUnknownType, fmt.Sprintf("no handler for message type %q", env.Type), env)
		if env.RSeq != 0 {
			// Answered, not dropped: acknowledging it keeps one message
			// nobody can handle from holding up every reliable one behind
			// it.
			ss.rseq = env.RSeq
			ss.l.ack(ss.rseq)
		}
		return
	}
	s.stats.countReceived(env.Type)
	if !ss.in.offer(inbound{from: m.name, typ: env.Type, body: env.Body, fn: fn}) {
		m.overflow.Add(1)
		s.stats.overflow.Add(1)
		s.log.Debug("member inbox full: message dropped", "member", m.name, "type", env.Type, "rseq", env.RSeq)
		return
	}
	if env.RSeq != 0 {
		ss.rseq = env.RSeq
		ss.l.ack(ss.rseq)
	}
	s.events.publish(Event{Time: now, Kind: EventMessage, Member: m.name, Type: env.Type})
}

// end records why the session ended, updates the member, lets the
// member's dispatcher finish what its inbox holds and waits for the writer.
func (ss *session) end(reason error) {
	s := ss.sys
	if ss.in != nil {
		ss.in.close()
	}
	var evs []Event
	s.mu.Lock()
	delete(s.sessions, ss)
	if m := ss.m; m != nil && m.sess == ss {
		m.sess = nil
		if m.state == MemberJoined {
			now := s.now()
			if ss.stopSent.Load() {
				m.state = MemberLeft
				evs = append(evs, Event{Time: now, Kind: EventLeft, Member: m.name, Detail: "connection closed after stop"})
			} else {
				m.state = MemberLost
				detail := fmt.Sprintf("connection closed: %v", reason)
				evs = append(evs, Event{Time: now, Kind: EventLost, Member: m.name, Detail: detail})
				s.log.Warn("member lost", "member", m.name, "reason", detail)
			}
		}
		s.notifyLocked()
	}
	s.mu.Unlock()
	s.events.publish(evs...)
	if ss.writerStarted {
		if ss.draining {
			ss.l.drainAndClose()
			<-ss.l.writerDone
		}
		ss.l.close()
		<-ss.l.writerDone
	} else {
		ss.l.close()
	}
	close(ss.done)
}
