package actor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultHeartbeatInterval = time.Second
	DefaultExpiry            = 10 * time.Second
	DefaultHelloTimeout      = 5 * time.Second
)

// Member states as Status reports them.
const (
	MemberExpected = "expected" // Expect was called; it has not joined yet
	MemberJoined   = "joined"
	MemberLost     = "lost" // heartbeat expired or connection dropped
	MemberLeft     = "left" // stopped on request
)

// ErrDeadLetter is returned (wrapped) by Send for a member that is unknown,
// lost or gone: there is no one to deliver to. Such messages are counted.
var ErrDeadLetter = errors.New("dead letter")

// ErrClosed is returned once a System or Member is closed.
var ErrClosed = errors.New("actor: closed")

// Options configure a System. Zero values take the defaults.
type Options struct {
	// Version and Build (sha256 hex of the coordinator binary) are sent in
	// the welcome and shown in the status.
	Version, Build string
	// HeartbeatInterval is how often both sides send heartbeats (1 s).
	HeartbeatInterval time.Duration
	// Expiry is how old a member's last heartbeat may get before it is
	// marked lost (10 s). It also bounds how long a write may block.
	Expiry time.Duration
	// HelloTimeout is how long a new connection has to send its hello (5 s).
	HelloTimeout time.Duration
	// Now is the clock for heartbeats, expiry and clock offsets (time.Now).
	// Tests inject one; socket deadlines always use the real clock.
	Now func() time.Time
	// Logger receives the system's log lines (discarded when nil).
	Logger *slog.Logger
	// Address names the coordinator in the status (default: the host name).
	Address string
	// Mailbox is the capacity of each member's outbox and of each
	// member's inbox on the coordinator (DefaultMailbox).
	Mailbox int
}

func (o Options) withDefaults() Options {
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if o.Expiry <= 0 {
		o.Expiry = DefaultExpiry
	}
	if o.HelloTimeout <= 0 {
		o.HelloTimeout = DefaultHelloTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Address == "" {
		o.Address, _ = os.Hostname()
	}
	if o.Mailbox <= 0 {
		o.Mailbox = DefaultMailbox
	}
	return o
}

// System is the coordinator's side of the actor system: it admits members,
// keeps their heartbeats and clock estimates, routes messages and keeps the
// status. Its methods are safe for concurrent use.
type System struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	started time.Time

	mu        sync.Mutex
	members   map[string]*member
	sessions  map[*session]struct{}
	listeners map[net.Listener]struct{}
	changed   chan struct{} // closed and replaced on every member state change
	closed    bool

	hmu      sync.RWMutex
	handlers map[string]func(from string, body json.RawMessage)

	quit chan struct{}
	wg   sync.WaitGroup // the keeper, sessions and dispatchers

	events broadcaster
	stats  systemStats
}

// member is one expected host and what the coordinator knows of it. Fields
// above the atomics are guarded by System.mu.
type member struct {
	name, token string

	state    string
	sess     *session // the live connection while joined (or left and still open)
	via      string
	facts    HostFacts
	pid      int
	build    string
	version  string
	joined   time.Time
	lastHB   time.Time
	clock    clockFilter
	peerRTT  time.Duration // the member's own estimates, from its heartbeats
	peerSkew time.Duration // coordinator minus member, as the member sees it
	hbSeq    uint64
	// inbox is the latest session's queue of application messages; it
	// outlives the session until its dispatcher has run what it holds.
	inbox *inbox

	bytesIn, bytesOut, msgsIn, msgsOut atomic.Int64
	// handled counts messages whose handler ran; overflow those a full
	// inbox refused; duplicates and outOfOrder reliable frames that came
	// again or after a gap and were dropped.
	handled, overflow, duplicates, outOfOrder atomic.Int64
}

