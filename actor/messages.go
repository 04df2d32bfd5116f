package actor

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// ProtocolVersion is the version of this package's wire protocol. A hello
// with another version is rejected with RejectProtocolMismatch. Version 2
// added reliable messages (the envelope's rseq and the ack frame) and
// application messages that a full coordinator queue drops: a version 1
// member would neither resend nor expect that.
const ProtocolVersion = 2

// Message types of the protocol itself. Any other type is an application
// type and must be registered with System.Handle or Member.Handle on the
// receiving side, else it is counted as unknown and answered with an error.
const (
	TypeHello        = "hello"         // member → coordinator, first frame: Hello
	TypeWelcome      = "welcome"       // coordinator → member: Welcome
	TypeReject       = "reject"        // coordinator → member, then close: Reject
	TypeHeartbeat    = "heartbeat"     // both ways every interval: Heartbeat
	TypeHeartbeatAck = "heartbeat-ack" // answer to a heartbeat: HeartbeatAck
	TypeStop         = "stop"          // coordinator → member: Stop
	TypeStopped      = "stopped"       // member → coordinator, then close: Stopped
	TypeError        = "error"         // either way, answer to a bad frame: ErrorBody
	TypeAck          = "ack"           // coordinator → member, reliable messages accepted: Ack
)

// CoordinatorName is the name the coordinator uses in envelopes.
const CoordinatorName = "coordinator"

// isProtocolType tells whether t is one of the protocol's own types, which
// applications may not register handlers for.
func isProtocolType(t string) bool {
	switch t {
	case TypeHello, TypeWelcome, TypeReject, TypeHeartbeat, TypeHeartbeatAck, TypeStop, TypeStopped, TypeError, TypeAck:
		return true
	}
	return false
}

// HostFacts describes the host a member runs on, as the member sees it.
type HostFacts struct {
	Hostname    string `json:"hostname"`
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	Kernel      string `json:"kernel"`
	CPUs        int    `json:"cpus"`
	MemoryBytes int64  `json:"memory_bytes"`
}

// Hello is the first frame a member sends. The token is the per-run secret
// the coordinator handed the worker on its stdin.
type Hello struct {
	Protocol int `json:"protocol"`
	// Name is the member's inventory host name; it must match the tunnel
	// the connection came through.
	Name  string `json:"name"`
	Token string `json:"token"`
	// Build is the sha256 (hex) of the worker binary.
	Build   string    `json:"build"`
	Version string    `json:"version"`
	PID     int       `json:"pid"`
	Facts   HostFacts `json:"facts"`
}

// LogValue keeps the token out of logs.
func (h Hello) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("protocol", h.Protocol),
		slog.String("name", h.Name),
		slog.String("build", h.Build),
		slog.String("version", h.Version),
		slog.Int("pid", h.PID),
	)
}

// Limits of a hello's fields.
const maxTokenLen = 1024

// DecodeHello decodes and validates a hello body: it must name the member
// and carry a token. The protocol version is not checked here; the
// coordinator answers a mismatch with its own reject reason. Errors wrap
// ErrMalformed.
func DecodeHello(body []byte) (Hello, error) {
	var h Hello
	if len(body) == 0 {
		return Hello{}, fmt.Errorf("%w: hello without a body", ErrMalformed)
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return Hello{}, fmt.Errorf("%w: hello body: %v", ErrMalformed, err)
	}
	if err := h.validate(); err != nil {
		return Hello{}, err
	}
	return h, nil
}

func (h Hello) validate() error {
	switch {
	case h.Name == "":
		return fmt.Errorf("%w: hello without a name", ErrMalformed)
	case len(h.Name) > maxNameLen:
		return fmt.Errorf("%w: hello name longer than %d bytes", ErrMalformed, maxNameLen)
	case h.Token == "":
		return fmt.Errorf("%w: hello without a token", ErrMalformed)
	case len(h.Token) > maxTokenLen:
		return fmt.Errorf("%w: hello token longer than %d bytes", ErrMalformed, maxTokenLen)
	}
	return nil
}

