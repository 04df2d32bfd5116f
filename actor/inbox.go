package actor

import "encoding/json"

// inbound is an application message waiting for the coordinator's handler.
type inbound struct {
	from string
	typ  string
	body json.RawMessage
	fn   func(from string, body json.RawMessage)
}

// inbox is one member's queue of application messages on the coordinator
// ("inbox/<name>" in the status), with the dispatcher goroutine that runs
// their handlers. Each session has its own: the read loop offers messages
// without ever blocking, so a slow handler can delay only the messages of
// the member it is handling, never anyone's heartbeats.
type inbox struct {
	q chan inbound
	// after is closed when the previous session's dispatcher of the same
	// member has finished: a member that rejoins gets its handlers run in
	// order, one at a time, across connections too.
	after <-chan struct{}
	done  chan struct{}
}

func newInbox(capacity int, after <-chan struct{}) *inbox {
	return &inbox{q: make(chan inbound, capacity), after: after, done: make(chan struct{})}
}

// offer queues msg without blocking; false means the queue is full.
func (in *inbox) offer(msg inbound) bool {
	select {
	case in.q <- msg:
		return true
	default:
		return false
	}
}

// close tells the dispatcher that no more messages come; it runs what is
// queued, then ends. Only the session's read loop offers, and it has
// returned by then.
func (in *inbox) close() { close(in.q) }

// depth is the number of messages waiting.
func (in *inbox) depth() int { return len(in.q) }

// dispatch runs m's handlers one at a time, in arrival order, until the
// session's inbox is closed and empty. Every message it was given is
// handled, acknowledged or not: an ack promised that.
func (s *System) dispatch(m *member, in *inbox) {
	defer s.wg.Done()
	defer close(in.done)
	if in.after != nil {
		<-in.after
	}
	for msg := range in.q {
		msg.fn(msg.from, msg.body)
		m.handled.Add(1)
		s.stats.appReceived.Add(1)
	}
}
