package actor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStopped is returned by Member.Run when the coordinator sent stop and
// the member answered stopped.
var ErrStopped = errors.New("stopped by the coordinator")

// ErrLinkLost is returned (wrapped) by Member.Run when nothing arrived from
// the coordinator for longer than the expiry it announced, or when a
// reliable message went unacknowledged for that long.
var ErrLinkLost = errors.New("link to the coordinator lost")

// joinTimeout bounds the handshake when ctx has no deadline of its own.
const joinTimeout = 10 * time.Second

// JoinOption adjusts a Member.
type JoinOption func(*joinConfig)

type joinConfig struct {
	now     func() time.Time
	log     *slog.Logger
	mailbox int
	window  int
}

// WithClock sets the member's clock for heartbeats and clock estimates
// (time.Now by default).
func WithClock(now func() time.Time) JoinOption {
	return func(c *joinConfig) { c.now = now }
}

// WithLogger sets where the member logs (discarded by default).
func WithLogger(l *slog.Logger) JoinOption {
	return func(c *joinConfig) { c.log = l }
}

// WithMailbox sets the capacity of the member's outbox and inbox
// (DefaultMailbox).
func WithMailbox(n int) JoinOption {
	return func(c *joinConfig) { c.mailbox = n }
}

// WithReliableWindow sets how many reliable messages may wait for the
// coordinator's ack before SendReliable blocks (DefaultReliableWindow).
func WithReliableWindow(n int) JoinOption {
	return func(c *joinConfig) { c.window = n }
}

// Member is a worker's side of its connection to the coordinator.
type Member struct {
	name    string
	l       *link
	now     func() time.Time
	log     *slog.Logger
	welcome Welcome
	inbox   chan memberInbound
	rel     *reliableOut

	hmu      sync.RWMutex
	handlers map[string]func(body json.RawMessage)

	mu       sync.Mutex
	clock    clockFilter
	lastRecv time.Time

	running atomic.Bool
	done    chan struct{} // closed when Run has returned
}

type memberInbound struct {
	env Envelope
	fn  func(json.RawMessage)
}

// Join sends hello on c and waits for the coordinator's answer. It returns a
// Member on welcome, a *RejectedError on reject, and another error if the
// connection fails or ctx ends (the handshake is bounded by ctx's deadline,
// or 10 s). On error c is closed. A zero hello.Protocol means
// ProtocolVersion.
func Join(ctx context.Context, c net.Conn, hello Hello, opts ...JoinOption) (*Member, error) {
	cfg := joinConfig{now: time.Now, log: slog.New(slog.DiscardHandler), mailbox: DefaultMailbox}
	for _, o := range opts {
		o(&cfg)
	}
	if hello.Protocol == 0 {
		hello.Protocol = ProtocolVersion
	}
	if err := hello.validate(); err != nil {
		c.Close()
		return nil, fmt.Errorf("join: %w", err)
	}
	m := &Member{
		name:     hello.Name,
		l:        newLink(c, cfg.mailbox, joinTimeout),
		now:      cfg.now,
		log:      cfg.log,
		inbox:    make(chan memberInbound, cfg.mailbox),
		rel:      newReliableOut(cfg.window),
		handlers: make(map[string]func(json.RawMessage)),
		done:     make(chan struct{}),
	}
	m.l.from, m.l.to = hello.Name, CoordinatorName
	welcome, err := m.handshake(ctx, hello)
	if err != nil {
		c.Close()
		return nil, err
	}
	m.welcome = welcome
	m.l.writeTimeout = welcome.Expiry
	return m, nil
}

