package metrics

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math"
	"sync"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/klauspost/compress/zlib"
)

// encodeHistogram returns p in HdrHistogram's standard V2 compressed form,
// base64 encoded: what p.Encode returns, byte for byte up to the deflate
// stream, which any V2 decoder (hdr.DecodePacked, Java's, esrally's tools)
// reads. A histogram of another geometry than the shared one is left to
// p.Encode.
//
// Why not p.Encode: it deflates at zlib's best compression with a new
// compressor every time, which costs about a quarter of a millisecond and
// close to a megabyte of garbage per histogram; a load driver encodes five
// histograms per task every second, on the processor its clients need
// (one core: the clients waited behind it for milliseconds, a schedule-lag
// p99 of several ms at 5,000 ops/s). Here the compressor is reused and at
// its fastest level: the payload, run-length coded counts, is small either
// way.
func encodeHistogram(p *hdr.PackedHistogram) (string, error) {
	if !sameGeometry(p) {
		b, err := p.Encode()
		return string(b), err
	}
	e := encoders.Get().(*histEncoder)
	defer encoders.Put(e)
	return e.encode(p), nil
}

var encoders = sync.Pool{New: func() any { return new(histEncoder) }}

// histEncoder holds the buffers and the compressor one encoding reuses.
type histEncoder struct {
	inner, out []byte
	z          bytes.Buffer
	zw         *zlib.Writer
}

// V2 header constants (HdrHistogram's encoding: the cookies with the word
// size 8 in bits 4-7, and the inner header's length).
const (
	v2Cookie           = uint32(hdr.V2EncodingCookieBase | 0x10)
	v2CompressedCookie = uint32(hdr.V2CompressedEncodingCookieBase | 0x10)
	v2HeaderLen        = 40
)

func (e *histEncoder) encode(p *hdr.PackedHistogram) string {
	// The inner buffer: the 40-byte header, then the counts from index 0
	// to the highest populated one, each ZigZag LEB128 coded, a run of two
	// or more zeros as its negated length.
	in := e.inner[:0]
	in = append(in, make([]byte, v2HeaderLen)...)
	next := 0 // the next counts index to write
	p.ForEachBucket(func(value, count int64) bool {
		i := countsIndex(value)
		switch zeros := i - next; {
		case zeros == 1:
			in = appendZigZag(in, 0)
		case zeros > 1:
			in = appendZigZag(in, -int64(zeros))
		}
		in = appendZigZag(in, count)
		next = i + 1
		return true
	})
	binary.BigEndian.PutUint32(in[0:], v2Cookie)
	binary.BigEndian.PutUint32(in[4:], uint32(len(in)-v2HeaderLen))
	binary.BigEndian.PutUint32(in[8:], 0) // normalizing index offset
	binary.BigEndian.PutUint32(in[12:], uint32(p.SignificantFigures()))
	binary.BigEndian.PutUint64(in[16:], uint64(p.LowestTrackableValue()))
	binary.BigEndian.PutUint64(in[24:], uint64(p.HighestTrackableValue()))
	binary.BigEndian.PutUint64(in[32:], math.Float64bits(1)) // integer to double conversion ratio
	e.inner = in

	e.z.Reset()
	e.z.Write(make([]byte, 8)) // the outer cookie and length, set below
	if e.zw == nil {
		// Only an invalid level fails.
		e.zw, _ = zlib.NewWriterLevel(&e.z, zlib.BestSpeed)
	} else {
		e.zw.Reset(&e.z)
	}
	// Writing to a bytes.Buffer does not fail.
	_, _ = e.zw.Write(in)
	_ = e.zw.Close()
	raw := e.z.Bytes()
	binary.BigEndian.PutUint32(raw[0:], v2CompressedCookie)
	binary.BigEndian.PutUint32(raw[4:], uint32(len(raw)-8))

	n := base64.StdEncoding.EncodedLen(len(raw))
	if cap(e.out) < n {
		e.out = make([]byte, n)
	}
	e.out = e.out[:n]
	base64.StdEncoding.Encode(e.out, raw)
	return string(e.out)
}

// appendZigZag appends v ZigZag LEB128 coded as HdrHistogram does: seven
// bits a byte, the ninth byte (if any) holding the last eight.
func appendZigZag(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for i := 0; i < 8; i++ {
		if u < 0x80 {
			return append(b, byte(u))
		}
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}
