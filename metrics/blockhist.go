package metrics

import (
	"math/bits"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The shared geometry (1 µs to one hour at 3 significant digits) lays its
// counts out, as hdrhistogram does, in one flat array: values 0..2047 at
// indexes 0..2047, then for every further power of two 1,024 sub-buckets of
// equal width. blockHist keeps that layout, so its counts map one to one
// onto hdrhistogram's and a delta built from them is exactly what a dense
// hdr.Histogram of the shared geometry would have recorded
// (TestBlockHistMatchesHdrhistogram pins it).
const (
	// subBucketHalfMagnitude is log2 of half the sub-buckets: 3 significant
	// digits need single-unit resolution up to 2,000, so 2,048 sub-buckets.
	subBucketHalfMagnitude = 10
	subBucketHalf          = 1 << subBucketHalfMagnitude
	subBucketMask          = 2*subBucketHalf - 1
	// blockLen counts make one block: a power of two's sub-buckets.
	blockLen = subBucketHalf
	// numBlocks covers every index of a value up to histHighest: 22
	// powers of two above the first 2,048 values, plus the two blocks of
	// those (hdrhistogram's countsLen is numBlocks × blockLen).
	numBlocks = 23
)

// countsIndex is the flat counts index of v (0 <= v <= histHighest), as
// hdrhistogram computes it for the shared geometry.
func countsIndex(v int64) int {
	bucket := bits.Len64(uint64(v)|subBucketMask) - (subBucketHalfMagnitude + 1)
	return bucket<<subBucketHalfMagnitude + int(v>>uint(bucket))
}

// indexValue is the lowest value whose counts index is i: recording it
// into any histogram of the shared geometry counts it at i.
func indexValue(i int) int64 {
	bucket := i>>subBucketHalfMagnitude - 1
	sub := i&(subBucketHalf-1) + subBucketHalf
	if bucket < 0 {
		sub -= subBucketHalf
		bucket = 0
	}
	return int64(sub) << uint(bucket)
}

// blockHist is a dense histogram of the shared geometry whose counts are
// allocated a block (one power of two, 8 KiB) at a time, on first use, and
// kept for reuse: timings of one task span a few powers of two, so a
// histogram costs tens of KiB instead of hdrhistogram's 184 KiB. It
// remembers the range of indexes recorded since it was last emptied, so
// moving its counts out visits only that range. It is not safe for
// concurrent use.
type blockHist struct {
	blocks [numBlocks]*[blockLen]int64
	total  int64
	// lo and hi are the lowest and highest index counted since the
	// histogram was last emptied; meaningless while total is 0.
	lo, hi int
}

// record counts one value in [0, histHighest] (see micros). It allocates
// only the first time a power of two is used.
func (h *blockHist) record(v int64) {
	i := countsIndex(v)
	h.block(i >> subBucketHalfMagnitude)[i&(blockLen-1)]++
	h.touch(i, i)
	h.total++
}

// block returns block b, allocating it when it is new.
func (h *blockHist) block(b int) *[blockLen]int64 {
	if h.blocks[b] == nil {
		h.blocks[b] = new([blockLen]int64)
	}
	return h.blocks[b]
}

// touch widens the recorded range to [lo, hi].
func (h *blockHist) touch(lo, hi int) {
	if h.total == 0 {
		h.lo, h.hi = lo, hi
		return
	}
	h.lo, h.hi = min(h.lo, lo), max(h.hi, hi)
}

// drain calls emit for every non-zero count in ascending index order and
// zeroes it, visiting only the recorded range; h is empty afterwards.
func (h *blockHist) drain(emit func(i int, n int64)) {
	if h.total == 0 {
		return
	}
	for b := h.lo >> subBucketHalfMagnitude; b <= h.hi>>subBucketHalfMagnitude; b++ {
		blk := h.blocks[b]
		if blk == nil {
			continue
		}
		base := b << subBucketHalfMagnitude
		from, to := max(h.lo-base, 0), min(h.hi-base, blockLen-1)
		for j := from; j <= to; j++ {
			if n := blk[j]; n != 0 {
				emit(base+j, n)
				blk[j] = 0
			}
		}
	}
	h.total = 0
}

// moveTo adds h's counts to dst and empties h.
func (h *blockHist) moveTo(dst *blockHist) {
	if h.total == 0 {
		return
	}
	dst.touch(h.lo, h.hi)
	dst.total += h.total
	h.drain(func(i int, n int64) {
		dst.block(i >> subBucketHalfMagnitude)[i&(blockLen-1)] += n
	})
}

// packed empties h into a new sparse histogram of the shared geometry,
// nil when h is empty. Counts go in ascending order, so each is appended.
func (h *blockHist) packed() *hdr.PackedHistogram {
	if h.total == 0 {
		return nil
	}
	p := newPacked()
	h.drain(func(i int, n int64) {
		// indexValue(i) is within the geometry and n positive, so this
		// cannot fail.
		_ = p.RecordValues(indexValue(i), n)
	})
	return p
}
