package actor

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestJoin(t *testing.T) {
	t.Run("right_token_joins_and_status_shows_the_member", func(t *testing.T) {
		s, addr := startSystem(t, fastOptions(), "h1")
		s.Expect("h1", "secret")
		r := joinAndRun(t, addr, helloFor("h1", "secret"))
		w := r.m.Welcome()
		if w.Member != "h1" || w.HeartbeatInterval != 20*time.Millisecond || w.Expiry != 400*time.Millisecond || w.Version != "test" || w.Build != "feedface" {
			t.Errorf("welcome = %+v", w)
		}
		if err := s.WaitMembers(context.Background(), "h1"); err != nil {
			t.Fatal(err)
		}
		ms := memberStatus(t, s, "h1")
		if ms.State != MemberJoined || ms.Via != "h1" || ms.PID != 4242 || ms.Build != "cafe" || ms.Facts.Hostname != "h1.lab" || ms.Facts.MemoryBytes != 1<<30 {
			t.Errorf("member status = %+v", ms)
		}
		if got := s.Status().Received[TypeHello]; got != 1 {
			t.Errorf("received hello = %d, want 1", got)
		}
	})

	rejects := []struct {
		name   string
		via    string
		expect string
		hello  Hello
		want   RejectReason
	}{
		{"wrong_token_is_rejected", "h1", "h1", helloFor("h1", "guess"), RejectWrongToken},
		{"unknown_member_is_rejected", "", "h1", helloFor("h9", "secret"), RejectUnknownMember},
		{"hello_naming_another_host_than_its_tunnel_is_rejected", "h1", "h2", helloFor("h2", "secret"), RejectNameMismatch},
		{"other_protocol_version_is_rejected", "h1", "h1", func() Hello { h := helloFor("h1", "secret"); h.Protocol = 99; return h }(), RejectProtocolMismatch},
	}
	for _, tc := range rejects {
		t.Run(tc.name, func(t *testing.T) {
			s, addr := startSystem(t, fastOptions(), tc.via)
			s.Expect(tc.expect, "secret")
			events, cancel := s.Subscribe(16)
			defer cancel()
			_, err := Join(context.Background(), dial(t, addr), tc.hello)
			var rej *RejectedError
			if !errors.As(err, &rej) || rej.Reason != tc.want {
				t.Fatalf("Join error = %v, want a rejection for %s", err, tc.want)
			}
			ev := waitEvent(t, events, EventRejected, tc.hello.Name, time.Second)
			if !strings.Contains(ev.Detail, string(tc.want)) {
				t.Errorf("rejected event detail %q does not name %s", ev.Detail, tc.want)
			}
			st := s.Status()
			if st.Rejected != 1 {
				t.Errorf("rejected = %d, want 1", st.Rejected)
			}
			for _, m := range st.Members {
				if m.State == MemberJoined {
					t.Errorf("member %s joined after a rejected hello", m.Name)
				}
			}
		})
	}

	t.Run("second_connection_of_a_joined_member_is_rejected", func(t *testing.T) {
		s, addr := startSystem(t, fastOptions(), "h1")
		s.Expect("h1", "secret")
		joinAndRun(t, addr, helloFor("h1", "secret"))
		_, err := Join(context.Background(), dial(t, addr), helloFor("h1", "secret"))
		var rej *RejectedError
		if !errors.As(err, &rej) || rej.Reason != RejectAlreadyJoined {
			t.Fatalf("Join error = %v, want already-joined", err)
		}
		if ms := memberStatus(t, s, "h1"); ms.State != MemberJoined {
			t.Errorf("first connection's member is %s, want still joined", ms.State)
		}
	})

	t.Run("rejected_connection_is_closed_and_its_later_frames_ignored", func(t *testing.T) {
		s := NewSystem(fastOptions())
		defer s.Close()
		s.Expect("h1", "secret")
		var handled atomic.Int64
		s.Handle("task-done", func(string, json.RawMessage) { handled.Add(1) })
		a, b := net.Pipe()
		defer b.Close()
		go s.ServeConn(context.Background(), a, "h1")
		// The hello and the frames behind it arrive in one write, so the
		// coordinator has read them all when it rejects the hello.
		var burst []byte
		for i, f := range []struct {
			typ  string
			body any
		}{{TypeHello, helloFor("h1", "guess")}, {"task-done", 1}, {TypeHeartbeat, Heartbeat{Seq: 1, Sent: time.Now()}}} {
			body, _ := json.Marshal(f.body)
			burst, _ = AppendFrame(burst, Envelope{Type: f.typ, Seq: uint64(i + 1), Body: body})
		}
		go b.Write(burst)
		p := &rawPeer{t: t, c: b}
		rej := decodeAs[Reject](t, p.mustRecv(TypeReject))
		if rej.Reason != RejectWrongToken {
			t.Errorf("reject reason = %s, want wrong-token", rej.Reason)
		}
		p.expectClosed()
		st := s.Status()
		if handled.Load() != 0 || st.Received["task-done"] != 0 || st.Received[TypeHeartbeat] != 0 {
			t.Errorf("frames after the reject were acted on: handled %d, received %v", handled.Load(), st.Received)
		}
		if st.Rejected != 1 {
			t.Errorf("rejected = %d, want 1", st.Rejected)
		}
	})

	t.Run("no_hello_within_the_timeout_closes_and_counts_a_rejection", func(t *testing.T) {
		opts := fastOptions()
		opts.HelloTimeout = 100 * time.Millisecond
		s, addr := startSystem(t, opts, "h1")
		p := &rawPeer{t: t, c: dial(t, addr)}
		start := time.Now()
		rej := decodeAs[Reject](t, p.mustRecv(TypeReject))
		if rej.Reason != RejectNoHello {
			t.Errorf("reject reason = %s, want no-hello", rej.Reason)
		}
		p.expectClosed()
		if took := time.Since(start); took < 80*time.Millisecond || took > 2*time.Second {
			t.Errorf("closed after %s, want about the 100ms hello timeout", took)
		}
		if st := s.Status(); st.Rejected != 1 {
			t.Errorf("rejected = %d, want 1", st.Rejected)
		}
	})

	t.Run("first_frame_other_than_hello_is_rejected", func(t *testing.T) {
		s, addr := startSystem(t, fastOptions(), "h1")
		p := &rawPeer{t: t, c: dial(t, addr)}
		p.send(TypeHeartbeat, Heartbeat{Seq: 1})
		if rej := decodeAs[Reject](t, p.mustRecv(TypeReject)); rej.Reason != RejectBadHello {
			t.Errorf("reject reason = %s, want bad-hello", rej.Reason)
		}
		p.expectClosed()
		if st := s.Status(); st.Rejected != 1 {
			t.Errorf("rejected = %d, want 1", st.Rejected)
		}
	})

	t.Run("hello_over_net_pipe_joins", func(t *testing.T) {
		s := NewSystem(fastOptions())
		defer s.Close()
		s.Expect("h1", "secret")
		a, b := net.Pipe()
		go s.ServeConn(context.Background(), a, "h1")
		m, err := Join(context.Background(), b, helloFor("h1", "secret"))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		waitFor(t, time.Second, "a heartbeat over the pipe", func() bool { return s.Status().Received[TypeHeartbeat] > 0 })
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	})
}