func (m *Member) handshake(ctx context.Context, hello Hello) (Welcome, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(joinTimeout)
	}
	_ = m.l.nc.SetDeadline(deadline)
	cancelled := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		close(cancelled)
		_ = m.l.nc.SetDeadline(time.Unix(1, 0)) // unblock the read
	})
	t0 := m.now()
	err := m.l.writeNow(TypeHello, hello)
	var env Envelope
	if err == nil {
		env, _, err = m.l.read(MaxFrameSize)
	}
	t3 := m.now()
	if !stop() {
		<-cancelled
		return Welcome{}, fmt.Errorf("join as %s: %w", hello.Name, ctx.Err())
	}
	if err != nil {
		return Welcome{}, fmt.Errorf("join as %s: %w", hello.Name, err)
	}
	_ = m.l.nc.SetDeadline(time.Time{})
	switch env.Type {
	case TypeWelcome:
		var w Welcome
		if err := decodeBody(env, &w); err != nil {
			return Welcome{}, fmt.Errorf("join as %s: %w", hello.Name, err)
		}
		if w.HeartbeatInterval <= 0 || w.Expiry <= 0 {
			return Welcome{}, fmt.Errorf("join as %s: %w: welcome without heartbeat interval or expiry", hello.Name, ErrMalformed)
		}
		// The welcome is a first round trip: the coordinator stamped it
		// once, so t1 = t2.
		if s, ok := measureClock(t0, w.Time, w.Time, t3); ok {
			m.clock.add(s)
		}
		m.lastRecv = t3
		return w, nil
	case TypeReject:
		var r Reject
		if err := decodeBody(env, &r); err != nil {
			return Welcome{}, fmt.Errorf("join as %s: %w", hello.Name, err)
		}
		return Welcome{}, &RejectedError{Reason: r.Reason, Detail: r.Detail}
	case TypeError:
		var eb ErrorBody
		_ = json.Unmarshal(env.Body, &eb)
		return Welcome{}, fmt.Errorf("join as %s: coordinator answered error %s: %s", hello.Name, eb.Code, eb.Message)
	default:
		return Welcome{}, fmt.Errorf("join as %s: coordinator answered %q, want welcome or reject", hello.Name, env.Type)
	}
}

// Welcome returns what the coordinator said when it accepted the member.
func (m *Member) Welcome() Welcome { return m.welcome }

// Handle registers fn for an application message type from the
// coordinator. Handlers run one at a time, in arrival order, and must
// return promptly (Run waits for a running handler before it returns).
// Registering a protocol type or an invalid type name panics.
func (m *Member) Handle(typ string, fn func(body json.RawMessage)) {
	if err := validType(typ); err != nil || isProtocolType(typ) || fn == nil {
		panic(fmt.Sprintf("actor: cannot handle message type %q", typ))
	}
	m.hmu.Lock()
	defer m.hmu.Unlock()
	m.handlers[typ] = fn
}

func (m *Member) handler(typ string) func(json.RawMessage) {
	m.hmu.RLock()
	defer m.hmu.RUnlock()
	return m.handlers[typ]
}

// Send queues a message for the coordinator without blocking; it is best
// effort, for progress-like messages that the next one supersedes. It
// fails with ErrMailboxFull when the outbox is full and ErrClosed after
// Run has returned, and even a queued message may be dropped: by the
// coordinator when this member's inbox there is full (it is counted as
// overflow), or with the connection. Messages that carry state go with
// SendReliable. Messages sent before Run are written once it starts.
func (m *Member) Send(typ string, body any) error {
	select {
	case <-m.done:
		return fmt.Errorf("send %s: %w", typ, ErrClosed)
	default:
	}
	b, err := encodeBody(typ, body)
	if err != nil {
		return fmt.Errorf("send %s: %w", typ, err)
	}
	if !m.l.enqueue(typ, b) {
		return fmt.Errorf("send %s: %w", typ, ErrMailboxFull)
	}
	return nil
}

// SendReliable queues a message for the coordinator and keeps it until the
// coordinator acknowledges it, sending it again as often as needed: it is
// never dropped silently. The coordinator handles each reliable message
// exactly once, in the order given. While DefaultReliableWindow (see
// WithReliableWindow) messages are unacknowledged, SendReliable blocks
// until an ack makes room, ctx ends (its error is returned) or Run
// returns. If a message stays unacknowledged for longer than the expiry
// the welcome announced, the link is broken and Run returns an error
// wrapping ErrLinkLost that names it. Messages given before Run starts
// are sent once it runs; after Run has returned, SendReliable fails with
// ErrClosed.
func (m *Member) SendReliable(ctx context.Context, typ string, body any) error {
	b, err := encodeBody(typ, body)
	if err != nil {
		return fmt.Errorf("send %s: %w", typ, err)
	}
	for {
		full, err := m.rel.add(typ, b)
		if err != nil {
			return fmt.Errorf("send %s: %w", typ, err)
		}
		if full == nil {
			return nil
		}
		select {
		case <-full:
		case <-ctx.Done():
			return fmt.Errorf("send %s: %d reliable messages unacknowledged: %w", typ, m.rel.unacked(), ctx.Err())
		}
	}
}

