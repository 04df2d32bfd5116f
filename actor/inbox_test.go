package actor

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSlowHandlerDelaysNoHeartbeat: a coordinator handler that sleeps for
// 20 s, twice the expiry, holds up only the messages of the member it is
// handling. Both members stay joined with fresh heartbeats, the other
// member's messages are handled at once, and the busy member's surplus is
// counted as overflow instead of blocking its read loop. It takes the full
// 20 s on purpose.
func TestSlowHandlerDelaysNoHeartbeat(t *testing.T) {
	t.Parallel()
	const (
		sleep    = 20 * time.Second
		interval = time.Second
		maxAge   = 3 * interval
		prompt   = 2 * time.Second
	)
	opts := Options{HeartbeatInterval: interval, Mailbox: 8} // default 10 s expiry
	s, addr := startSystem(t, opts, "")
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // before the system's Close, which waits for handlers
	s.Expect("h1", "a")
	s.Expect("h2", "b")
	slowStarted := make(chan struct{})
	s.Handle("slow", func(string, json.RawMessage) {
		close(slowStarted)
		select {
		case <-time.After(sleep):
		case <-release:
		}
	})
	var mu sync.Mutex
	var worstB time.Duration
	var handledB atomic.Int64
	s.Handle("tick", func(from string, body json.RawMessage) {
		if from != "h2" {
			return
		}
		var sent time.Time
		if err := json.Unmarshal(body, &sent); err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		worstB = max(worstB, time.Since(sent))
		mu.Unlock()
		handledB.Add(1)
	})
	a := joinAndRun(t, addr, helloFor("h1", "a"))
	b := joinAndRun(t, addr, helloFor("h2", "b"))
	if err := s.WaitMembers(context.Background(), "h1", "h2"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sleep)
	defer cancel()
	if err := a.m.SendReliable(ctx, "slow", nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-slowStarted:
	case <-time.After(prompt):
		t.Fatal("the slow handler did not start")
	}

	// Both members keep talking: h1 with plain messages, which its full
	// inbox drops, h2 reliably.
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, r := range []*running{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case now := <-tick.C:
					var err error
					if r == a {
						err = r.m.Send("tick", now)
					} else {
						err = r.m.SendReliable(ctx, "tick", now)
					}
					if err != nil && ctx.Err() == nil {
						t.Errorf("send tick: %v", err)
					}
				}
			}
		}()
	}

	sample := time.NewTicker(100 * time.Millisecond)
	defer sample.Stop()
	samples, deepest := 0, 0
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
			continue
		case <-sample.C:
		}
		samples++
		st := s.Status()
		now := s.now()
		for _, ms := range st.Members {
			if ms.State != MemberJoined {
				t.Fatalf("after %d samples %s is %s, want joined", samples, ms.Name, ms.State)
			}
			if age := now.Sub(ms.LastHeartbeat); age > maxAge {
				t.Fatalf("after %d samples the last heartbeat of %s is %s old, want under %s", samples, ms.Name, age, maxAge)
			}
		}
		for _, ac := range st.Actors {
			if ac.Name == "inbox/h1" {
				deepest = max(deepest, ac.Mailbox)
			}
		}
	}
	wg.Wait()

	mu.Lock()
	worst := worstB
	mu.Unlock()
	if n := handledB.Load(); n < int64(sleep/(200*time.Millisecond)) || worst > prompt {
		t.Errorf("h2 had %d ticks handled, the slowest after %s; want about %d, each within %s", n, worst, sleep/(100*time.Millisecond), prompt)
	}
	st := s.Status()
	h1 := memberStatus(t, s, "h1")
	if h1.Overflow == 0 || st.Overflow != h1.Overflow {
		t.Errorf("overflow of h1 %d, total %d; want h1's surplus counted", h1.Overflow, st.Overflow)
	}
	if deepest != opts.Mailbox {
		t.Errorf("inbox/h1 held at most %d messages, want a full %d behind the slow handler", deepest, opts.Mailbox)
	}
	waitFor(t, prompt, "every reliable message acknowledged", func() bool { return a.m.Unacked() == 0 && b.m.Unacked() == 0 })
	t.Logf("%d samples; h2: %d ticks, slowest %s; h1 overflow %d", samples, handledB.Load(), worst, h1.Overflow)
}
