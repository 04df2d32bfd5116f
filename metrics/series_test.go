package metrics

import (
	"reflect"
	"testing"
	"time"
)

// TestPerSecond: the seconds of every delta of a task, summed and in
// order, measurement and warmup apart.
func TestPerSecond(t *testing.T) {
	epoch := time.Date(2026, 11, 25, 10, 15, 0, 0, time.UTC)
	a := NewAggregator(epoch)
	for _, d := range []*Delta{
		{Task: "bulk", Epoch: epoch, Throughput: []Bucket{{3, 10}, {4, 5}}, WarmupThroughput: []Bucket{{0, 2}}},
		{Task: "bulk", Epoch: epoch, Throughput: []Bucket{{2, 1}, {4, 5}}},
	} {
		if err := a.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	measured, warmup := a.PerSecond("bulk")
	if want := []Bucket{{2, 1}, {3, 10}, {4, 10}}; !reflect.DeepEqual(measured, want) {
		t.Errorf("measured = %v, want %v", measured, want)
	}
	if want := []Bucket{{0, 2}}; !reflect.DeepEqual(warmup, want) {
		t.Errorf("warmup = %v, want %v", warmup, want)
	}
	if m, w := a.PerSecond("other"); m != nil || w != nil {
		t.Errorf("unknown task: %v, %v; want nil", m, w)
	}
}