// Unacked returns the number of reliable messages the coordinator has not
// acknowledged yet.
func (m *Member) Unacked() int { return m.rel.unacked() }

// Retransmits returns how many times a reliable message was sent again
// because its ack did not come in time.
func (m *Member) Retransmits() int64 { return m.rel.retransmitted() }

// RTT returns the least heartbeat round trip of the recent window.
func (m *Member) RTT() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, _ := m.clock.best()
	return s.rtt
}

// ClockOffset returns the coordinator's clock minus this member's clock,
// from the same round trip as RTT: add it to a local time to get the
// coordinator's.
func (m *Member) ClockOffset() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, _ := m.clock.best()
	return s.offset
}

// Run sends heartbeats, answers the coordinator's, sends reliable messages
// until they are acknowledged, and dispatches messages to handlers until
// the link ends. It returns ErrStopped after answering a stop, an error
// wrapping ErrLinkLost when the coordinator went silent or left a reliable
// message unacknowledged for longer than its expiry, ctx's error when ctx
// ends, or the connection's error. It closes the connection before
// returning and may be called once.
func (m *Member) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("actor: Member.Run called twice")
	}
	defer close(m.done)
	defer m.rel.close()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var wg sync.WaitGroup
	wg.Add(4)
	go m.l.runWriter()
	go func() { defer wg.Done(); cancel(m.readLoop(ctx)) }()
	go func() { defer wg.Done(); m.dispatch(ctx, cancel) }()
	go func() { defer wg.Done(); m.heartbeats(ctx, cancel) }()
	go func() { defer wg.Done(); m.sendReliable(ctx, cancel) }()

	<-ctx.Done()
	err := context.Cause(ctx)
	if errors.Is(err, ErrStopped) {
		// Let anything queued go out, then the stopped answer.
		m.l.drainAndClose()
		<-m.l.writerDone
	}
	m.l.close()
	<-m.l.writerDone
	wg.Wait()
	return err
}