// NewSystem starts a System: its heartbeat keeper runs until Close.
func NewSystem(opts Options) *System {
	opts = opts.withDefaults()
	s := &System{
		opts:      opts,
		log:       opts.Logger,
		now:       opts.Now,
		started:   opts.Now(),
		members:   make(map[string]*member),
		sessions:  make(map[*session]struct{}),
		listeners: make(map[net.Listener]struct{}),
		changed:   make(chan struct{}),
		handlers:  make(map[string]func(string, json.RawMessage)),
		quit:      make(chan struct{}),
	}
	s.stats.received = make(map[string]int64)
	s.stats.sent = make(map[string]int64)
	s.wg.Add(1)
	go s.keep()
	return s
}

// Expect admits the member name with this token. Calling it again replaces
// the token; a member already joined stays joined.
func (s *System) Expect(name, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.members[name]
	if m == nil {
		m = &member{name: name, state: MemberExpected}
		s.members[name] = m
	}
	m.token = token
}

// Handle registers fn for an application message type. Each member has its
// own inbox and dispatcher: the handlers of one member's messages run one
// at a time, in arrival order, but handlers of different members run
// concurrently, so fn must be safe for that. A slow handler delays only
// its own member's later messages (and, once that member's inbox is full,
// makes the coordinator drop them: plain messages are lost and counted,
// reliable ones are not acknowledged and come again); it never delays
// heartbeats. Long work still belongs in goroutines of the handler's own.
// Registering a protocol type or an invalid type name is a programming
// error and panics.
func (s *System) Handle(typ string, fn func(from string, body json.RawMessage)) {
	if err := validType(typ); err != nil || isProtocolType(typ) || fn == nil {
		panic(fmt.Sprintf("actor: cannot handle message type %q", typ))
	}
	s.hmu.Lock()
	defer s.hmu.Unlock()
	s.handlers[typ] = fn
}

func (s *System) handler(typ string) func(string, json.RawMessage) {
	s.hmu.RLock()
	defer s.hmu.RUnlock()
	return s.handlers[typ]
}

// Send queues a message for a joined member and returns at once; it is
// best effort. A member that is unknown, lost or gone gets nothing: the
// message is counted as a dead letter and ErrDeadLetter returned. A full
// outbox drops the message (also a dead letter) and returns
// ErrMailboxFull. Use SendReliable for messages that carry state.
func (s *System) Send(to, typ string, body any) error {
	b, err := encodeBody(typ, body)
	if err != nil {
		return fmt.Errorf("send %s to %s: %w", typ, to, err)
	}
	return s.sendEncoded(to, typ, b)
}

// SendReliable queues a message for a joined member like Send, but never
// drops it silently. The connection delivers what was written, in order,
// so a queued message is lost only with the link itself: when the
// member's outbox is full, SendReliable declares that member's link broken
// (its connection is closed and it becomes lost, with a lost event saying
// why) and returns an error wrapping ErrMailboxFull. A member that is not
// joined gets an error wrapping ErrDeadLetter, as with Send.
func (s *System) SendReliable(to, typ string, body any) error {
	b, err := encodeBody(typ, body)
	if err != nil {
		return fmt.Errorf("send %s to %s: %w", typ, to, err)
	}
	s.mu.Lock()
	m, err := s.deliverableLocked(to, typ)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if m.sess.l.enqueue(typ, b) {
		s.stats.appSent.Add(1)
		s.mu.Unlock()
		return nil
	}
	s.stats.deadLetters.Add(1)
	s.stats.mailboxFull.Add(1)
	detail := fmt.Sprintf("link declared broken: outbox full (%d messages queued), reliable %s could not be queued", s.opts.Mailbox, typ)
	ss, ev := s.loseLocked(m, s.now(), detail)
	s.mu.Unlock()
	ss.l.close()
	s.events.publish(ev)
	return fmt.Errorf("send %s to %s: %w (%d messages queued): link declared broken", typ, to, ErrMailboxFull, s.opts.Mailbox)
}

