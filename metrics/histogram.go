package metrics

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry shared by every recorder, delta and aggregator: values
// are microseconds from 1 µs to one hour with 3 significant digits. Deltas
// with another geometry are rejected, so merged histograms never lose
// precision silently.
const (
	histLowest  = 1
	histHighest = int64(time.Hour / time.Microsecond)
	histDigits  = 3
)

// newDense returns an empty dense histogram of the shared geometry (about
// 180 KiB: recording into it is a few nanoseconds and never allocates).
func newDense() *hdr.Histogram { return hdr.New(histLowest, histHighest, histDigits) }

// newPacked returns an empty sparse histogram of the shared geometry; its
// size grows with the buckets in use, which keeps deltas small.
func newPacked() *hdr.PackedHistogram { return hdr.NewPacked(histLowest, histHighest, histDigits) }

// micros converts d to whole microseconds clamped to the histogram's range:
// negative durations count as 0 and durations beyond an hour as an hour, so
// every sample lands in every histogram and counts stay consistent.
func micros(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	switch {
	case us < 0:
		return 0
	case us > histHighest:
		return histHighest
	}
	return us
}

// ms converts a histogram value in microseconds to milliseconds.
func ms(us float64) float64 { return us / 1000 }

// sameGeometry reports whether p has the shared geometry.
func sameGeometry(p *hdr.PackedHistogram) bool {
	return p.LowestTrackableValue() == histLowest &&
		p.HighestTrackableValue() == histHighest &&
		p.SignificantFigures() == histDigits
}
