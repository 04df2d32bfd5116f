// Package actor is the messaging between the coordinator and its workers:
// length-prefixed JSON frames (see wire.go), the protocol's message types,
// the coordinator's System (admission of members by token, heartbeats both
// ways, loss detection, RTT and clock-offset estimates, routing, dead
// letters and a Thespian-like Status) and the Member used by workers.
//
// The topology is a star: every worker holds one connection to the
// coordinator (in practice through an SSH reverse tunnel, which this
// package never sees: it only gets a net.Conn and the name of the tunnel it
// came through). There is no actor framework; the actors are goroutines
// with bounded mailboxes:
//
//   - per connection, a reader goroutine and a writer goroutine. The writer
//     drains two queues: a small priority queue of protocol frames
//     (welcome, heartbeats, heartbeat acks, acks, errors) and the outbox of
//     application frames ("member/<name>" in the status), and writes the
//     protocol frames first, again before every application frame, so
//     that a full outbox neither drops nor delays a heartbeat. Acks replace
//     each other in the priority queue, since only the latest counts. The
//     stop request travels in the outbox, behind what was sent before it,
//     and the member's stopped answer is its very last frame.
//   - on the coordinator, per member, an inbox of application messages
//     ("inbox/<name>") and a dispatcher that runs that member's handlers
//     one at a time, in arrival order. The reader only ever offers a
//     message to the inbox: a full inbox drops it and counts an overflow,
//     so a slow handler never blocks a read loop, never delays anyone's
//     heartbeats, and delays no other member's messages. Handlers of
//     different members run concurrently. When a session ends, its
//     dispatcher still runs what its inbox holds; a rejoined member's new
//     dispatcher waits for the old one.
//   - on the coordinator, one keeper that sends the coordinator's
//     heartbeats and marks silent members lost.
//
// # Reliable and best-effort messages
//
// System.Send and Member.Send are best effort, for progress-like messages:
// a full outbox refuses them (ErrMailboxFull), and a member's plain message
// that finds its inbox full is dropped and counted as overflow.
//
// Messages that carry state use SendReliable. From the coordinator, TCP
// delivers what was written, in order, so the only loss is a message that
// cannot be queued: System.SendReliable then declares the member's link
// broken (the member is lost, with a lost event saying why) rather than
// drop it. From a member, Member.SendReliable numbers each message (the
// envelope's rseq, from 1 per connection) and keeps it until the
// coordinator's cumulative ack covers it. The coordinator accepts reliable
// messages only in order (go-back-N): the next expected one is queued and
// acknowledged at once from the read loop; one that finds the inbox full
// is dropped without an ack; one seen before is a duplicate, counted,
// acknowledged again and dropped; one after a gap is dropped without an
// ack. The member resends from the oldest unacknowledged message when it
// has waited a retransmission timeout (from the measured time to an ack,
// at least four heartbeat round trips and 5 ms, doubling while timeouts
// repeat), keeps at most a congestion window of messages in flight, and
// blocks SendReliable while DefaultReliableWindow messages are
// unacknowledged. A message unacknowledged for longer than the expiry
// breaks the link: Member.Run returns an error wrapping ErrLinkLost naming
// it. A member asked to stop answers only once its reliable messages are
// acknowledged, so that stopped follows everything it said.
//
// # Joining
//
// A connection's first frame must be a hello (within HelloTimeout, 5 s)
// naming an expected member, through that member's own tunnel, with this
// run's token and protocol version. The coordinator answers welcome
// (heartbeat interval, expiry, its version and clock) or reject with a
// reason, then closes; nothing a connection sends before its welcome is
// acted on. A member that was lost or left rejoins with a new hello; a
// second connection for a member that is still joined is rejected.
//
// # Heartbeats and clocks
//
// Both sides send a heartbeat every interval (1 s) and answer the other's
// with an ack carrying their own receive and send times. From its own
// heartbeats' acks the coordinator computes, per member, the round-trip
// time and the clock offset NTP-style, offset = ((t1-t0) + (t2-t3)) / 2,
// taking the sample with the least RTT among the last eight (its error is
// at most RTT/2). The member does the same the other way and reports its
// estimates in its heartbeats. A member with no heartbeat (or ack) for
// longer than Expiry (10 s) is marked lost and its connection closed; a
// connection that drops marks the member lost at once.
//
// This package must not know what the messages of a benchmark mean: the
// load driver registers its own types with Handle. It uses the standard
// library only.
package actor