// loseLocked marks a joined member lost and detaches its session, which
// the caller closes after unlocking s.mu: closing an SSH channel writes to
// its transport, which may block on a dying link. The caller publishes the
// event.
func (s *System) loseLocked(m *member, now time.Time, detail string) (*session, Event) {
	ss := m.sess
	m.state = MemberLost
	m.sess = nil
	s.log.Warn("member lost", "member", m.name, "reason", detail)
	s.notifyLocked()
	return ss, Event{Time: now, Kind: EventLost, Member: m.name, Detail: detail}
}

// Broadcast sends one message to every joined member; the error joins the
// members it could not be queued for.
func (s *System) Broadcast(typ string, body any) error {
	b, err := encodeBody(typ, body)
	if err != nil {
		return fmt.Errorf("broadcast %s: %w", typ, err)
	}
	s.mu.Lock()
	var names []string
	for name, m := range s.members {
		if m.state == MemberJoined {
			names = append(names, name)
		}
	}
	s.mu.Unlock()
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		if err := s.sendEncoded(name, typ, b); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// encodeBody checks an outgoing message and marshals its body.
func encodeBody(typ string, body any) ([]byte, error) {
	if err := validType(typ); err != nil {
		return nil, err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	// Leave room for the envelope around the body.
	if len(b) > MaxFrameSize-4096 {
		return nil, fmt.Errorf("%w: body of %d bytes", ErrFrameTooLarge, len(b))
	}
	return b, nil
}

// deliverableLocked returns the joined member to, or counts a dead letter
// and says why there is no one to deliver to; s.mu must be held.
func (s *System) deliverableLocked(to, typ string) (*member, error) {
	m := s.members[to]
	switch {
	case s.closed:
		s.stats.deadLetters.Add(1)
		return nil, fmt.Errorf("send %s to %s: %w: %w", typ, to, ErrDeadLetter, ErrClosed)
	case m == nil:
		s.stats.deadLetters.Add(1)
		return nil, fmt.Errorf("send %s to %s: %w: unknown member", typ, to, ErrDeadLetter)
	case m.state != MemberJoined || m.sess == nil:
		s.stats.deadLetters.Add(1)
		return nil, fmt.Errorf("send %s to %s: %w: member is %s", typ, to, ErrDeadLetter, m.state)
	}
	return m, nil
}

func (s *System) sendEncoded(to, typ string, b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.deliverableLocked(to, typ)
	if err != nil {
		return err
	}
	// Queued under the lock, so that a member marked lost never gets a
	// message queued after that.
	if !m.sess.l.enqueue(typ, b) {
		s.stats.deadLetters.Add(1)
		s.stats.mailboxFull.Add(1)
		return fmt.Errorf("send %s to %s: %w (%d messages queued)", typ, to, ErrMailboxFull, s.opts.Mailbox)
	}
	s.stats.appSent.Add(1)
	return nil
}

// WaitMembers blocks until every named member has joined, or ctx ends; the
// error then names the members still missing.
func (s *System) WaitMembers(ctx context.Context, names ...string) error {
	for {
		s.mu.Lock()
		var missing []string
		for _, name := range names {
			if m := s.members[name]; m == nil || m.state != MemberJoined {
				missing = append(missing, name)
			}
		}
		changed, closed := s.changed, s.closed
		s.mu.Unlock()
		if len(missing) == 0 {
			return nil
		}
		if closed {
			return fmt.Errorf("wait for members %s: %w", strings.Join(missing, ", "), ErrClosed)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait for members %s: %w", strings.Join(missing, ", "), ctx.Err())
		}
	}
}

// StopMember sends stop to a joined member and waits until it answers
// stopped or its connection closes. The member is then "left".
func (s *System) StopMember(ctx context.Context, name, reason string) error {
	s.mu.Lock()
	m := s.members[name]
	if m == nil || m.state != MemberJoined || m.sess == nil {
		state := "unknown"
		if m != nil {
			state = m.state
		}
		s.mu.Unlock()
		return fmt.Errorf("stop %s: member is %s", name, state)
	}
	ss := m.sess
	ss.stopSent.Store(true)
	ok := ss.l.enqueueValue(TypeStop, Stop{Reason: reason})
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("stop %s: %w", name, ErrMailboxFull)
	}
	select {
	case <-ss.stopped:
		return nil
	case <-ss.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop %s: no answer: %w", name, ctx.Err())
	}
}

// Subscribe returns a channel of events with the given buffer and a
// function that ends the subscription. A subscriber that falls behind loses
// events (they are counted in Status.EventsDropped); the system never waits
// for it. The channel is closed by the cancel function or by Close.
func (s *System) Subscribe(buffer int) (<-chan Event, func()) {
	return s.events.subscribe(buffer)
}

// Serve accepts connections from l until ctx ends, the System is closed or
// l fails; via names the host whose tunnel l is, and a hello naming another
// host is rejected. An empty via accepts any name (for local connections).
// It returns nil when stopped by ctx or Close.
func (s *System) Serve(ctx context.Context, l net.Listener, via string) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		nc, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || s.isClosed() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return fmt.Errorf("accept on the tunnel of %s: %w", via, err)
		}
		ss, ok := s.startSession(nc, via)
		if !ok {
			return nil
		}
		go func() {
			defer s.wg.Done()
			ss.serve(ctx)
		}()
	}
}

