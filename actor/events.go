package actor

import (
	"sync"
	"sync/atomic"
	"time"
)

// Event kinds.
const (
	EventJoined   = "joined"   // a member joined or rejoined
	EventLost     = "lost"     // a member's heartbeat expired or its connection dropped
	EventLeft     = "left"     // a member answered stop, or closed after being asked to
	EventRejected = "rejected" // a connection was refused (Member is the name it claimed)
	EventMessage  = "message"  // an application message or an error frame arrived
)

// Event is something that happened in the actor system, for subscribers.
type Event struct {
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`
	Member string    `json:"member,omitempty"`
	Type   string    `json:"type,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// broadcaster fans events out to subscribers without ever blocking the
// publisher: a subscriber whose buffer is full loses the event.
type broadcaster struct {
	mu      sync.Mutex
	subs    map[int]chan Event
	next    int
	closed  bool
	dropped atomic.Int64
}

func (b *broadcaster) subscribe(buffer int) (<-chan Event, func()) {
	if buffer < 0 {
		buffer = 0
	}
	ch := make(chan Event, buffer)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch, func() {}
	}
	if b.subs == nil {
		b.subs = make(map[int]chan Event)
	}
	id := b.next
	b.next++
	b.subs[id] = ch
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if c, ok := b.subs[id]; ok {
			delete(b.subs, id)
			close(c)
		}
	}
}

func (b *broadcaster) publish(evs ...Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ev := range evs {
		for _, ch := range b.subs {
			select {
			case ch <- ev:
			default:
				b.dropped.Add(1)
			}
		}
	}
}

func (b *broadcaster) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for id, ch := range b.subs {
		delete(b.subs, id)
		close(ch)
	}
}
