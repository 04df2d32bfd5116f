package metrics

import (
	"encoding/json"
	"fmt"
	"time"
)

// Bucket is the throughput of one second: the summed Weight of the samples
// whose End fell in [epoch+Second s, epoch+Second+1 s). On the wire it is the
// JSON array [second, weight].
type Bucket struct {
	Second int64
	Weight int64
}

// MarshalJSON encodes b as [second, weight].
func (b Bucket) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]int64{b.Second, b.Weight})
}

// UnmarshalJSON decodes [second, weight], rejecting any other shape.
func (b *Bucket) UnmarshalJSON(data []byte) error {
	var pair []int64
	if err := json.Unmarshal(data, &pair); err != nil {
		return fmt.Errorf("throughput bucket: want [second, weight]: %w", err)
	}
	if len(pair) != 2 {
		return fmt.Errorf("throughput bucket: want [second, weight], got %d numbers", len(pair))
	}
	b.Second, b.Weight = pair[0], pair[1]
	return nil
}

// maxSpanSeconds bounds the seconds one recorder keeps between two flushes.
// A sample further away from the first one of the period (a zero End, a
// clock jump) is left out of the throughput and counted as dropped instead
// of growing the buffer without bound.
const maxSpanSeconds = 24 * 60 * 60

// secondIndex returns the 1-second bucket of t relative to epoch, rounding
// down also before the epoch.
func secondIndex(epoch, t time.Time) int64 {
	d := t.Sub(epoch)
	s := int64(d / time.Second)
	if d < 0 && d%time.Second != 0 {
		s--
	}
	return s
}

// secondBuckets is a recorder's dense run of consecutive seconds: w[i] is
// the weight of second base+i. It reuses its backing array across flushes,
// so adding to a second within capacity does not allocate.
type secondBuckets struct {
	base int64
	w    []int64
}

// add adds weight to second sec; it returns false (and adds nothing) when
// sec is more than maxSpanSeconds away from the seconds already held.
func (b *secondBuckets) add(sec, weight int64) bool {
	n := int64(len(b.w))
	switch {
	case n == 0:
		b.base = sec
		b.w = append(b.w[:0], weight)
	case sec >= b.base && sec < b.base+n:
		b.w[sec-b.base] += weight
	case sec >= b.base+n:
		if sec-b.base >= maxSpanSeconds {
			return false
		}
		for int64(len(b.w)) < sec-b.base {
			b.w = append(b.w, 0)
		}
		b.w = append(b.w, weight)
	default: // sec < b.base: a sample that ended before an earlier one
		shift := b.base - sec
		if n+shift > maxSpanSeconds {
			return false
		}
		for range shift {
			b.w = append(b.w, 0)
		}
		copy(b.w[shift:], b.w[:n])
		clear(b.w[:shift])
		b.w[0] = weight
		b.base = sec
	}
	return true
}

// appendTo appends the non-empty seconds to dst in ascending order.
func (b *secondBuckets) appendTo(dst []Bucket) []Bucket {
	for i, w := range b.w {
		if w != 0 {
			dst = append(dst, Bucket{Second: b.base + int64(i), Weight: w})
		}
	}
	return dst
}

func (b *secondBuckets) reset() { b.w = b.w[:0] }

// mergeBuckets merges two ascending bucket lists into a new ascending list,
// summing the weights of equal seconds.
func mergeBuckets(a, b []Bucket) []Bucket {
	out := make([]Bucket, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].Second < b[j].Second:
			out = append(out, a[i])
			i++
		case a[i].Second > b[j].Second:
			out = append(out, b[j])
			j++
		default:
			out = append(out, Bucket{Second: a[i].Second, Weight: a[i].Weight + b[j].Weight})
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
