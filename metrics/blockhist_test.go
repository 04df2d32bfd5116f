package metrics

import (
	"math/rand/v2"
	"slices"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// buckets lists a packed histogram's populated buckets as (value, count).
func buckets(p *hdr.PackedHistogram) [][2]int64 {
	var out [][2]int64
	for v, n := range p.ForEachBucket {
		out = append(out, [2]int64{v, n})
	}
	return out
}

func TestBlockHistMatchesHdrhistogram(t *testing.T) {
	t.Run("every_index_maps_back_to_itself_as_hdrhistogram_maps_it", func(t *testing.T) {
		for i := range numBlocks * blockLen {
			v := indexValue(i)
			if got := countsIndex(v); got != i {
				t.Fatalf("countsIndex(indexValue(%d) = %d) = %d", i, v, got)
			}
			p := newPacked()
			if err := p.RecordValue(v); err != nil {
				t.Fatalf("index %d: hdrhistogram refuses its value %d: %v", i, v, err)
			}
			if b := buckets(p); len(b) != 1 || b[0][0] != v {
				t.Fatalf("index %d: hdrhistogram counts value %d in the bucket of %v, want its own", i, v, b)
			}
		}
	})
	t.Run("the_blocks_end_where_hdrhistogram_counts_end", func(t *testing.T) {
		if i := countsIndex(histHighest); i >= numBlocks*blockLen {
			t.Fatalf("the highest value's index %d is beyond the %d counts", i, numBlocks*blockLen)
		}
		if err := newPacked().RecordValue(indexValue(numBlocks * blockLen)); err == nil {
			t.Fatalf("hdrhistogram has counts beyond the %d of %d blocks", numBlocks*blockLen, numBlocks)
		}
	})
	t.Run("recorded_values_give_hdrhistograms_buckets", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		var h blockHist
		dense := newDense()
		values := []int64{0, 1, 2047, 2048, 2049, 4095, 4096, 1<<20 - 1, 1 << 20, histHighest}
		for range 50000 {
			// Exponents spread the values over every power of two.
			values = append(values, min(int64(rng.ExpFloat64()*float64(int64(1)<<rng.IntN(32))), histHighest))
		}
		for _, v := range values {
			h.record(v)
			if err := dense.RecordValue(v); err != nil {
				t.Fatal(err)
			}
		}
		want := newPacked()
		want.MergeFrom(dense)
		got := h.packed()
		if !slices.Equal(buckets(got), buckets(want)) || got.TotalCount() != want.TotalCount() {
			t.Fatalf("buckets differ from hdrhistogram's: %d buckets of %d values, want %d of %d",
				len(buckets(got)), got.TotalCount(), len(buckets(want)), want.TotalCount())
		}
		for _, p := range []float64{50, 90, 99, 99.9, 100} {
			if g, w := got.ValueAtPercentile(p), dense.ValueAtPercentile(p); g != w {
				t.Errorf("p%v = %d, hdrhistogram says %d", p, g, w)
			}
		}
		if h.total != 0 || h.packed() != nil {
			t.Fatal("the histogram is not empty after packed")
		}
		for b, blk := range h.blocks {
			if blk != nil && slices.ContainsFunc(blk[:], func(n int64) bool { return n != 0 }) {
				t.Fatalf("block %d keeps counts after packed", b)
			}
		}
	})
}

func TestBlockHistMoveTo(t *testing.T) {
	var a, b, sum blockHist
	for _, v := range []int64{3, 70000, 5} {
		a.record(v)
	}
	for _, v := range []int64{5, 1 << 30} {
		b.record(v)
	}
	a.moveTo(&sum)
	b.moveTo(&sum)
	if a.total != 0 || b.total != 0 || sum.total != 5 {
		t.Fatalf("totals after moving: %d, %d, %d; want 0, 0, 5", a.total, b.total, sum.total)
	}
	want := newPacked()
	for _, v := range []int64{3, 5, 5, 70000, 1 << 30} {
		_ = want.RecordValue(v)
	}
	if got := sum.packed(); !slices.Equal(buckets(got), buckets(want)) {
		t.Fatalf("moved buckets %v, want %v", buckets(got), buckets(want))
	}
	// Emptied histograms start afresh: the range recorded is the new one.
	a.record(9)
	if got := a.packed(); !slices.Equal(buckets(got), [][2]int64{{9, 1}}) {
		t.Fatalf("after moving, a recorded %v, want [[9 1]]", buckets(got))
	}
}

// BenchmarkBlockHistDrain measures moving one second's counts of a busy
// stripe out (search-like timings, 0.1 to 50 ms).
func BenchmarkBlockHistDrain(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := make([]int64, 5000)
	for i := range values {
		values[i] = 100 + int64(rng.ExpFloat64()*5000)
	}
	var h, dst blockHist
	b.ReportAllocs()
	for b.Loop() {
		for _, v := range values {
			h.record(v)
		}
		h.moveTo(&dst)
		dst.drain(func(int, int64) {})
	}
}
