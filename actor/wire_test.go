package actor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestAppendFrame(t *testing.T) {
	tests := []struct {
		name string
		env  Envelope
		want string
	}{
		{"body_and_names", Envelope{Type: "heartbeat", From: "h1", To: "coordinator", Seq: 7, Body: json.RawMessage(`{"seq":1}`)},
			`{"type":"heartbeat","from":"h1","to":"coordinator","seq":7,"body":{"seq":1}}`},
		{"no_body_no_names", Envelope{Type: "stop", Seq: 0}, `{"type":"stop","seq":0}`},
		{"names_are_escaped", Envelope{Type: "x", From: "a\"b\\c\n\x01", Seq: 1},
			`{"type":"x","from":"a\"b\\c\u000a\u0001","seq":1}`},
		{"invalid_utf8_becomes_replacement", Envelope{Type: "x", From: "h\xff1 é", Seq: 1},
			`{"type":"x","from":"h\ufffd1 é","seq":1}`},
		{"reliable_message_carries_its_rseq", Envelope{Type: "race/step-done", Seq: 9, RSeq: 4, Body: json.RawMessage(`{}`)},
			`{"type":"race/step-done","seq":9,"rseq":4,"body":{}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frame, err := AppendFrame([]byte("prefix"), tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if string(frame[:6]) != "prefix" {
				t.Fatalf("AppendFrame overwrote dst: %q", frame[:6])
			}
			frame = frame[6:]
			if n := binary.BigEndian.Uint32(frame); int(n) != len(frame)-4 {
				t.Errorf("length prefix %d, payload %d bytes", n, len(frame)-4)
			}
			if got := string(frame[4:]); got != tc.want {
				t.Errorf("payload\n got %s\nwant %s", got, tc.want)
			}
			if !json.Valid(frame[4:]) {
				t.Errorf("payload is not valid JSON")
			}
		})
	}
}

func TestReadFrame(t *testing.T) {
	frame := func(payload string) []byte {
		return append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...)
	}
	tests := []struct {
		name    string
		in      []byte
		want    string
		wantErr error
	}{
		{"one_frame", frame(`{"type":"x"}`), `{"type":"x"}`, nil},
		{"empty_payload", frame(``), ``, nil},
		{"clean_end_between_frames", nil, "", io.EOF},
		{"end_inside_the_header", []byte{0, 0}, "", io.ErrUnexpectedEOF},
		{"end_inside_the_payload", frame(`{"type":"x"}`)[:8], "", io.ErrUnexpectedEOF},
		{"length_above_16MiB", binary.BigEndian.AppendUint32(nil, MaxFrameSize+1), "", ErrFrameTooLarge},
		{"length_of_16MiB_is_allowed_but_must_arrive", binary.BigEndian.AppendUint32(nil, MaxFrameSize), "", io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadFrame(bytes.NewReader(tc.in), nil)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && string(got) != tc.want {
				t.Errorf("payload = %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("frames_follow_each_other_and_reuse_the_buffer", func(t *testing.T) {
		var stream bytes.Buffer
		for _, p := range []string{`{"type":"a"}`, `{"type":"bb"}`} {
			if err := WriteFrame(&stream, []byte(p)); err != nil {
				t.Fatal(err)
			}
		}
		buf := make([]byte, 0, 64)
		a, err := ReadFrame(&stream, buf)
		if err != nil || string(a) != `{"type":"a"}` {
			t.Fatalf("first = %q, %v", a, err)
		}
		b, err := ReadFrame(&stream, buf)
		if err != nil || string(b) != `{"type":"bb"}` {
			t.Fatalf("second = %q, %v", b, err)
		}
		if &a[0] != &buf[:1][0] || &b[0] != &buf[:1][0] {
			t.Error("ReadFrame did not reuse a buffer that was large enough")
		}
	})
}

func TestDecodeEnvelope(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    Envelope
		wantErr bool
	}{
		{"full", `{"type":"run-task","from":"coordinator","to":"h1","seq":3,"body":{"a":[1,2]}}`,
			Envelope{Type: "run-task", From: "coordinator", To: "h1", Seq: 3, Body: json.RawMessage(`{"a":[1,2]}`)}, false},
		{"only_a_type", `{"type":"stop"}`, Envelope{Type: "stop"}, false},
		{"reliable", `{"type":"x","seq":5,"rseq":2}`, Envelope{Type: "x", Seq: 5, RSeq: 2}, false},
		{"negative_rseq", `{"type":"x","rseq":-2}`, Envelope{}, true},
		{"unknown_fields_are_ignored", `{"type":"x","extra":1}`, Envelope{Type: "x"}, false},
		{"not_json", `{"type":`, Envelope{}, true},
		{"empty", ``, Envelope{}, true},
		{"null", `null`, Envelope{}, true},
		{"array", `[]`, Envelope{}, true},
		{"trailing_data", `{"type":"x"}{}`, Envelope{}, true},
		{"missing_type", `{"seq":1}`, Envelope{}, true},
		{"type_with_a_space", `{"type":"a b"}`, Envelope{}, true},
		{"type_too_long", `{"type":"` + strings.Repeat("a", 65) + `"}`, Envelope{}, true},
		{"negative_seq", `{"type":"x","seq":-1}`, Envelope{}, true},
		{"from_too_long", `{"type":"x","from":"` + strings.Repeat("a", 256) + `"}`, Envelope{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeEnvelope([]byte(tc.payload))
			if tc.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != tc.want.Type || got.From != tc.want.From || got.To != tc.want.To || got.Seq != tc.want.Seq || got.RSeq != tc.want.RSeq || string(got.Body) != string(tc.want.Body) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeHello(t *testing.T) {
	valid := helloFor("h1", "secret")
	tests := []struct {
		name    string
		mutate  func(*Hello)
		wantErr bool
	}{
		{"complete_hello", func(*Hello) {}, false},
		{"missing_name", func(h *Hello) { h.Name = "" }, true},
		{"missing_token", func(h *Hello) { h.Token = "" }, true},
		{"name_too_long", func(h *Hello) { h.Name = strings.Repeat("h", 256) }, true},
		{"token_too_long", func(h *Hello) { h.Token = strings.Repeat("t", 1025) }, true},
		{"other_protocol_decodes_for_the_coordinator_to_judge", func(h *Hello) { h.Protocol = 9 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := valid
			tc.mutate(&h)
			body, _ := json.Marshal(h)
			got, err := DecodeHello(body)
			if tc.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != h {
				t.Errorf("got %+v, want %+v", got, h)
			}
		})
	}
	for _, body := range []string{``, `null`, `"hello"`, `{"name":1}`} {
		if _, err := DecodeHello([]byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeHello(%q) = %v, want ErrMalformed", body, err)
		}
	}
}

func TestHelloLogValueHidesTheToken(t *testing.T) {
	v := helloFor("h1", "s3cr3t").LogValue().String()
	if strings.Contains(v, "s3cr3t") || !strings.Contains(v, "h1") {
		t.Errorf("log value %q", v)
	}
}

func benchEnvelope() Envelope {
	body, _ := json.Marshal(Heartbeat{Seq: 12345, Sent: time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC), RTT: 312 * time.Microsecond, ClockOffset: 2 * time.Second})
	return Envelope{Type: TypeHeartbeat, From: "loadgen-17", To: CoordinatorName, Seq: 987654, Body: body}
}

func BenchmarkAppendFrame(b *testing.B) {
	env := benchEnvelope()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = AppendFrame(buf[:0], env)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkReadAndDecodeFrame(b *testing.B) {
	frame, _ := AppendFrame(nil, benchEnvelope())
	r := bytes.NewReader(frame)
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(frame)
		p, err := ReadFrame(r, buf)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := DecodeEnvelope(p); err != nil {
			b.Fatal(err)
		}
	}
}