func TestBadFrames(t *testing.T) {
	join := func(t *testing.T) (*System, *rawPeer) {
		s, addr := startSystem(t, fastOptions(), "h1")
		s.Expect("h1", "secret")
		p := &rawPeer{t: t, c: dial(t, addr)}
		p.send(TypeHello, helloFor("h1", "secret"))
		p.mustRecv(TypeWelcome)
		return s, p
	}

	t.Run("unknown_type_is_counted_and_answered_and_the_link_goes_on", func(t *testing.T) {
		s, p := join(t)
		p.send("no-such-type", map[string]int{"x": 1})
		eb := decodeAs[ErrorBody](t, p.mustRecv(TypeError, TypeHeartbeat))
		if eb.Code != ErrorUnknownType || eb.Type != "no-such-type" || eb.Seq != 2 {
			t.Errorf("error body = %+v, want unknown-type about seq 2", eb)
		}
		p.send(TypeHeartbeat, Heartbeat{Seq: 1, Sent: time.Now()})
		p.mustRecv(TypeHeartbeatAck, TypeHeartbeat)
		st := s.Status()
		if st.UnknownType != 1 || st.Received["no-such-type"] != 0 {
			t.Errorf("unknown_type = %d, received = %v", st.UnknownType, st.Received)
		}
	})

	t.Run("bad_json_is_counted_and_answered_and_the_link_goes_on", func(t *testing.T) {
		s, p := join(t)
		for _, payload := range []string{`{"type":`, `[1,2]`, `{"type":"bad type!"}`, `{"type":"x"} trailing`} {
			frame := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
			p.write(append(frame, payload...))
			if eb := decodeAs[ErrorBody](t, p.mustRecv(TypeError, TypeHeartbeat)); eb.Code != ErrorMalformed {
				t.Errorf("%s: error code = %s, want malformed", payload, eb.Code)
			}
		}
		p.send(TypeHeartbeat, Heartbeat{Seq: 1, Sent: time.Now()})
		p.mustRecv(TypeHeartbeatAck, TypeHeartbeat)
		if st := s.Status(); st.Malformed != 4 {
			t.Errorf("malformed = %d, want 4", st.Malformed)
		}
		if ms := memberStatus(t, s, "h1"); ms.State != MemberJoined {
			t.Errorf("member is %s after malformed frames, want joined", ms.State)
		}
	})

	t.Run("heartbeat_with_a_bad_body_is_malformed", func(t *testing.T) {
		s, p := join(t)
		p.send(TypeHeartbeat, "not an object")
		if eb := decodeAs[ErrorBody](t, p.mustRecv(TypeError, TypeHeartbeat)); eb.Code != ErrorMalformed || eb.Type != TypeHeartbeat {
			t.Errorf("error body = %+v", eb)
		}
		if st := s.Status(); st.Malformed != 1 {
			t.Errorf("malformed = %d, want 1", st.Malformed)
		}
	})

	t.Run("oversized_length_is_answered_then_the_connection_closed", func(t *testing.T) {
		s, p := join(t)
		events, cancel := s.Subscribe(16)
		defer cancel()
		p.write(binary.BigEndian.AppendUint32(nil, MaxFrameSize+1))
		if eb := decodeAs[ErrorBody](t, p.mustRecv(TypeError, TypeHeartbeat)); eb.Code != ErrorFrameTooLarge {
			t.Errorf("error code = %s, want frame-too-large", eb.Code)
		}
		p.expectClosed(TypeHeartbeat)
		waitEvent(t, events, EventLost, "h1", time.Second)
		if st := s.Status(); st.Malformed != 1 {
			t.Errorf("malformed = %d, want 1", st.Malformed)
		}
	})

	t.Run("oversized_first_frame_is_answered_and_rejected", func(t *testing.T) {
		s, addr := startSystem(t, fastOptions(), "h1")
		p := &rawPeer{t: t, c: dial(t, addr)}
		p.write(binary.BigEndian.AppendUint32(nil, 0xffffffff))
		if eb := decodeAs[ErrorBody](t, p.mustRecv(TypeError)); eb.Code != ErrorFrameTooLarge {
			t.Errorf("error code = %s, want frame-too-large", eb.Code)
		}
		p.expectClosed()
		if st := s.Status(); st.Malformed != 1 || st.Rejected != 1 {
			t.Errorf("malformed = %d, rejected = %d, want 1 and 1", st.Malformed, st.Rejected)
		}
	})

	t.Run("joined_member_may_not_say_hello_again", func(t *testing.T) {
		s, p := join(t)
		p.send(TypeHello, helloFor("h1", "secret"))
		if eb := decodeAs[ErrorBody](t, p.mustRecv(TypeError, TypeHeartbeat)); eb.Code != ErrorUnexpectedType {
			t.Errorf("error code = %s, want unexpected-type", eb.Code)
		}
		if st := s.Status(); st.UnknownType != 1 {
			t.Errorf("unknown_type = %d, want 1", st.UnknownType)
		}
	})
}

