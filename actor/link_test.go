package actor

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHeartbeatsPassAFullOutbox: the coordinator keeps a slow member's
// outbox full of application frames; its heartbeats still go out, every
// one of them (their seqs have no gap), because protocol frames wait in
// their own queue and are written first.
func TestHeartbeatsPassAFullOutbox(t *testing.T) {
	opts := fastOptions()
	opts.Mailbox = 4
	opts.HeartbeatInterval = 10 * time.Millisecond
	opts.Expiry = 10 * time.Second // the raw member sends no heartbeats
	s := NewSystem(opts)
	defer s.Close()
	s.Expect("h1", "secret")
	a, b := net.Pipe()
	defer b.Close()
	go s.ServeConn(context.Background(), a, "h1")
	p := &rawPeer{t: t, c: b}
	p.send(TypeHello, helloFor("h1", "secret"))
	p.mustRecv(TypeWelcome)

	const runFor = time.Second
	deadline := time.Now().Add(runFor)
	payload := strings.Repeat("x", 1024)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 1_000_000 && time.Now().Before(deadline); i++ {
			if err := s.Send("h1", "metrics", payload); err != nil && !errors.Is(err, ErrMailboxFull) {
				t.Errorf("send: %v", err)
				return
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()

	// A reader that takes a millisecond per application frame, far slower
	// than the producer.
	var seqs []uint64
	var buf []byte
	for time.Now().Before(deadline) {
		_ = b.SetReadDeadline(time.Now().Add(2 * time.Second))
		payload, err := ReadFrame(b, buf)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		env, err := DecodeEnvelope(payload)
		if err != nil {
			t.Fatal(err)
		}
		switch env.Type {
		case TypeHeartbeat:
			seqs = append(seqs, decodeAs[Heartbeat](t, env).Seq)
		case "metrics":
			time.Sleep(time.Millisecond)
		}
	}
	wg.Wait()

	st := s.Status()
	if st.MailboxFull == 0 {
		t.Fatalf("the outbox was never full (mailbox_full 0): the test proves nothing")
	}
	if want := int(runFor / opts.HeartbeatInterval / 4); len(seqs) < want {
		t.Errorf("%d heartbeats in %s, want at least %d", len(seqs), runFor, want)
	}
	for i, seq := range seqs {
		if seq != uint64(i+1) {
			t.Fatalf("heartbeat %d has seq %d: heartbeats were dropped (seqs %v)", i+1, seq, seqs)
		}
	}
	t.Logf("%d heartbeats, %d application frames dropped by the full outbox", len(seqs), st.MailboxFull)
}

// TestPriorityQueue checks the link's queue of protocol frames on its own.
func TestPriorityQueue(t *testing.T) {
	t.Run("acks_coalesce_and_follow_the_queued_frames", func(t *testing.T) {
		l := newLink(nil, 4, time.Second)
		l.enqueuePriority(TypeHeartbeat, Heartbeat{Seq: 1})
		l.ack(3)
		l.ack(7)
		got := l.takePriority(nil, false)
		if len(got) != 2 || got[0].typ != TypeHeartbeat || got[1].typ != TypeAck || string(got[1].body) != `{"seq":7}` {
			t.Errorf("taken %v, want the heartbeat then one ack of 7", got)
		}
		if got := l.takePriority(nil, false); len(got) != 0 {
			t.Errorf("taken again %v, want nothing", got)
		}
	})

	t.Run("errors_cannot_crowd_out_heartbeats", func(t *testing.T) {
		l := newLink(nil, 4, time.Second)
		var errorsQueued int
		for range priorityCapacity {
			if l.enqueuePriority(TypeError, ErrorBody{Code: ErrorMalformed}) {
				errorsQueued++
			}
		}
		if errorsQueued != priorityCapacity/2 {
			t.Errorf("%d errors queued, want %d", errorsQueued, priorityCapacity/2)
		}
		if !l.enqueuePriority(TypeHeartbeat, Heartbeat{Seq: 1}) {
			t.Error("a heartbeat was refused behind a queue of errors")
		}
	})

	t.Run("the_final_frame_comes_only_when_draining", func(t *testing.T) {
		l := newLink(nil, 4, time.Second)
		l.setFinal(TypeStopped, Stopped{})
		if got := l.takePriority(nil, false); len(got) != 0 {
			t.Errorf("taken %v before draining, want nothing", got)
		}
		if got := l.takePriority(nil, true); len(got) != 1 || got[0].typ != TypeStopped {
			t.Errorf("taken %v when draining, want stopped", got)
		}
	})
}
