package tui

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"rally/control"
)

func TestPump(t *testing.T) {
	t.Run("a_burst_arrives_as_one_batch", func(t *testing.T) {
		p := newEventPump()
		for i := range 1000 {
			p.ch <- pumpItem{ev: control.Event{Kind: control.EventLog, Text: string(rune('a' + i%26))}}
		}
		msg := p.next(context.Background())().(eventsMsg)
		if len(msg.items) != 1000 {
			t.Fatalf("batch of %d events, want all 1000", len(msg.items))
		}
		if msg.items[0].ev.Text != "a" || msg.items[999].ev.Text != string(rune('a'+999%26)) {
			t.Error("batch is out of order")
		}
	})

	t.Run("a_batch_is_bounded", func(t *testing.T) {
		p := newEventPump()
		p.maxBatch = 10
		for range 25 {
			p.ch <- pumpItem{}
		}
		p.interval = 0
		var sizes []int
		for range 3 {
			sizes = append(sizes, len(p.next(context.Background())().(eventsMsg).items))
		}
		if sizes[0] != 10 || sizes[1] != 10 || sizes[2] != 5 {
			t.Errorf("batch sizes %v, want [10 10 5]", sizes)
		}
	})

	t.Run("batches_are_at_least_a_frame_apart", func(t *testing.T) {
		p := newEventPump()
		p.interval = 50 * time.Millisecond
		p.ch <- pumpItem{}
		p.next(context.Background())()
		p.ch <- pumpItem{}
		start := time.Now()
		p.next(context.Background())()
		if d := time.Since(start); d < 40*time.Millisecond {
			t.Errorf("second batch after %s, want about the 50ms interval", d)
		}
	})

	t.Run("next_gives_nil_once_the_context_ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if msg := newEventPump().next(ctx)(); msg != nil {
			t.Errorf("got %#v, want nil", msg)
		}
	})

	t.Run("a_broken_stream_is_reported_and_reopened", func(t *testing.T) {
		p := newEventPump()
		src := &flakySource{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			p.run(ctx, src)
		}()
		want := []string{"ev 1", "err", "ev 2", "err"}
		for i, w := range want {
			select {
			case it := <-p.ch:
				got := "ev " + it.ev.Text
				if it.err != nil {
					got = "err"
				}
				if got != w {
					t.Fatalf("item %d is %q, want %q", i, got, w)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("item %d (%q) never came", i, w)
			}
		}
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the stream goroutine does not stop when its context ends")
		}
	})
}

// flakySource sends one event per Events call, then fails.
type flakySource struct {
	fakeSource
	calls atomic.Int32
}

func (f *flakySource) Events(ctx context.Context, fn func(control.Event)) error {
	n := f.calls.Add(1)
	fn(control.Event{Kind: control.EventLog, Text: string(rune('0' + n))})
	return errors.New("connection reset")
}

func TestModelStreamsEvents(t *testing.T) {
	src := newFakeSource()
	m := New(src, Options{NoColor: true, Now: fixedNow})
	cmds := m.Init()
	if cmds == nil {
		t.Fatal("Init gives no command")
	}
	// Run the pump's command by hand: it must hand over the fixture
	// events in one batch, and Update must ask for the next batch.
	msg := m.pump.next(m.ctx)()
	batch, ok := msg.(eventsMsg)
	if !ok {
		t.Fatalf("pump gave %T", msg)
	}
	for len(batch.items) < len(src.events) {
		more := m.pump.next(m.ctx)().(eventsMsg)
		batch.items = append(batch.items, more.items...)
	}
	if next := send(m, batch); next == nil {
		t.Error("Update does not ask for the next batch")
	}
	if len(m.cluster.hosts) != 3 || m.logs.count() == 0 || m.status.Phase != control.ClusterUp {
		t.Errorf("events not applied: %d hosts, %d log lines, phase %q", len(m.cluster.hosts), m.logs.count(), m.status.Phase)
	}
	m.Close() // must return: the goroutine ends with the context
}