func TestHeartbeats(t *testing.T) {
	t.Run("heartbeats_update_last_heartbeat_and_expires_in", func(t *testing.T) {
		clock := newFakeClock()
		opts := fastOptions()
		opts.Now = clock.Now
		opts.Expiry = 10 * time.Second
		s, addr := startSystem(t, opts, "h1")
		s.Expect("h1", "secret")
		joinAndRun(t, addr, helloFor("h1", "secret"))
		joinedAt := clock.Now()
		clock.Advance(3 * time.Second)
		// Right after the clock moved, the last heartbeat is 3s old, unless
		// one landed at the new time already.
		switch ms := memberStatus(t, s, "h1"); {
		case ms.LastHeartbeat.Equal(joinedAt):
			if ms.ExpiresIn != 7*time.Second {
				t.Errorf("expires_in = %s three seconds after the last heartbeat, want 7s", ms.ExpiresIn)
			}
		case ms.LastHeartbeat.Equal(clock.Now()):
		default:
			t.Errorf("last heartbeat %s is neither the join time nor now", ms.LastHeartbeat)
		}
		// ...and the next heartbeat brings it back to the full expiry.
		waitFor(t, time.Second, "a heartbeat at the advanced clock", func() bool {
			return memberStatus(t, s, "h1").LastHeartbeat.Equal(joinedAt.Add(3 * time.Second))
		})
		if ms := memberStatus(t, s, "h1"); ms.ExpiresIn != 10*time.Second {
			t.Errorf("expires_in = %s, want 10s right after a heartbeat", ms.ExpiresIn)
		}
	})

	t.Run("frozen_member_is_lost_after_expiry_and_its_connection_closed", func(t *testing.T) {
		clock := newFakeClock()
		opts := fastOptions()
		opts.Now = clock.Now
		opts.Expiry = 10 * time.Second
		s, addr := startSystem(t, opts, "h1")
		s.Expect("h1", "secret")
		events, cancel := s.Subscribe(16)
		defer cancel()
		p := &rawPeer{t: t, c: dial(t, addr)}
		p.send(TypeHello, helloFor("h1", "secret"))
		p.mustRecv(TypeWelcome)
		// The peer answers nothing from now on.
		clock.Advance(9 * time.Second)
		time.Sleep(60 * time.Millisecond) // a few keeper rounds
		if ms := memberStatus(t, s, "h1"); ms.State != MemberJoined || ms.ExpiresIn != time.Second {
			t.Fatalf("before expiry: state %s, expires_in %s; want joined, 1s", ms.State, ms.ExpiresIn)
		}
		clock.Advance(2 * time.Second)
		ev := waitEvent(t, events, EventLost, "h1", time.Second)
		if !strings.Contains(ev.Detail, "no heartbeat for 11s") {
			t.Errorf("lost detail = %q", ev.Detail)
		}
		p.expectClosed(TypeHeartbeat)
		if ms := memberStatus(t, s, "h1"); ms.State != MemberLost || ms.ExpiresIn != 0 {
			t.Errorf("after expiry: state %s, expires_in %s; want lost, 0", ms.State, ms.ExpiresIn)
		}
		if err := s.Send("h1", "run-task", nil); !errors.Is(err, ErrDeadLetter) {
			t.Errorf("Send to a lost member = %v, want a dead letter", err)
		}
	})

	t.Run("closed_connection_marks_the_member_lost_at_once_and_it_can_rejoin", func(t *testing.T) {
		s, addr := startSystem(t, fastOptions(), "h1")
		s.Expect("h1", "secret")
		events, cancel := s.Subscribe(16)
		defer cancel()
		c := dial(t, addr)
		if _, err := Join(context.Background(), c, helloFor("h1", "secret")); err != nil {
			t.Fatal(err)
		}
		waitEvent(t, events, EventJoined, "h1", time.Second)
		c.Close()
		ev := waitEvent(t, events, EventLost, "h1", time.Second)
		if !strings.Contains(ev.Detail, "connection closed") {
			t.Errorf("lost detail = %q", ev.Detail)
		}
		joinAndRun(t, addr, helloFor("h1", "secret"))
		ev = waitEvent(t, events, EventJoined, "h1", time.Second)
		if !strings.Contains(ev.Detail, "rejoined after lost") {
			t.Errorf("joined detail = %q, want a rejoin", ev.Detail)
		}
		if ms := memberStatus(t, s, "h1"); ms.State != MemberJoined {
			t.Errorf("state = %s, want joined", ms.State)
		}
	})

	t.Run("silent_coordinator_ends_the_member_run_with_link_lost", func(t *testing.T) {
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
		coord.send(TypeWelcome, Welcome{Protocol: ProtocolVersion, Member: "h1", HeartbeatInterval: 10 * time.Millisecond, Expiry: 100 * time.Millisecond, Time: time.Now()})
		m := <-joined
		if m == nil {
			t.FailNow()
		}
		start := time.Now()
		err := m.Run(context.Background())
		if !errors.Is(err, ErrLinkLost) {
			t.Fatalf("Run = %v, want ErrLinkLost", err)
		}
		if took := time.Since(start); took < 90*time.Millisecond || took > 2*time.Second {
			t.Errorf("link lost after %s, want about the 100ms expiry", took)
		}
	})
}

