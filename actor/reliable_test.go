package actor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSendReliable(t *testing.T) {
	t.Run("every_message_arrives_once_and_in_order_through_a_tiny_inbox", func(t *testing.T) {
		opts := fastOptions()
		opts.Mailbox = 4
		opts.Expiry = 10 * time.Second // a slow race-detector run must not expire the link
		s, addr := startSystem(t, opts, "h1")
		s.Expect("h1", "secret")
		const n = 2000
		var mu sync.Mutex
		var got []int
		all := make(chan struct{})
		s.Handle("step-done", func(_ string, body json.RawMessage) {
			time.Sleep(100 * time.Microsecond) // slower than the member sends
			var i int
			if err := json.Unmarshal(body, &i); err != nil {
				t.Error(err)
			}
			mu.Lock()
			got = append(got, i)
			if len(got) == n {
				close(all)
			}
			mu.Unlock()
		})
		r := joinAndRun(t, addr, helloFor("h1", "secret"))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for i := 1; i <= n; i++ {
			if err := r.m.SendReliable(ctx, "step-done", i); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-all:
		case <-ctx.Done():
			mu.Lock()
			t.Fatalf("%d of %d messages handled within a minute", len(got), n)
		}
		mu.Lock()
		for i, v := range got {
			if v != i+1 {
				t.Fatalf("message %d is %d, want %d (exactly once, in order)", i, v, i+1)
			}
		}
		mu.Unlock()
		waitFor(t, 5*time.Second, "the last ack", func() bool { return r.m.Unacked() == 0 })
		ms := memberStatus(t, s, "h1")
		if ms.Overflow == 0 || r.m.Retransmits() == 0 {
			t.Errorf("overflow %d, retransmits %d; want both > 0 with a 4-message inbox", ms.Overflow, r.m.Retransmits())
		}
		if ms.State != MemberJoined {
			t.Errorf("member is %s, want joined", ms.State)
		}
		if st := s.Status(); st.Received["step-done"] < n || st.Overflow != ms.Overflow {
			t.Errorf("received %d step-done, overflow %d; want ≥ %d and the member's %d", st.Received["step-done"], st.Overflow, n, ms.Overflow)
		}
		t.Logf("overflow %d, duplicates %d, out of order %d, retransmits %d", ms.Overflow, ms.Duplicates, ms.OutOfOrder, r.m.Retransmits())
	})

	t.Run("messages_given_before_run_are_sent_once_it_runs", func(t *testing.T) {
		s, addr := startSystem(t, fastOptions(), "h1")
		s.Expect("h1", "secret")
		got := make(chan string, 4)
		s.Handle("ready", func(_ string, body json.RawMessage) { got <- string(body) })
		m, err := Join(context.Background(), dial(t, addr), helloFor("h1", "secret"))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"a", "b"} {
			if err := m.SendReliable(context.Background(), "ready", v); err != nil {
				t.Fatal(err)
			}
		}
		if m.Unacked() != 2 {
			t.Errorf("unacked before Run = %d, want 2", m.Unacked())
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		for _, want := range []string{`"a"`, `"b"`} {
			select {
			case v := <-got:
				if v != want {
					t.Errorf("got %s, want %s", v, want)
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("%s not handled", want)
			}
		}
		waitFor(t, 2*time.Second, "the acks", func() bool { return m.Unacked() == 0 })
		cancel()
		<-done
		if err := m.SendReliable(context.Background(), "ready", "late"); !errors.Is(err, ErrClosed) {
			t.Errorf("SendReliable after Run = %v, want ErrClosed", err)
		}
	})

	t.Run("a_full_window_blocks_until_ctx_ends", func(t *testing.T) {
		s, addr := startSystem(t, fastOptions(), "h1")
		s.Expect("h1", "secret")
		m, err := Join(context.Background(), dial(t, addr), helloFor("h1", "secret"), WithReliableWindow(2))
		if err != nil {
			t.Fatal(err)
		}
		defer m.l.close()
		for i := range 2 {
			if err := m.SendReliable(context.Background(), "x", i); err != nil {
				t.Fatal(err)
			}
		}
		// Run has not started, so no ack can make room.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := m.SendReliable(ctx, "x", 2); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("SendReliable with a full window = %v, want DeadlineExceeded", err)
		}
		if m.Unacked() != 2 {
			t.Errorf("unacked = %d, want 2", m.Unacked())
		}
	})

	t.Run("stop_is_answered_after_every_reliable_message_was_accepted", func(t *testing.T) {
		opts := fastOptions()
		opts.Mailbox = 4
		opts.Expiry = 10 * time.Second
		s, addr := startSystem(t, opts, "h1")
		s.Expect("h1", "secret")
		const n = 200
		var mu sync.Mutex
		handled := 0
		s.Handle("metrics-final", func(string, json.RawMessage) {
			time.Sleep(200 * time.Microsecond)
			mu.Lock()
			handled++
			mu.Unlock()
		})
		r := joinAndRun(t, addr, helloFor("h1", "secret"))
		for i := range n {
			if err := r.m.SendReliable(context.Background(), "metrics-final", i); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.StopMember(context.Background(), "h1", "race over"); err != nil {
			t.Fatal(err)
		}
		if err := r.wait(t, 10*time.Second); !errors.Is(err, ErrStopped) {
			t.Fatalf("Run = %v, want ErrStopped", err)
		}
		// Close waits for the member's dispatcher to run what was accepted.
		s.Close()
		mu.Lock()
		defer mu.Unlock()
		if handled != n {
			t.Errorf("handled %d of %d reliable messages sent before stop", handled, n)
		}
	})
}

// TestReliableReceiver drives the coordinator's side of go-back-N with a
// hand-made member.
func TestReliableReceiver(t *testing.T) {
	opts := fastOptions()
	opts.Expiry = 10 * time.Second // the raw member sends no heartbeats of its own
	s, addr := startSystem(t, opts, "h1")
	s.Expect("h1", "secret")
	got := make(chan string, 8)
	s.Handle("note", func(_ string, body json.RawMessage) { got <- string(body) })
	p := &rawPeer{t: t, c: dial(t, addr)}
	p.send(TypeHello, helloFor("h1", "secret"))
	p.mustRecv(TypeWelcome)
	recvAck := func() uint64 {
		t.Helper()
		return decodeAs[Ack](t, p.mustRecv(TypeAck, TypeHeartbeat)).Seq
	}

	p.sendReliable("note", 1, "a")
	if seq := recvAck(); seq != 1 {
		t.Fatalf("ack %d, want 1", seq)
	}
	t.Run("a_duplicate_is_acknowledged_again_and_dropped", func(t *testing.T) {
		p.sendReliable("note", 1, "a")
		if seq := recvAck(); seq != 1 {
			t.Fatalf("ack %d for the duplicate, want 1 again", seq)
		}
		if st := s.Status(); st.Duplicates != 1 || memberStatus(t, s, "h1").Duplicates != 1 {
			t.Errorf("duplicates = %d, want 1", st.Duplicates)
		}
	})
	t.Run("a_frame_after_a_gap_is_neither_acknowledged_nor_delivered", func(t *testing.T) {
		p.sendReliable("note", 3, "c")
		// Frames are handled in order: had rseq 3 been acked, that ack
		// would come before the answer to this heartbeat.
		p.send(TypeHeartbeat, Heartbeat{Seq: 1, Sent: time.Now()})
		p.mustRecv(TypeHeartbeatAck, TypeHeartbeat)
		if st := s.Status(); st.OutOfOrder != 1 || st.Received["note"] != 1 {
			t.Errorf("out of order %d, received %d notes; want 1, 1", st.OutOfOrder, st.Received["note"])
		}
	})
	t.Run("filling_the_gap_delivers_the_rest_in_order", func(t *testing.T) {
		p.sendReliable("note", 2, "b")
		p.sendReliable("note", 3, "c")
		for seq := recvAck(); seq != 3; seq = recvAck() {
			if seq != 2 {
				t.Fatalf("ack %d, want 2 or 3", seq)
			}
		}
		var order []string
		for range 3 {
			select {
			case v := <-got:
				order = append(order, v)
			case <-time.After(2 * time.Second):
				t.Fatalf("handled %v, want three notes", order)
			}
		}
		if strings.Join(order, ",") != `"a","b","c"` {
			t.Errorf("handled %v, want a, b, c once each", order)
		}
		if st := s.Status(); st.Received["note"] != 3 {
			t.Errorf("received %d notes, want 3", st.Received["note"])
		}
	})
}

// TestUnackedBeyondExpiryLosesTheLink: a coordinator that talks but never
// acknowledges leaves a reliable message waiting; after the expiry the
// member declares the link broken and says which message.
func TestUnackedBeyondExpiryLosesTheLink(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	coord := &rawPeer{t: t, c: a}
	joined := make(chan *Member, 1)
	go func() {
		m, err := Join(context.Background(), b, helloFor("h1", "secret"))
		if err != nil {
			t.Error(err)
		}
		joined <- m
	}()
	coord.mustRecv(TypeHello)
	const expiry = 300 * time.Millisecond
	coord.send(TypeWelcome, Welcome{Protocol: ProtocolVersion, Member: "h1", HeartbeatInterval: 10 * time.Millisecond, Expiry: expiry, Time: time.Now()})
	m := <-joined
	if m == nil {
		t.FailNow()
	}
	// The coordinator answers every heartbeat, so the link is not silent,
	// and counts the reliable frames it ignores.
	var mu sync.Mutex
	var rseqs []uint64
	coordDone := make(chan struct{})
	go func() {
		defer close(coordDone)
		var buf []byte
		var seq uint64
		for {
			payload, err := ReadFrame(a, buf)
			if err != nil {
				return
			}
			env, err := DecodeEnvelope(payload)
			if err != nil {
				continue
			}
			if env.RSeq != 0 {
				mu.Lock()
				rseqs = append(rseqs, env.RSeq)
				mu.Unlock()
			}
			if env.Type == TypeHeartbeat {
				seq++
				frame, _ := AppendFrame(nil, Envelope{Type: TypeHeartbeatAck, Seq: seq, Body: json.RawMessage(`{"seq":1}`)})
				_ = a.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := a.Write(frame); err != nil {
					return
				}
			}
		}
	}()
	if err := m.SendReliable(context.Background(), "race/step-done", 1); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := m.Run(context.Background())
	took := time.Since(start)
	if !errors.Is(err, ErrLinkLost) || !strings.Contains(err.Error(), "race/step-done (rseq 1) unacknowledged") {
		t.Fatalf("Run = %v, want ErrLinkLost naming race/step-done (rseq 1)", err)
	}
	if took < expiry || took > 5*time.Second {
		t.Errorf("link declared broken after %s, want about the %s expiry", took, expiry)
	}
	a.Close()
	<-coordDone
	mu.Lock()
	defer mu.Unlock()
	if len(rseqs) < 2 || m.Retransmits() < 1 {
		t.Errorf("coordinator saw rseqs %v, member retransmitted %d times; want the message sent again", rseqs, m.Retransmits())
	}
	if m.Unacked() != 1 {
		t.Errorf("unacked = %d, want 1", m.Unacked())
	}
	if err := m.SendReliable(context.Background(), "race/step-done", 2); !errors.Is(err, ErrClosed) {
		t.Errorf("SendReliable after Run = %v, want ErrClosed", err)
	}
}

func TestSystemSendReliable(t *testing.T) {
	t.Run("a_full_outbox_breaks_the_link_and_says_so", func(t *testing.T) {
		opts := fastOptions()
		opts.Mailbox = 4
		opts.HeartbeatInterval = time.Hour // no heartbeats in the outbox
		opts.Expiry = 2 * time.Hour
		s := NewSystem(opts)
		defer s.Close()
		s.Expect("h1", "secret")
		events, cancel := s.Subscribe(16)
		defer cancel()
		a, b := net.Pipe()
		defer b.Close()
		go s.ServeConn(context.Background(), a, "h1")
		// A member that joins and then never reads: the coordinator's
		// writer blocks on the first frame after the welcome.
		if _, err := Join(context.Background(), b, helloFor("h1", "secret")); err != nil {
			t.Fatal(err)
		}
		waitEvent(t, events, EventJoined, "h1", time.Second)
		if err := s.SendReliable("h1", "race/step", 0); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Second, "the writer to take the first message", func() bool { return s.Status().Pending == 0 })
		for i := range opts.Mailbox {
			if err := s.SendReliable("h1", "race/step", i+1); err != nil {
				t.Fatalf("message %d of a 4-message outbox: %v", i+1, err)
			}
		}
		err := s.SendReliable("h1", "race/step", 5)
		if !errors.Is(err, ErrMailboxFull) || !strings.Contains(err.Error(), "link declared broken") {
			t.Fatalf("SendReliable to a full outbox = %v, want ErrMailboxFull and the link declared broken", err)
		}
		ev := waitEvent(t, events, EventLost, "h1", time.Second)
		if !strings.Contains(ev.Detail, "outbox full") || !strings.Contains(ev.Detail, "race/step") {
			t.Errorf("lost event detail %q does not say why", ev.Detail)
		}
		if ms := memberStatus(t, s, "h1"); ms.State != MemberLost {
			t.Errorf("member is %s, want lost", ms.State)
		}
		if err := s.SendReliable("h1", "race/step", 6); !errors.Is(err, ErrDeadLetter) {
			t.Errorf("SendReliable to a lost member = %v, want ErrDeadLetter", err)
		}
		// The connection was closed: the member's side sees its end.
		_ = b.SetReadDeadline(time.Now().Add(2 * time.Second))
		for {
			if _, err := ReadFrame(b, nil); err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatal("connection still open after the link was declared broken")
				}
				break
			}
		}
	})

	t.Run("messages_reach_a_member_that_reads", func(t *testing.T) {
		s, addr := startSystem(t, fastOptions(), "h1")
		s.Expect("h1", "secret")
		r := joinAndRun(t, addr, helloFor("h1", "secret"))
		got := make(chan string, 16)
		r.m.Handle("race/step", func(body json.RawMessage) { got <- string(body) })
		for i := range 10 {
			if err := s.SendReliable("h1", "race/step", i); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 10 {
			select {
			case v := <-got:
				if v != fmt.Sprint(i) {
					t.Fatalf("message %d is %s", i, v)
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("message %d not handled", i)
			}
		}
	})
}
