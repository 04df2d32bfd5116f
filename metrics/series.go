package metrics

import (
	"cmp"
	"slices"
)

// PerSecond returns task's throughput second by second: the summed weight
// of its measurement samples and of its warmup samples in each second that
// saw one, in ascending order, seconds counted from the aggregator's epoch.
// Both are nil for a task no delta reported. It is what a metrics store
// writes as throughput samples; the Summary keeps only their statistics.
func (a *Aggregator) PerSecond(task string) (measured, warmup []Bucket) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.tasks[task]
	if t == nil {
		return nil, nil
	}
	return sortedBuckets(t.throughput), sortedBuckets(t.warmupThroughput)
}

// sortedBuckets returns the non-empty seconds of buckets in ascending
// order, nil when there are none.
func sortedBuckets(buckets map[int64]int64) []Bucket {
	var out []Bucket
	for s, w := range buckets {
		if w != 0 {
			out = append(out, Bucket{Second: s, Weight: w})
		}
	}
	slices.SortFunc(out, func(a, b Bucket) int { return cmp.Compare(a.Second, b.Second) })
	return out
}
