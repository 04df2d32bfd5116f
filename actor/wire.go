package actor

// # Wire format
//
// A connection carries frames in both directions. A frame is a 4-byte
// big-endian unsigned length followed by that many bytes of payload:
//
//	+---------------------+----------------------------------+
//	| length (uint32, BE) | payload: one JSON envelope       |
//	+---------------------+----------------------------------+
//
// The length counts the payload only, never the 4 header bytes. A length
// above MaxFrameSize (16 MiB) is malformed: the receiver answers with an
// error frame and closes the connection, because it cannot find the next
// frame boundary without reading the oversized payload. Before a connection
// has joined, a tighter limit (maxHelloFrame, 64 KiB) keeps unauthenticated
// peers cheap.
//
// The payload is a JSON object, the envelope:
//
//	{"type":"heartbeat","from":"h1","to":"coordinator","seq":7,"body":{...}}
//
//   - type: the message type, 1 to 64 bytes of [A-Za-z0-9._/-]; the protocol's
//     own types are listed in messages.go, applications add theirs with
//     System.Handle and Member.Handle.
//   - from, to: the sender's and receiver's names ("coordinator" or the
//     member's inventory host name), at most 255 bytes each. They are
//     informational: the coordinator trusts the identity the connection
//     proved in its hello, never the from field.
//   - seq: the sender's frame counter on this connection, starting at 1.
//     Error frames name the seq of the frame they answer.
//   - rseq: present only on a reliable message (Member.SendReliable): its
//     number in the member's reliable stream on this connection, starting
//     at 1. A frame sent again keeps its rseq and gets a new seq; the
//     coordinator acknowledges rseqs cumulatively with ack frames.
//   - body: the message's own JSON value; may be absent.
//
// A payload that is not such an object (bad JSON, trailing data, missing or
// invalid type) is malformed: it is counted and answered with an error frame,
// and the connection goes on, since the frame boundary is intact.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// MaxFrameSize is the largest payload a frame may carry, in bytes.
const MaxFrameSize = 16 << 20

// frameHeaderSize is the length prefix of every frame.
const frameHeaderSize = 4

// maxHelloFrame bounds the first frame of a connection, which arrives before
// the peer has proved it knows the token.
const maxHelloFrame = 64 << 10

// Limits of the envelope's string fields.
const (
	maxTypeLen = 64
	maxNameLen = 255
)

// ErrFrameTooLarge is returned (wrapped) by ReadFrame when a frame's length
// prefix exceeds the limit. The connection cannot be resynchronised.
var ErrFrameTooLarge = errors.New("frame too large")

// ErrMalformed is returned (wrapped) when a payload is not a valid envelope
// or a body does not decode. The frame boundary is intact.
var ErrMalformed = errors.New("malformed frame")

// Envelope is the decoded payload of one frame.
type Envelope struct {
	Type string `json:"type"`
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	Seq  uint64 `json:"seq"`
	// RSeq numbers a reliable message; zero for every other frame.
	RSeq uint64          `json:"rseq,omitempty"`
	Body json.RawMessage `json:"body,omitempty"`
}

// ReadFrame reads one frame from r and returns its payload, reusing buf when
// it is large enough. The returned slice aliases buf (or a new buffer) and
// is valid until the next call with the same buffer. It returns io.EOF when
// r ends cleanly between frames, io.ErrUnexpectedEOF inside a frame, and an
// error wrapping ErrFrameTooLarge for a length above MaxFrameSize.
func ReadFrame(r io.Reader, buf []byte) ([]byte, error) {
	return readFrame(r, buf, MaxFrameSize)
}

func readFrame(r io.Reader, buf []byte, limit int) ([]byte, error) {
	if cap(buf) < frameHeaderSize {
		buf = make([]byte, 512)
	}
	hdr := buf[:frameHeaderSize]
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr)
	if uint64(n) > uint64(limit) {
		return nil, fmt.Errorf("%w: length %d, limit %d", ErrFrameTooLarge, n, limit)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read %d-byte frame: %w", n, err)
	}
	return buf, nil
}

// WriteFrame writes payload as one frame.
func WriteFrame(w io.Writer, payload []byte) error {
	if len(payload) > MaxFrameSize {
		return fmt.Errorf("write frame: %w: %d bytes, limit %d", ErrFrameTooLarge, len(payload), MaxFrameSize)
	}
	var hdr [frameHeaderSize]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(payload)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// AppendFrame appends env, encoded as one frame (length prefix and JSON
// payload), to dst. env.Body must be valid JSON or empty; it is copied
// verbatim. The encoder is hand-written because it runs for every message:
// it allocates nothing when dst has room.
func AppendFrame(dst []byte, env Envelope) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = append(dst, `{"type":`...)
	dst = appendJSONString(dst, env.Type)
	if env.From != "" {
		dst = append(dst, `,"from":`...)
		dst = appendJSONString(dst, env.From)
	}
	if env.To != "" {
		dst = append(dst, `,"to":`...)
		dst = appendJSONString(dst, env.To)
	}
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, env.Seq, 10)
	if env.RSeq != 0 {
		dst = append(dst, `,"rseq":`...)
		dst = strconv.AppendUint(dst, env.RSeq, 10)
	}
	if len(env.Body) > 0 {
		dst = append(dst, `,"body":`...)
		dst = append(dst, env.Body...)
	}
	dst = append(dst, '}')
	n := len(dst) - start - frameHeaderSize
	if n > MaxFrameSize {
		return dst[:start], fmt.Errorf("encode %s frame: %w: %d bytes, limit %d", env.Type, ErrFrameTooLarge, n, MaxFrameSize)
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(n))
	return dst, nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does, so that what we write decodes to what we meant.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// DecodeEnvelope decodes and validates one frame's payload. Errors wrap
// ErrMalformed. The returned Body is a copy, so payload may be reused.
func DecodeEnvelope(payload []byte) (Envelope, error) {
	var env Envelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return Envelope{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := validType(env.Type); err != nil {
		return Envelope{}, err
	}
	if len(env.From) > maxNameLen || len(env.To) > maxNameLen {
		return Envelope{}, fmt.Errorf("%w: from/to longer than %d bytes", ErrMalformed, maxNameLen)
	}
	return env, nil
}

// validType checks a message type: 1 to 64 bytes of [A-Za-z0-9._/-], so that
// it is safe to log and to use as a map key in the status.
func validType(t string) error {
	if t == "" {
		return fmt.Errorf("%w: missing type", ErrMalformed)
	}
	if len(t) > maxTypeLen {
		return fmt.Errorf("%w: type longer than %d bytes", ErrMalformed, maxTypeLen)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '/' || c == '-'
		if !ok {
			return fmt.Errorf("%w: type %q has a character outside [A-Za-z0-9._/-]", ErrMalformed, t)
		}
	}
	return nil
}

// decodeBody decodes a message body into v; errors wrap ErrMalformed.
func decodeBody(env Envelope, v any) error {
	if len(env.Body) == 0 {
		return fmt.Errorf("%w: %s without a body", ErrMalformed, env.Type)
	}
	if err := json.Unmarshal(env.Body, v); err != nil {
		return fmt.Errorf("%w: %s body: %v", ErrMalformed, env.Type, err)
	}
	return nil
}