func TestClockOffset(t *testing.T) {
	s, addr := startSystem(t, Options{HeartbeatInterval: 5 * time.Millisecond, Expiry: time.Second}, "h1")
	s.Expect("h1", "secret")
	const skew = 2 * time.Second
	r := joinAndRun(t, addr, helloFor("h1", "secret"), WithClock(func() time.Time { return time.Now().Add(skew) }))
	// Let a window of round trips come in both ways.
	time.Sleep(100 * time.Millisecond)
	ms := memberStatus(t, s, "h1")
	const tolerance = 3 * time.Millisecond
	if d := ms.ClockOffset - skew; d < -tolerance || d > tolerance {
		t.Errorf("coordinator's estimate of the member's clock offset = %s, want %s ± %s", ms.ClockOffset, skew, tolerance)
	}
	if ms.RTT <= 0 || ms.RTT > 50*time.Millisecond {
		t.Errorf("rtt = %s, want a loopback round trip", ms.RTT)
	}
	if d := r.m.ClockOffset() + skew; d < -tolerance || d > tolerance {
		t.Errorf("member's estimate of the coordinator's offset = %s, want %s ± %s", r.m.ClockOffset(), -skew, tolerance)
	}
	if r.m.RTT() <= 0 {
		t.Errorf("member rtt = %s, want > 0", r.m.RTT())
	}
	t.Logf("offset %s (error %s), rtt %s; member sees %s, rtt %s", ms.ClockOffset, ms.ClockOffset-skew, ms.RTT, r.m.ClockOffset(), r.m.RTT())
}

