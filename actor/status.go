package actor

import (
	"encoding/json"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Status is a Thespian-like snapshot of the actor system. Its JSON form is
// what `rally status --json` prints: field names are stable snake_case,
// durations appear as integer nanoseconds (`*_ns`) and, for people, as
// float milliseconds (`*_ms`).
type Status struct {
	Leader  LeaderStatus   `json:"leader"`
	Members []MemberStatus `json:"members"`
	Actors  []ActorStatus  `json:"actors"`
	// Received and Sent count frames by message type, protocol types
	// included. Types nobody handles are counted in UnknownType instead.
	Received map[string]int64 `json:"received"`
	Sent     map[string]int64 `json:"sent"`
	// Pending is the number of messages queued but not yet written, across
	// all members' outboxes.
	Pending int `json:"pending"`
	// DeadLetters counts messages that could not be delivered: to an
	// unknown, lost or gone member, or dropped by a full outbox.
	DeadLetters int64 `json:"dead_letters"`
	// MailboxFull counts the dead letters dropped by a full outbox, and
	// heartbeats or heartbeat acks that a full priority queue refused
	// (which only a writer stuck for a long while can cause).
	MailboxFull int64 `json:"mailbox_full"`
	// Overflow, Duplicates and OutOfOrder are the members' counts summed
	// (see MemberStatus).
	Overflow   int64 `json:"overflow"`
	Duplicates int64 `json:"duplicates"`
	OutOfOrder int64 `json:"out_of_order"`
	// Rejected counts connections refused before joining.
	Rejected int64 `json:"rejected"`
	// Malformed counts frames that were not valid envelopes or bodies.
	Malformed int64 `json:"malformed"`
	// UnknownType counts frames of a type nobody handles, or that a joined
	// member may not send.
	UnknownType int64 `json:"unknown_type"`
	// EventsDropped counts events lost by subscribers that fell behind.
	EventsDropped int64 `json:"events_dropped"`
	BytesIn       int64 `json:"bytes_in"`
	BytesOut      int64 `json:"bytes_out"`
}

// LeaderStatus describes the coordinator itself.
type LeaderStatus struct {
	Address           string        `json:"address"`
	Version           string        `json:"version"`
	Build             string        `json:"build"`
	Started           time.Time     `json:"started"`
	HeartbeatInterval time.Duration `json:"heartbeat_interval_ns"`
	Expiry            time.Duration `json:"expiry_ns"`
}

// MarshalJSON adds the durations in milliseconds.
func (l LeaderStatus) MarshalJSON() ([]byte, error) {
	type plain LeaderStatus
	return json.Marshal(struct {
		plain
		HeartbeatIntervalMS float64 `json:"heartbeat_interval_ms"`
		ExpiryMS            float64 `json:"expiry_ms"`
	}{plain(l), millis(l.HeartbeatInterval), millis(l.Expiry)})
}

// MemberStatus is one member as the coordinator sees it.
type MemberStatus struct {
	Name string `json:"name"`
	// Via is the host whose tunnel the member's connection came through.
	Via string `json:"via"`
	// State is one of MemberExpected, MemberJoined, MemberLost, MemberLeft.
	State         string    `json:"state"`
	Facts         HostFacts `json:"facts"`
	PID           int       `json:"pid"`
	Build         string    `json:"build"`
	Version       string    `json:"version"`
	Joined        time.Time `json:"joined,omitzero"`
	LastHeartbeat time.Time `json:"last_heartbeat,omitzero"`
	// ExpiresIn is how long until the member is marked lost without another
	// heartbeat; zero unless joined.
	ExpiresIn time.Duration `json:"expires_in_ns"`
	// RTT is the least heartbeat round trip of the recent window.
	RTT time.Duration `json:"rtt_ns"`
	// ClockOffset is the member's clock minus the coordinator's, estimated
	// from the same round trip as RTT (NTP style); its error is at most
	// RTT/2.
	ClockOffset time.Duration `json:"clock_offset_ns"`
	BytesIn     int64         `json:"bytes_in"`
	BytesOut    int64         `json:"bytes_out"`
	MessagesIn  int64         `json:"messages_in"`
	MessagesOut int64         `json:"messages_out"`
	// Overflow counts the member's application messages its full inbox
	// refused: plain ones are lost, reliable ones come again.
	Overflow int64 `json:"overflow"`
	// Duplicates counts reliable messages that arrived again after being
	// accepted (a resend that crossed its ack); they are dropped.
	Duplicates int64 `json:"duplicates"`
	// OutOfOrder counts reliable messages dropped because one before them
	// was missing; the member resends from the gap.
	OutOfOrder int64 `json:"out_of_order"`
}

// MarshalJSON adds the durations in milliseconds.
func (m MemberStatus) MarshalJSON() ([]byte, error) {
	type plain MemberStatus
	return json.Marshal(struct {
		plain
		ExpiresInMS   float64 `json:"expires_in_ms"`
		RTTMS         float64 `json:"rtt_ms"`
		ClockOffsetMS float64 `json:"clock_offset_ms"`
	}{plain(m), millis(m.ExpiresIn), millis(m.RTT), millis(m.ClockOffset)})
}

// ActorStatus is one goroutine with a mailbox: "coordinator" (all members'
// application messages and their handlers, summed), "member/<name>" (the
// member's connection and outbox) or "inbox/<name>" (the member's queue of
// application messages on the coordinator and the dispatcher that runs
// their handlers; Received counts the messages handled).
type ActorStatus struct {
	Name string `json:"name"`
	// Mailbox is the number of messages waiting now.
	Mailbox  int   `json:"mailbox"`
	Received int64 `json:"received"`
	Sent     int64 `json:"sent"`
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// systemStats are the system-wide counters.
type systemStats struct {
	deadLetters, mailboxFull, rejected, malformed, unknownType atomic.Int64
	overflow, duplicates, outOfOrder                           atomic.Int64
	bytesIn, bytesOut                                          atomic.Int64
	appReceived, appSent                                       atomic.Int64

	mu             sync.Mutex
	received, sent map[string]int64
}

func (st *systemStats) countReceived(typ string) {
	st.mu.Lock()
	st.received[typ]++
	st.mu.Unlock()
}

func (st *systemStats) countSent(typ string) {
	st.mu.Lock()
	st.sent[typ]++
	st.mu.Unlock()
}

// Status returns a snapshot of the system.
func (s *System) Status() Status {
	now := s.now()
	st := Status{
		Leader: LeaderStatus{
			Address:           s.opts.Address,
			Version:           s.opts.Version,
			Build:             s.opts.Build,
			Started:           s.started,
			HeartbeatInterval: s.opts.HeartbeatInterval,
			Expiry:            s.opts.Expiry,
		},
		Members:       []MemberStatus{},
		DeadLetters:   s.stats.deadLetters.Load(),
		MailboxFull:   s.stats.mailboxFull.Load(),
		Rejected:      s.stats.rejected.Load(),
		Malformed:     s.stats.malformed.Load(),
		UnknownType:   s.stats.unknownType.Load(),
		Overflow:      s.stats.overflow.Load(),
		Duplicates:    s.stats.duplicates.Load(),
		OutOfOrder:    s.stats.outOfOrder.Load(),
		EventsDropped: s.events.dropped.Load(),
		BytesIn:       s.stats.bytesIn.Load(),
		BytesOut:      s.stats.bytesOut.Load(),
	}
	st.Actors = []ActorStatus{{
		Name:     CoordinatorName,
		Received: s.stats.appReceived.Load(),
		Sent:     s.stats.appSent.Load(),
	}}

	s.mu.Lock()
	names := make([]string, 0, len(s.members))
	for name := range s.members {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		m := s.members[name]
		ms := MemberStatus{
			Name:          m.name,
			Via:           m.via,
			State:         m.state,
			Facts:         m.facts,
			PID:           m.pid,
			Build:         m.build,
			Version:       m.version,
			Joined:        m.joined,
			LastHeartbeat: m.lastHB,
			BytesIn:       m.bytesIn.Load(),
			BytesOut:      m.bytesOut.Load(),
			MessagesIn:    m.msgsIn.Load(),
			MessagesOut:   m.msgsOut.Load(),
			Overflow:      m.overflow.Load(),
			Duplicates:    m.duplicates.Load(),
			OutOfOrder:    m.outOfOrder.Load(),
		}
		if m.state == MemberJoined {
			ms.ExpiresIn = max(s.opts.Expiry-now.Sub(m.lastHB), 0)
		}
		if best, ok := m.clock.best(); ok {
			ms.RTT, ms.ClockOffset = best.rtt, best.offset
		} else {
			// Until our own round trips come back, the member's view:
			// it measured coordinator minus member.
			ms.RTT, ms.ClockOffset = m.peerRTT, -m.peerSkew
		}
		st.Members = append(st.Members, ms)
		if m.state == MemberExpected {
			continue
		}
		as := ActorStatus{Name: "member/" + m.name, Received: ms.MessagesIn, Sent: ms.MessagesOut}
		if m.sess != nil {
			as.Mailbox = m.sess.l.pending()
			st.Pending += as.Mailbox
		}
		st.Actors = append(st.Actors, as)
		if m.inbox != nil {
			in := ActorStatus{Name: "inbox/" + m.name, Mailbox: m.inbox.depth(), Received: m.handled.Load()}
			st.Actors[0].Mailbox += in.Mailbox
			st.Actors = append(st.Actors, in)
		}
	}
	s.mu.Unlock()

	s.stats.mu.Lock()
	st.Received = make(map[string]int64, len(s.stats.received))
	for k, v := range s.stats.received {
		st.Received[k] = v
	}
	st.Sent = make(map[string]int64, len(s.stats.sent))
	for k, v := range s.stats.sent {
		st.Sent[k] = v
	}
	s.stats.mu.Unlock()
	return st
}