// Welcome accepts a member. Durations travel as integer nanoseconds.
type Welcome struct {
	Protocol int `json:"protocol"`
	// Member is the name the member joined as.
	Member            string        `json:"member"`
	HeartbeatInterval time.Duration `json:"heartbeat_interval_ns"`
	Expiry            time.Duration `json:"expiry_ns"`
	Version           string        `json:"version"`
	Build             string        `json:"build"`
	// Time is the coordinator's clock when it sent the welcome.
	Time time.Time `json:"time"`
}

// RejectReason says why the coordinator refused a hello.
type RejectReason string

// Reject reasons.
const (
	RejectWrongToken       RejectReason = "wrong-token"
	RejectUnknownMember    RejectReason = "unknown-member"
	RejectProtocolMismatch RejectReason = "protocol-mismatch"
	RejectAlreadyJoined    RejectReason = "already-joined"
	// RejectNameMismatch: the hello names another host than the tunnel the
	// connection came through.
	RejectNameMismatch RejectReason = "name-mismatch"
	// RejectBadHello: the first frame was not a well-formed hello.
	RejectBadHello RejectReason = "bad-hello"
	// RejectNoHello: no hello arrived within the hello timeout.
	RejectNoHello RejectReason = "no-hello"
)

// Reject refuses a hello; the coordinator closes the connection after it.
type Reject struct {
	Reason RejectReason `json:"reason"`
	Detail string       `json:"detail,omitempty"`
}

// RejectedError is what Join returns when the coordinator refused the hello.
type RejectedError struct {
	Reason RejectReason
	Detail string
}

func (e *RejectedError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("coordinator rejected hello: %s", e.Reason)
	}
	return fmt.Sprintf("coordinator rejected hello: %s: %s", e.Reason, e.Detail)
}

// Heartbeat is sent both ways every interval. Sent is the sender's clock.
// RTT and ClockOffset are the sender's latest estimates for this link;
// ClockOffset is the receiver's clock minus the sender's clock.
type Heartbeat struct {
	Seq         uint64        `json:"seq"`
	Sent        time.Time     `json:"sent"`
	RTT         time.Duration `json:"rtt_ns,omitempty"`
	ClockOffset time.Duration `json:"clock_offset_ns,omitempty"`
}

// HeartbeatAck answers a heartbeat: Echo is the heartbeat's Sent, Received
// and Sent are the answering side's clock when the heartbeat arrived and
// when the ack left (NTP's t1 and t2).
type HeartbeatAck struct {
	Seq      uint64    `json:"seq"`
	Echo     time.Time `json:"echo"`
	Received time.Time `json:"received"`
	Sent     time.Time `json:"sent"`
}

// Ack acknowledges a member's reliable messages cumulatively: Seq is the
// highest rseq the coordinator has accepted with none missing before it.
// An accepted message is in the member's queue on the coordinator and will
// be handled even if the connection drops.
type Ack struct {
	Seq uint64 `json:"seq"`
}

// Stop asks a member to finish and leave.
type Stop struct {
	Reason string `json:"reason,omitempty"`
}

// Stopped is a member's answer to Stop, its last frame.
type Stopped struct {
	Reason string `json:"reason,omitempty"`
}

// ErrorCode classifies an error frame.
type ErrorCode string

// Error codes.
const (
	ErrorMalformed      ErrorCode = "malformed"
	ErrorFrameTooLarge  ErrorCode = "frame-too-large"
	ErrorUnknownType    ErrorCode = "unknown-type"
	ErrorUnexpectedType ErrorCode = "unexpected-type"
)

// ErrorBody is the body of an error frame: the answer to a frame that could
// not be acted on. Seq and Type name that frame where they are known.
type ErrorBody struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
	Seq     uint64    `json:"seq,omitempty"`
	Type    string    `json:"type,omitempty"`
}
