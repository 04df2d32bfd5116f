package actor

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injectable clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fastOptions are intervals short enough for tests to run in milliseconds.
func fastOptions() Options {
	return Options{
		Version:           "test",
		Build:             "feedface",
		HeartbeatInterval: 20 * time.Millisecond,
		Expiry:            400 * time.Millisecond,
		HelloTimeout:      time.Second,
		Address:           "coordinator.test",
	}
}

// startSystem runs a System serving a loopback listener through the tunnel
// of via; it is closed when the test ends.
func startSystem(t *testing.T, opts Options, via string) (*System, string) {
	t.Helper()
	s := NewSystem(opts)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background(), l, via) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve returned %v after Close, want nil", err)
		}
	})
	return s, l.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func helloFor(name, token string) Hello {
	return Hello{
		Protocol: ProtocolVersion, Name: name, Token: token, Build: "cafe", Version: "test", PID: 4242,
		Facts: HostFacts{Hostname: name + ".lab", OS: "linux", Arch: "amd64", Kernel: "6.1.0", CPUs: 2, MemoryBytes: 1 << 30},
	}
}

// running is a member whose Run goes on in the background.
type running struct {
	m    *Member
	done chan error
}

// joinAndRun joins over a fresh connection and runs the member until the
// test ends.
func joinAndRun(t *testing.T, addr string, hello Hello, opts ...JoinOption) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m, err := Join(ctx, dial(t, addr), hello, opts...)
	if err != nil {
		cancel()
		t.Fatalf("join as %s: %v", hello.Name, err)
	}
	r := &running{m: m, done: make(chan error, 1)}
	go func() { r.done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Errorf("member %s: Run did not return after cancel", hello.Name)
		}
	})
	return r
}

func (r *running) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // later waits and the cleanup see it too
		return err
	case <-time.After(within):
		t.Fatalf("Run did not return within %s", within)
		return nil
	}
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitEvent reads events until one of kind for member arrives.
func waitEvent(t *testing.T, ch <-chan Event, kind, member string, within time.Duration) Event {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("event stream closed while waiting for %s of %s", kind, member)
			}
			if ev.Kind == kind && ev.Member == member {
				return ev
			}
		case <-timer.C:
			t.Fatalf("no %s event for %q within %s", kind, member, within)
		}
	}
}

func memberStatus(t *testing.T, s *System, name string) MemberStatus {
	t.Helper()
	for _, m := range s.Status().Members {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("member %s not in status", name)
	return MemberStatus{}
}

// rawPeer speaks frames by hand, for the misbehaving side of a test.
type rawPeer struct {
	t   *testing.T
	c   net.Conn
	seq uint64
	buf []byte
}

func (p *rawPeer) send(typ string, body any) {
	p.t.Helper()
	p.sendReliable(typ, 0, body)
}

// sendReliable sends a frame with the given rseq (zero: a plain frame).
func (p *rawPeer) sendReliable(typ string, rseq uint64, body any) {
	p.t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			p.t.Fatal(err)
		}
	}
	p.seq++
	frame, err := AppendFrame(nil, Envelope{Type: typ, From: "raw", Seq: p.seq, RSeq: rseq, Body: b})
	if err != nil {
		p.t.Fatal(err)
	}
	p.write(frame)
}

func (p *rawPeer) write(b []byte) {
	p.t.Helper()
	_ = p.c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if _, err := p.c.Write(b); err != nil {
		p.t.Fatalf("raw write: %v", err)
	}
}

// recv reads frames until one of a type other than the skipped ones.
func (p *rawPeer) recv(skip ...string) (Envelope, error) {
	p.t.Helper()
	_ = p.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		payload, err := ReadFrame(p.c, p.buf)
		if err != nil {
			return Envelope{}, err
		}
		env, err := DecodeEnvelope(payload)
		if err != nil {
			return Envelope{}, err
		}
		skipped := false
		for _, s := range skip {
			skipped = skipped || env.Type == s
		}
		if !skipped {
			return env, nil
		}
	}
}

func (p *rawPeer) mustRecv(typ string, skip ...string) Envelope {
	p.t.Helper()
	env, err := p.recv(skip...)
	if err != nil {
		p.t.Fatalf("waiting for %s: %v", typ, err)
	}
	if env.Type != typ {
		p.t.Fatalf("got %s frame %s, want %s", env.Type, env.Body, typ)
	}
	return env
}

// expectClosed reads until the peer closes the connection.
func (p *rawPeer) expectClosed(skip ...string) {
	p.t.Helper()
	for {
		env, err := p.recv(skip...)
		if err == nil {
			p.t.Fatalf("got %s frame %s, want the connection closed", env.Type, env.Body)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			p.t.Fatalf("connection still open: %v", err)
		}
		return
	}
}

func decodeAs[T any](t *testing.T, env Envelope) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(env.Body, &v); err != nil {
		t.Fatalf("decode %s body %s: %v", env.Type, env.Body, err)
	}
	return v
}