// ServeConn serves one connection that came through via's tunnel, until it
// ends; it closes c.
func (s *System) ServeConn(ctx context.Context, c net.Conn, via string) {
	ss, ok := s.startSession(c, via)
	if !ok {
		return
	}
	defer s.wg.Done()
	ss.serve(ctx)
}

// startSession registers a connection with the system, so that Close can
// end it and wait for it.
func (s *System) startSession(nc net.Conn, via string) (*session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		nc.Close()
		return nil, false
	}
	ss := newSession(s, nc, via)
	s.sessions[ss] = struct{}{}
	s.wg.Add(1)
	return ss, true
}

func (s *System) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// notifyLocked wakes WaitMembers; s.mu must be held.
func (s *System) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Close closes every connection and listener being served, stops the
// keeper and waits for all of them, and for each member's dispatcher to
// run the messages its inbox still holds; subscriptions end. It does not
// ask members to stop: use StopMember for that.
func (s *System) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.notifyLocked()
	var ls []net.Listener
	for l := range s.listeners {
		ls = append(ls, l)
	}
	var sessions []*session
	for ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()
	close(s.quit)
	for _, l := range ls {
		l.Close()
	}
	for _, ss := range sessions {
		ss.l.close()
	}
	s.wg.Wait()
	s.events.close()
	return nil
}

// keep sends the coordinator's heartbeats and expires silent members.
func (s *System) keep() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			s.tick()
		}
	}
}

// tick runs one round of the keeper at the injected clock's now.
func (s *System) tick() {
	now := s.now()
	var evs []Event
	var expired []*session
	s.mu.Lock()
	for _, m := range s.members {
		if m.state != MemberJoined || m.sess == nil {
			continue
		}
		if age := now.Sub(m.lastHB); age > s.opts.Expiry {
			detail := fmt.Sprintf("no heartbeat for %s (expiry %s)", age.Round(time.Millisecond), s.opts.Expiry)
			ss, ev := s.loseLocked(m, now, detail)
			expired = append(expired, ss)
			evs = append(evs, ev)
			continue
		}
		m.hbSeq++
		hb := Heartbeat{Seq: m.hbSeq, Sent: now}
		if best, ok := m.clock.best(); ok {
			hb.RTT, hb.ClockOffset = best.rtt, best.offset
		}
		if !m.sess.l.enqueuePriority(TypeHeartbeat, hb) {
			s.stats.mailboxFull.Add(1)
		}
	}
	s.mu.Unlock()
	for _, ss := range expired {
		ss.l.close()
	}
	s.events.publish(evs...)
}