// readLoop reads frames until the connection fails; it answers heartbeats
// and takes acks itself so that a busy handler never delays them.
func (m *Member) readLoop(ctx context.Context) error {
	stopping := false
	for {
		env, _, err := m.l.read(MaxFrameSize)
		if err != nil {
			switch {
			case errors.Is(err, ErrMalformed):
				m.log.Warn("malformed frame from the coordinator", "err", err)
				m.answer(ErrorMalformed, err.Error(), Envelope{})
				continue
			case errors.Is(err, ErrFrameTooLarge):
				m.answer(ErrorFrameTooLarge, err.Error(), Envelope{})
				return fmt.Errorf("read from coordinator: %w", err)
			}
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if werr := m.l.writeError(); werr != nil {
				// The writer closed the connection: its error is the cause.
				var ne net.Error
				if errors.As(werr, &ne) && ne.Timeout() {
					return fmt.Errorf("%w: a write to the coordinator blocked for %s", ErrLinkLost, m.welcome.Expiry)
				}
				return fmt.Errorf("write to coordinator: %w", werr)
			}
			return fmt.Errorf("read from coordinator: %w", err)
		}
		now := m.now()
		m.mu.Lock()
		m.lastRecv = now
		m.mu.Unlock()
		switch env.Type {
		case TypeHeartbeat:
			var hb Heartbeat
			if err := decodeBody(env, &hb); err != nil {
				m.answer(ErrorMalformed, err.Error(), env)
				continue
			}
			if !m.l.enqueuePriority(TypeHeartbeatAck, HeartbeatAck{Seq: hb.Seq, Echo: hb.Sent, Received: now, Sent: m.now()}) {
				m.log.Warn("protocol queue full: heartbeat ack dropped", "seq", hb.Seq)
			}
		case TypeHeartbeatAck:
			var ack HeartbeatAck
			if err := decodeBody(env, &ack); err != nil {
				m.answer(ErrorMalformed, err.Error(), env)
				continue
			}
			if s, ok := measureClock(ack.Echo, ack.Received, ack.Sent, now); ok {
				m.mu.Lock()
				m.clock.add(s)
				m.mu.Unlock()
			}
		case TypeAck:
			var ack Ack
			if err := decodeBody(env, &ack); err != nil {
				m.answer(ErrorMalformed, err.Error(), env)
				continue
			}
			m.rel.ack(ack.Seq, now)
		case TypeError:
			var eb ErrorBody
			_ = json.Unmarshal(env.Body, &eb)
			m.log.Warn("coordinator reported an error", "code", eb.Code, "message", eb.Message, "about_type", eb.Type, "about_seq", eb.Seq)
		case TypeStop:
			if err := m.push(ctx, memberInbound{env: env}); err != nil {
				return err
			}
			// Nothing after a stop is handled; dropping it keeps this
			// loop reading the acks the stop waits for.
			stopping = true
		case TypeHello, TypeWelcome, TypeReject, TypeStopped:
			m.answer(ErrorUnexpectedType, fmt.Sprintf("a member does not accept %s from the coordinator", env.Type), env)
		default:
			if stopping {
				m.log.Debug("message after stop ignored", "type", env.Type)
				continue
			}
			fn := m.handler(env.Type)
			if fn == nil {
				m.log.Warn("message of unknown type from the coordinator", "type", env.Type)
				m.answer(ErrorUnknownType, fmt.Sprintf("no handler for message type %q", env.Type), env)
				continue
			}
			if err := m.push(ctx, memberInbound{env: env, fn: fn}); err != nil {
				return err
			}
		}
	}
}

func (m *Member) push(ctx context.Context, in memberInbound) error {
	select {
	case m.inbox <- in:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (m *Member) answer(code ErrorCode, msg string, env Envelope) {
	m.l.enqueuePriority(TypeError, ErrorBody{Code: code, Message: msg, Seq: env.Seq, Type: env.Type})
}

// dispatch runs handlers in arrival order; a stop, queued behind the
// messages that came before it, ends the run once the reliable messages
// given before it are acknowledged, so that stopped is the last word and
// follows everything this member said.
func (m *Member) dispatch(ctx context.Context, cancel context.CancelCauseFunc) {
	for {
		select {
		case <-ctx.Done():
			return
		case in := <-m.inbox:
			if in.env.Type != TypeStop {
				in.fn(in.env.Body)
				continue
			}
			var st Stop
			_ = json.Unmarshal(in.env.Body, &st)
			m.log.Info("coordinator asked to stop", "reason", st.Reason)
			// Bounded by the expiry: the reliable sender ends the run if
			// an ack does not come.
			if err := m.rel.waitAcked(ctx, m.rel.newest()); err != nil {
				return
			}
			// Written when Run drains the link, after everything queued.
			m.l.setFinal(TypeStopped, Stopped{Reason: st.Reason})
			cancel(ErrStopped)
			return
		}
	}
}

// heartbeats sends a heartbeat every interval, the first at once, and
// watches that the coordinator is still talking.
func (m *Member) heartbeats(ctx context.Context, cancel context.CancelCauseFunc) {
	t := time.NewTicker(m.welcome.HeartbeatInterval)
	defer t.Stop()
	var seq uint64
	for {
		now := m.now()
		m.mu.Lock()
		silent := now.Sub(m.lastRecv)
		best, _ := m.clock.best()
		m.mu.Unlock()
		if silent > m.welcome.Expiry {
			cancel(fmt.Errorf("%w: nothing from the coordinator for %s (expiry %s)", ErrLinkLost, silent.Round(time.Millisecond), m.welcome.Expiry))
			return
		}
		seq++
		if !m.l.enqueuePriority(TypeHeartbeat, Heartbeat{Seq: seq, Sent: now, RTT: best.rtt, ClockOffset: best.offset}) {
			m.log.Warn("protocol queue full: heartbeat dropped", "seq", seq)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
