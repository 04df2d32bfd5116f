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
//   - per connection, a reader goroutine and a writer goroutine fed by an
//     outbox ("member/<name>" in the status). Send never blocks: a full
//     outbox drops the message and says so.
//   - on the coordinator, one dispatcher ("coordinator") that runs
//     application handlers one at a time, and one keeper that sends the
//     coordinator's heartbeats and marks silent members lost.
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
