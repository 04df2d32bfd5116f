package metrics

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// inflated returns the inner (decompressed) V2 buffer of an encoding.
func inflated(t *testing.T, enc string) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		t.Fatal(err)
	}
	z, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The fast encoder writes hdrhistogram's own V2 stream: the inflated
// buffer is byte for byte p.Encode's, and hdr.DecodePacked reads back the
// very buckets, over shapes that exercise single zeros, zero runs, big
// counts and the whole range.
func TestEncodeHistogramIsHdrhistogramsV2(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := map[string]func(p *hdr.PackedHistogram){
		"one value": func(p *hdr.PackedHistogram) { _ = p.RecordValue(42) },
		"zero and the top": func(p *hdr.PackedHistogram) {
			_ = p.RecordValue(0)
			_ = p.RecordValue(histHighest)
		},
		"single gaps": func(p *hdr.PackedHistogram) {
			for v := int64(1); v < 50; v += 2 {
				_ = p.RecordValues(v, v*v)
			}
		},
		"big counts": func(p *hdr.PackedHistogram) {
			_ = p.RecordValues(3, 1<<40)
			_ = p.RecordValues(70_000, 1<<57)
		},
		"latencies": func(p *hdr.PackedHistogram) {
			for range 100_000 {
				_ = p.RecordValue(int64(rng.ExpFloat64() * 300))
			}
			for range 100 {
				_ = p.RecordValue(rng.Int64N(histHighest))
			}
		},
	}
	for name, fill := range shapes {
		t.Run(name, func(t *testing.T) {
			p := newPacked()
			fill(p)
			got, err := encodeHistogram(p)
			if err != nil {
				t.Fatal(err)
			}
			want, err := p.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if g, w := inflated(t, got), inflated(t, string(want)); !bytes.Equal(g, w) {
				t.Fatalf("inner V2 buffer differs from hdrhistogram's:\n got %x\nwant %x", g, w)
			}
			back, err := hdr.DecodePacked([]byte(got))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(buckets(back), buckets(p)) || back.TotalCount() != p.TotalCount() {
				t.Fatalf("decoded %v, want %v", buckets(back), buckets(p))
			}
			again, _ := encodeHistogram(p) // a reused encoder gives the same
			if again != got {
				t.Fatal("a second encoding differs")
			}
		})
	}
}

// A histogram of another geometry is encoded by hdrhistogram itself.
func TestEncodeHistogramOtherGeometry(t *testing.T) {
	p := hdr.NewPacked(1, 1000, 2)
	_ = p.RecordValue(7)
	got, err := encodeHistogram(p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := hdr.DecodePacked([]byte(got))
	if err != nil || back.HighestTrackableValue() != 1000 || back.TotalCount() != 1 {
		t.Fatalf("decoded %v (err %v)", back, err)
	}
}
