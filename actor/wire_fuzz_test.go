package actor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"testing"
)

// FuzzReadFrame feeds arbitrary bytes to the frame reader and the envelope
// decoder, as a peer could: they must never panic, never hand out more than
// MaxFrameSize, and what decodes must survive a round trip through the
// encoder unchanged.
func FuzzReadFrame(f *testing.F) {
	seed := func(payloads ...string) []byte {
		var b []byte
		for _, p := range payloads {
			b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
			b = append(b, p...)
		}
		return b
	}
	f.Add(seed(`{"type":"heartbeat","from":"h1","to":"coordinator","seq":1,"body":{"seq":1,"sent":"2026-03-01T12:00:00Z"}}`))
	f.Add(seed(`{"type":"hello","seq":1,"body":{"protocol":1,"name":"h1","token":"t"}}`, `{"type":"x"}`))
	f.Add(seed(`{"type":`))
	f.Add(seed(``))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x01, 0x00, 0x00, 0x01, '{'})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var buf []byte
		for range 64 {
			p, err := ReadFrame(r, buf)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrFrameTooLarge) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			if len(p) > MaxFrameSize {
				t.Fatalf("payload of %d bytes", len(p))
			}
			buf = p
			checkEnvelopeRoundTrip(t, p)
		}
	})
}

// FuzzDecodeEnvelope goes straight at the payload decoder.
func FuzzDecodeEnvelope(f *testing.F) {
	f.Add([]byte(`{"type":"run-task","from":"coordinator","to":"h1","seq":3,"body":{"a":[1,2]}}`))
	f.Add([]byte(`{"type":"x","from":"\u0000\ud800","body":null}`))
	f.Add([]byte(`{"TYPE":"x","Seq":18446744073709551615}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"type":"race/step-done","seq":9,"rseq":4,"body":{}}`))
	f.Add([]byte(`{"type":"ack","seq":2,"rseq":0,"body":{"seq":18446744073709551615}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkEnvelopeRoundTrip(t, payload)
	})
}

func checkEnvelopeRoundTrip(t *testing.T, payload []byte) {
	env, err := DecodeEnvelope(payload)
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("decode error does not wrap ErrMalformed: %v", err)
		}
		return
	}
	frame, err := AppendFrame(nil, env)
	if err != nil {
		if errors.Is(err, ErrFrameTooLarge) {
			return
		}
		t.Fatalf("re-encode %+v: %v", env, err)
	}
	p, err := ReadFrame(bytes.NewReader(frame), nil)
	if err != nil {
		t.Fatalf("re-read %q: %v", frame, err)
	}
	again, err := DecodeEnvelope(p)
	if err != nil {
		t.Fatalf("re-encoded %+v as %q, which does not decode: %v", env, p, err)
	}
	if again.Type != env.Type || again.From != env.From || again.To != env.To || again.Seq != env.Seq || again.RSeq != env.RSeq || !bytes.Equal(again.Body, env.Body) {
		t.Fatalf("round trip changed the envelope:\n was %+v\n now %+v", env, again)
	}
}

// FuzzDecodeHello checks the hello decoder, the one decoder that runs before
// a peer has shown its token.
func FuzzDecodeHello(f *testing.F) {
	good, _ := json.Marshal(helloFor("h1", "secret"))
	f.Add(good)
	f.Add([]byte(`{"protocol":1,"name":"h1","token":"t","facts":{"cpus":-1,"memory_bytes":1e30}}`))
	f.Add([]byte(`{"name":"","token":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		h, err := DecodeHello(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("decode error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if h.Name == "" || h.Token == "" {
			t.Fatalf("accepted a hello without name or token: %+v", h)
		}
		b, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeHello(b)
		if err != nil || again != h {
			t.Fatalf("round trip: %+v -> %s -> %+v, %v", h, b, again, err)
		}
	})
}
