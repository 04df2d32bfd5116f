package tui

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"

	"rally/control"
)

// errStreamClosed is what the pump reports when the coordinator ends the
// event stream without an error.
var errStreamClosed = errors.New("the coordinator closed the event stream")

// Pump defaults: at most this many events per message, and at most one
// message per frame at 30 frames a second. A burst of 1000 events a second
// thus costs about 30 renders, not 1000.
const (
	pumpBuffer   = 4096
	pumpMaxBatch = 4096
	pumpInterval = time.Second / 30
)

// pumpItem is one thing the stream goroutine hands to the UI loop: an
// event, or the error that ended a stream.
type pumpItem struct {
	ev  control.Event
	err error
}

// eventsMsg carries the items that arrived since the previous one.
type eventsMsg struct{ items []pumpItem }

// eventPump moves events from Source.Events (which blocks) to the UI loop
// (which must not): a goroutine feeds a channel, and a command drains it.
type eventPump struct {
	ch       chan pumpItem
	interval time.Duration // least time between two batches
	maxBatch int
	// last is when the previous batch was handed out. Only the next
	// command touches it, and there is one such command at a time: the
	// UI loop issues the next one after handling the previous batch.
	last time.Time
}

func newEventPump() *eventPump {
	return &eventPump{ch: make(chan pumpItem, pumpBuffer), interval: pumpInterval, maxBatch: pumpMaxBatch}
}

// run streams events until ctx ends. A stream that ends is reported and
// opened again after a pause (0.5 s doubling up to 5 s; back to 0.5 s once
// a stream delivered something).
func (p *eventPump) run(ctx context.Context, src Source) {
	const minBackoff, maxBackoff = 500 * time.Millisecond, 5 * time.Second
	backoff := minBackoff
	for {
		got := false
		err := src.Events(ctx, func(ev control.Event) {
			got = true
			select {
			case p.ch <- pumpItem{ev: ev}:
			case <-ctx.Done():
			}
		})
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errStreamClosed
		}
		select {
		case p.ch <- pumpItem{err: err}:
		case <-ctx.Done():
			return
		}
		if got {
			backoff = minBackoff
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// next returns the command that waits for the next batch: it blocks for a
// first item, waits out the rest of the frame interval, then takes what
// else is queued (up to maxBatch) without blocking. It returns nil once
// ctx ends.
func (p *eventPump) next(ctx context.Context) tea.Cmd {
	return func() tea.Msg {
		var first pumpItem
		select {
		case first = <-p.ch:
		case <-ctx.Done():
			return nil
		}
		if wait := p.interval - time.Since(p.last); wait > 0 && !p.last.IsZero() {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil
			}
		}
		items := make([]pumpItem, 1, min(len(p.ch)+1, p.maxBatch))
		items[0] = first
	drain:
		for len(items) < p.maxBatch {
			select {
			case it := <-p.ch:
				items = append(items, it)
			default:
				break drain
			}
		}
		p.last = time.Now()
		return eventsMsg{items: items}
	}
}