func TestStopMember(t *testing.T) {
	s, addr := startSystem(t, fastOptions(), "h1")
	s.Expect("h1", "secret")
	events, cancel := s.Subscribe(16)
	defer cancel()
	r := joinAndRun(t, addr, helloFor("h1", "secret"))
	var got []string
	r.m.Handle("run-task", func(body json.RawMessage) { got = append(got, string(body)) })
	if err := s.Send("h1", "run-task", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.StopMember(context.Background(), "h1", "rally down"); err != nil {
		t.Fatal(err)
	}
	if err := r.wait(t, 2*time.Second); !errors.Is(err, ErrStopped) {
		t.Fatalf("Run = %v, want ErrStopped", err)
	}
	// The message queued before stop was handled before Run returned.
	if len(got) != 1 || got[0] != "1" {
		t.Errorf("handled %v before stopping, want [1]", got)
	}
	ev := waitEvent(t, events, EventLeft, "h1", time.Second)
	if ev.Detail != "stopped" {
		t.Errorf("left detail = %q", ev.Detail)
	}
	if ms := memberStatus(t, s, "h1"); ms.State != MemberLeft {
		t.Errorf("state = %s, want left", ms.State)
	}
	if st := s.Status(); st.Sent[TypeStop] != 1 || st.Received[TypeStopped] != 1 {
		t.Errorf("sent stop %d, received stopped %d; want 1, 1", st.Sent[TypeStop], st.Received[TypeStopped])
	}
	if err := r.m.Send("late", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Run = %v, want ErrClosed", err)
	}
	if err := s.StopMember(context.Background(), "h1", "again"); err == nil {
		t.Error("StopMember of a member that left succeeded")
	}
}

func TestMessaging(t *testing.T) {
	t.Run("application_messages_flow_both_ways_and_are_counted_by_type", func(t *testing.T) {
		s, addr := startSystem(t, fastOptions(), "")
		s.Expect("h1", "a")
		s.Expect("h2", "b")
		type from struct{ name, body string }
		got := make(chan from, 8)
		s.Handle("task-done", func(name string, body json.RawMessage) { got <- from{name, string(body)} })
		r1 := joinAndRun(t, addr, helloFor("h1", "a"))
		r2 := joinAndRun(t, addr, helloFor("h2", "b"))
		for _, r := range []*running{r1, r2} {
			r := r
			r.m.Handle("run-task", func(body json.RawMessage) {
				var n int
				_ = json.Unmarshal(body, &n)
				if err := r.m.Send("task-done", n*10); err != nil {
					t.Error(err)
				}
			})
		}
		if err := s.Broadcast("run-task", 7); err != nil {
			t.Fatal(err)
		}
		if err := s.Send("h2", "run-task", 8); err != nil {
			t.Fatal(err)
		}
		seen := map[from]bool{}
		for range 3 {
			select {
			case f := <-got:
				seen[f] = true
			case <-time.After(2 * time.Second):
				t.Fatalf("got %v, want three answers", seen)
			}
		}
		for _, want := range []from{{"h1", "70"}, {"h2", "70"}, {"h2", "80"}} {
			if !seen[want] {
				t.Errorf("no task-done %v; got %v", want, seen)
			}
		}
		st := s.Status()
		if st.Sent["run-task"] != 3 || st.Received["task-done"] != 3 || st.Sent[TypeWelcome] != 2 || st.Received[TypeHello] != 2 {
			t.Errorf("sent %v, received %v", st.Sent, st.Received)
		}
		waitFor(t, time.Second, "the coordinator actor to count its messages", func() bool {
			a := s.Status().Actors[0]
			return a.Name == CoordinatorName && a.Received == 3 && a.Sent == 3
		})
		var names []string
		for _, a := range s.Status().Actors {
			names = append(names, a.Name)
		}
		if strings.Join(names, ",") != "coordinator,member/h1,inbox/h1,member/h2,inbox/h2" {
			t.Errorf("actors = %v", names)
		}
		if ms := memberStatus(t, s, "h2"); ms.MessagesIn < 2 || ms.MessagesOut < 3 || ms.BytesIn <= 0 || ms.BytesOut <= 0 {
			t.Errorf("h2 counters = %+v", ms)
		}
		if st.BytesIn <= 0 || st.BytesOut <= 0 {
			t.Errorf("bytes in %d out %d", st.BytesIn, st.BytesOut)
		}
	})

	t.Run("member_answers_unknown_types_with_an_error", func(t *testing.T) {
		s, addr := startSystem(t, fastOptions(), "h1")
		s.Expect("h1", "secret")
		events, cancel := s.Subscribe(16)
		defer cancel()
		joinAndRun(t, addr, helloFor("h1", "secret"))
		if err := s.Send("h1", "no-such-type", nil); err != nil {
			t.Fatal(err)
		}
		ev := waitEvent(t, events, EventMessage, "h1", time.Second)
		if ev.Type != TypeError || !strings.Contains(ev.Detail, "unknown-type") {
			t.Errorf("event = %+v, want the member's unknown-type error", ev)
		}
	})
}

func TestDeadLetters(t *testing.T) {
	t.Run("send_to_an_unknown_or_unjoined_member_is_a_dead_letter", func(t *testing.T) {
		s, _ := startSystem(t, fastOptions(), "")
		s.Expect("h2", "x")
		for _, to := range []string{"nobody", "h2"} {
			if err := s.Send(to, "run-task", 1); !errors.Is(err, ErrDeadLetter) {
				t.Errorf("Send to %s = %v, want ErrDeadLetter", to, err)
			}
		}
		if st := s.Status(); st.DeadLetters != 2 {
			t.Errorf("dead letters = %d, want 2", st.DeadLetters)
		}
	})

	t.Run("full_outbox_drops_without_blocking_and_counts", func(t *testing.T) {
		opts := fastOptions()
		opts.Mailbox = 4
		opts.HeartbeatInterval = time.Hour // no heartbeats in the outbox
		opts.Expiry = 2 * time.Hour
		s := NewSystem(opts)
		defer s.Close()
		s.Expect("h1", "secret")
		a, b := net.Pipe()
		defer b.Close()
		go s.ServeConn(context.Background(), a, "h1")
		// A member that joins and then never reads: net.Pipe has no
		// buffer, so the coordinator's writer blocks on the first write.
		if _, err := Join(context.Background(), b, helloFor("h1", "secret")); err != nil {
			t.Fatal(err)
		}
		// The writer takes the first message and blocks writing it.
		if err := s.Send("h1", "metrics", 0); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Second, "the writer to take the first message", func() bool { return s.Status().Pending == 0 })
		// The writer may still take a few more into its buffer before it
		// blocks on the pipe: send until the outbox refuses one, then
		// every further send must be refused at once.
		refused := 0
		fill := func() {
			t.Helper()
			for accepted := 0; ; accepted++ {
				if accepted == 100 {
					t.Fatal("100 sends to a peer that never reads were all accepted")
				}
				if err := s.Send("h1", "metrics", 1); errors.Is(err, ErrMailboxFull) {
					refused++
					return
				} else if err != nil {
					t.Fatal(err)
				}
			}
		}
		fill()
		// The writer may have taken a message more just after the refusal
		// (it had not blocked yet): once the outbox stops draining, fill
		// what it freed.
		waitFor(t, time.Second, "the writer to block", func() bool {
			before := s.Status().Pending
			time.Sleep(20 * time.Millisecond)
			return s.Status().Pending == before
		})
		fill()
		start := time.Now()
		full := 1
		for range 5 {
			if err := s.Send("h1", "metrics", 1); errors.Is(err, ErrMailboxFull) {
				full++
				refused++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if took := time.Since(start); took > 100*time.Millisecond {
			t.Errorf("sends took %s with a stuck peer, want no blocking", took)
		}
		st := s.Status()
		// Four wait in the outbox; everything refused is counted.
		if full != 6 || st.MailboxFull != int64(refused) || st.DeadLetters != int64(refused) || st.Pending != 4 {
			t.Errorf("full %d, status mailbox_full %d dead_letters %d pending %d; want 6, %d, %d, 4", full, st.MailboxFull, st.DeadLetters, st.Pending, refused, refused)
		}
		if a := st.Actors[1]; a.Name != "member/h1" || a.Mailbox != 4 {
			t.Errorf("actor = %+v, want member/h1 with 4 in its mailbox", a)
		}
	})
}

func TestSubscribe(t *testing.T) {
	t.Run("slow_subscriber_loses_events_and_never_blocks", func(t *testing.T) {
		s, addr := startSystem(t, fastOptions(), "")
		s.Expect("h1", "secret")
		slow, cancel := s.Subscribe(0)
		defer cancel()
		joinAndRun(t, addr, helloFor("h1", "secret"))
		if err := s.WaitMembers(context.Background(), "h1"); err != nil {
			t.Fatal(err)
		}
		if st := s.Status(); st.EventsDropped < 1 {
			t.Errorf("events dropped = %d, want ≥ 1", st.EventsDropped)
		}
		select {
		case ev := <-slow:
			t.Errorf("unbuffered subscriber that was not reading got %+v", ev)
		default:
		}
	})

	t.Run("close_ends_subscriptions_and_waits", func(t *testing.T) {
		s := NewSystem(fastOptions())
		ch, cancel := s.Subscribe(1)
		defer cancel()
		s.Close()
		if _, ok := <-ch; ok {
			t.Error("subscription still open after Close")
		}
		if err := s.WaitMembers(context.Background(), "h1"); !errors.Is(err, ErrClosed) {
			t.Errorf("WaitMembers after Close = %v, want ErrClosed", err)
		}
	})
}

func TestWaitMembers(t *testing.T) {
	s, addr := startSystem(t, fastOptions(), "")
	s.Expect("h1", "a")
	s.Expect("h2", "b")
	joinAndRun(t, addr, helloFor("h1", "a"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.WaitMembers(ctx, "h1", "h2")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "h2") || strings.Contains(err.Error(), "h1") {
		t.Errorf("WaitMembers = %v, want a timeout naming h2 only", err)
	}
}

func TestCloseEndsMembers(t *testing.T) {
	s := NewSystem(fastOptions())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background(), l, "h1") }()
	s.Expect("h1", "secret")
	r := joinAndRun(t, l.Addr().String(), helloFor("h1", "secret"))
	s.Close()
	if err := <-served; err != nil {
		t.Errorf("Serve = %v after Close, want nil", err)
	}
	if err := r.wait(t, 2*time.Second); err == nil || errors.Is(err, ErrStopped) {
		t.Errorf("member Run = %v after the coordinator closed, want a link error", err)
	}
}
