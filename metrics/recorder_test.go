package metrics

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var testEpoch = time.Date(2026, 11, 25, 10, 15, 0, 0, time.UTC)

// at returns the time sec seconds plus frac of a second after testEpoch.
func at(sec int, frac time.Duration) time.Time {
	return testEpoch.Add(time.Duration(sec)*time.Second + frac)
}

func TestRecordDoesNotAllocateInSteadyState(t *testing.T) {
	r := NewRecorder("index-append", testEpoch)
	samples := []Sample{
		{End: at(0, 100*time.Millisecond), ServiceTime: 3 * time.Millisecond, Latency: 4 * time.Millisecond, ProcessingTime: 5 * time.Millisecond, Weight: 1000},
		{End: at(1, 0), ServiceTime: 30 * time.Millisecond, Latency: 40 * time.Millisecond, ProcessingTime: 50 * time.Millisecond, Weight: 1000, Err: HTTPError(429)},
		{End: at(2, 0), ServiceTime: time.Second, Latency: 2 * time.Hour, ProcessingTime: time.Second, Weight: 1, Err: ErrTimeout},
		{End: at(0, 0), ServiceTime: time.Millisecond, Latency: time.Millisecond, ProcessingTime: time.Millisecond, Weight: 1, Warmup: true, Err: ErrConnection},
		{End: at(1, 500*time.Millisecond), ServiceTime: -time.Millisecond, Weight: 0, Err: ErrBulkItem},
		{End: at(1, 0), ServiceTime: time.Millisecond, Latency: 2 * time.Millisecond, Weight: 1, Throttled: true, ScheduleLag: 300 * time.Microsecond},
		{End: at(2, 0), ServiceTime: time.Millisecond, Weight: 1, Throttled: true, ScheduleLag: 5 * time.Second, Err: ErrTimeout},
	}
	// Warm up: the first period sizes the bucket slices and error slots.
	for _, s := range samples {
		r.Record(s)
	}
	r.Flush()
	for _, s := range samples {
		r.Record(s)
	}
	r.Flush()
	i := 0
	allocs := testing.AllocsPerRun(10000, func() {
		r.Record(samples[i%len(samples)])
		i++
	})
	if allocs != 0 {
		t.Fatalf("Record allocates %.2f times per call, want 0", allocs)
	}
}

func TestHTTPErrorDoesNotAllocate(t *testing.T) {
	var got ErrorType
	allocs := testing.AllocsPerRun(1000, func() { got = HTTPError(503) })
	if allocs != 0 || got != "http-503" {
		t.Fatalf("HTTPError(503) = %q with %.1f allocs, want \"http-503\" with 0", got, allocs)
	}
	if got := HTTPError(999); got != "http-999" {
		t.Fatalf("HTTPError(999) = %q", got)
	}
}

func TestFlush(t *testing.T) {
	t.Run("nil_recorder_returns_nil", func(t *testing.T) {
		var r *Recorder
		if d := r.Flush(); d != nil {
			t.Fatalf("nil recorder flushed %+v", d)
		}
	})
	t.Run("empty_recorder_returns_nil", func(t *testing.T) {
		r := NewRecorder("t", testEpoch)
		if d := r.Flush(); d != nil {
			t.Fatalf("empty recorder flushed %+v", d)
		}
	})
	t.Run("second_flush_hands_over_only_new_samples", func(t *testing.T) {
		r := NewRecorder("t", testEpoch)
		r.Record(Sample{End: at(0, 0), ServiceTime: time.Millisecond, Latency: time.Millisecond, Weight: 1})
		r.Record(Sample{End: at(0, 0), ServiceTime: time.Millisecond, Latency: time.Millisecond, Weight: 1})
		if d := r.Flush(); d.Requests != 2 || d.ServiceTime.TotalCount() != 2 {
			t.Fatalf("first flush: requests %d, histogram %d, want 2 and 2", d.Requests, d.ServiceTime.TotalCount())
		}
		r.Record(Sample{End: at(5, 0), ServiceTime: time.Millisecond, Latency: time.Millisecond, Weight: 7})
		d := r.Flush()
		if d.Requests != 1 || d.ServiceTime.TotalCount() != 1 {
			t.Fatalf("second flush: requests %d, histogram %d, want 1 and 1", d.Requests, d.ServiceTime.TotalCount())
		}
		if len(d.Throughput) != 1 || d.Throughput[0] != (Bucket{Second: 5, Weight: 7}) {
			t.Fatalf("second flush throughput %v, want [{5 7}]", d.Throughput)
		}
		if r.Flush() != nil {
			t.Fatal("third flush without samples is not nil")
		}
	})
	t.Run("delta_does_not_share_state_with_the_recorder", func(t *testing.T) {
		r := NewRecorder("t", testEpoch)
		r.Record(Sample{End: at(0, 0), Latency: time.Millisecond, Weight: 1, Err: ErrTimeout})
		d := r.Flush()
		for range 100 {
			r.Record(Sample{End: at(0, 0), Latency: time.Second, Weight: 1, Err: ErrTimeout})
		}
		r.Flush()
		r.Record(Sample{End: at(0, 0), Latency: time.Second, Weight: 1, Err: ErrTimeout})
		if d.ErrorServiceTime.TotalCount() != 1 || d.ErrorsByType[ErrTimeout] != 1 || d.Throughput[0].Weight != 1 ||
			d.ErrorTimes[ErrTimeout] != (ErrorSpan{at(0, 0), at(0, 0)}) {
			t.Fatalf("delta changed after later flushes: error service time count %d, timeouts %d, throughput %v, error times %v",
				d.ErrorServiceTime.TotalCount(), d.ErrorsByType[ErrTimeout], d.Throughput, d.ErrorTimes)
		}
	})
}

func TestRecordAndFlushConcurrently(t *testing.T) {
	// Run with -race: Record and Flush from different goroutines lose no
	// sample and double-count none.
	r := NewRecorder("t", testEpoch)
	const n = 20000
	var (
		wg     sync.WaitGroup
		deltas []*Delta
		stop   = make(chan struct{})
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				if d := r.Flush(); d != nil {
					deltas = append(deltas, d)
				}
			}
		}
	}()
	for i := range n {
		r.Record(Sample{End: at(i%3, 0), Latency: time.Duration(i) * time.Microsecond, Weight: 2, Warmup: i%10 == 0})
	}
	close(stop)
	wg.Wait()
	if d := r.Flush(); d != nil {
		deltas = append(deltas, d)
	}
	var requests, warmup, weight, hist int64
	for _, d := range deltas {
		requests += d.Requests
		warmup += d.WarmupRequests
		if d.Latency != nil {
			hist += d.Latency.TotalCount()
		}
		for _, b := range d.Throughput {
			weight += b.Weight
		}
	}
	if requests != n*9/10 || warmup != n/10 || hist != requests || weight != 2*requests {
		t.Fatalf("over %d deltas: requests %d, warmup %d, histogram %d, weight %d; want %d, %d, %d, %d",
			len(deltas), requests, warmup, hist, weight, n*9/10, n/10, n*9/10, 2*n*9/10)
	}
}

func TestSecondIndexRoundsDown(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want int64
	}{
		{"at_the_epoch", testEpoch, 0},
		{"just_before_the_next_second", at(0, time.Second-1), 0},
		{"on_a_second", at(7, 0), 7},
		{"just_before_the_epoch", testEpoch.Add(-1), -1},
		{"a_second_and_a_bit_before", testEpoch.Add(-time.Second - 1), -2},
		{"exactly_a_second_before", testEpoch.Add(-time.Second), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := secondIndex(testEpoch, tt.t); got != tt.want {
				t.Fatalf("secondIndex = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSecondBuckets(t *testing.T) {
	t.Run("out_of_order_seconds_are_kept_in_order", func(t *testing.T) {
		var b secondBuckets
		for _, s := range []int64{5, 7, 3, 5, 3} {
			b.add(s, s)
		}
		got := b.appendTo(nil)
		want := []Bucket{{3, 6}, {5, 10}, {7, 7}}
		if len(got) != len(want) {
			t.Fatalf("buckets %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("buckets %v, want %v", got, want)
			}
		}
	})
	t.Run("a_second_a_day_away_is_refused", func(t *testing.T) {
		var b secondBuckets
		b.add(0, 1)
		if b.add(maxSpanSeconds, 1) || b.add(-maxSpanSeconds, 1) || b.add(math.MinInt64/2, 1) {
			t.Fatal("add accepted a second beyond the span limit")
		}
		if !b.add(maxSpanSeconds-1, 1) {
			t.Fatal("add refused the last second within the span limit")
		}
	})
	t.Run("recorder_counts_refused_samples_as_dropped", func(t *testing.T) {
		r := NewRecorder("t", testEpoch)
		r.Record(Sample{End: at(0, 0), Weight: 1})
		r.Record(Sample{End: time.Time{}, Weight: 1}) // a forgotten End
		d := r.Flush()
		if d.ThroughputDropped != 1 || d.Requests != 2 || len(d.Throughput) != 1 {
			t.Fatalf("dropped %d, requests %d, buckets %v; want 1, 2, one bucket", d.ThroughputDropped, d.Requests, d.Throughput)
		}
	})
}

func BenchmarkRecord(b *testing.B) {
	r := NewRecorder("index-append", testEpoch)
	s := Sample{End: at(0, 0), ServiceTime: 3 * time.Millisecond, Latency: 4 * time.Millisecond, ProcessingTime: 5 * time.Millisecond, Weight: 1000}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.End = at(i/100000, 0) // about 100k requests per second
		s.ServiceTime = time.Duration(i%5000) * time.Microsecond
		r.Record(s)
		if i%100000 == 99999 {
			r.Flush()
		}
	}
}

func BenchmarkFlush(b *testing.B) {
	r := NewRecorder("index-append", testEpoch)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for j := range 1000 {
			r.Record(Sample{End: at(i, 0), ServiceTime: time.Duration(j) * 10 * time.Microsecond, Latency: time.Duration(j) * 10 * time.Microsecond, Weight: 1})
		}
		r.Flush()
	}
}

func TestStripedRecorder(t *testing.T) {
	t.Run("clients_are_dealt_to_a_bounded_number_of_stripes", func(t *testing.T) {
		r := newRecorder("t", testEpoch, 4)
		if r.Stripe(0) == r.Stripe(1) || r.Stripe(1) != r.Stripe(5) || r.Stripe(-3) != r.Stripe(1) {
			t.Fatal("clients 0 and 1 share a stripe, or 1, 5 and -3 do not")
		}
		if n := len(newRecorder("t", testEpoch, 10000).stripes); n != maxStripes {
			t.Fatalf("%d stripes, want at most %d", n, maxStripes)
		}
		if n := len(newRecorder("t", testEpoch, 0).stripes); n != 1 {
			t.Fatalf("%d stripes, want at least 1", n)
		}
	})
	t.Run("concurrent_clients_and_flushes_add_up_to_one_stripe", func(t *testing.T) {
		// Run with -race: 64 clients on 8 stripes record while flushes
		// run; the merged deltas summarise exactly as one stripe fed the
		// same samples in one go.
		samples := randomSamples(11, 40000, 5)
		one := newRecorder("index-append", testEpoch, 1)
		for _, s := range samples {
			one.Record(s)
		}
		want := NewAggregator(testEpoch)
		if err := want.Add(one.Flush()); err != nil {
			t.Fatal(err)
		}

		r := newRecorder("index-append", testEpoch, 8)
		const clients = 64
		var (
			wg, flusher sync.WaitGroup
			mu          sync.Mutex
			deltas      []*Delta
			stop        = make(chan struct{})
		)
		flusher.Add(1)
		go func() {
			defer flusher.Done()
			for {
				if d := r.Flush(); d != nil {
					mu.Lock()
					deltas = append(deltas, d)
					mu.Unlock()
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := r.Stripe(c)
				for i := c; i < len(samples); i += clients {
					st.Record(samples[i])
				}
			}()
		}
		wg.Wait()
		close(stop)
		flusher.Wait()
		if d := r.Flush(); d != nil {
			deltas = append(deltas, d)
		}
		got := NewAggregator(testEpoch)
		for _, d := range deltas {
			if err := got.Add(d); err != nil {
				t.Fatal(err)
			}
		}
		gs, ws := got.Summary(bulkInfo), want.Summary(bulkInfo)
		if !reflect.DeepEqual(gs, ws) {
			g, _ := json.MarshalIndent(gs, "", " ")
			w, _ := json.MarshalIndent(ws, "", " ")
			t.Fatalf("over %d deltas, the striped summary differs from one stripe's:\ngot  %s\nwant %s", len(deltas), g, w)
		}
		if ws.Tasks[0].ScheduleLag == nil || ws.Tasks[0].Errors == 0 {
			t.Fatalf("test data too thin: %+v", ws.Tasks[0])
		}
	})
	t.Run("a_flush_leaves_no_counts_behind", func(t *testing.T) {
		r := newRecorder("t", testEpoch, 3)
		for i, s := range randomSamples(2, 3000, 2) {
			r.Stripe(i).Record(s)
		}
		if r.Flush() == nil {
			t.Fatal("nothing flushed")
		}
		for i := range r.stripes {
			p := &r.stripes[i].p
			for name, h := range map[string]*blockHist{"service": &p.service, "latency": &p.latency, "processing": &p.processing, "error service": &p.errService, "lag": &p.lag} {
				for b, blk := range h.blocks {
					if h.total != 0 || blk != nil && slices.ContainsFunc(blk[:], func(n int64) bool { return n != 0 }) {
						t.Fatalf("stripe %d keeps %s counts in block %d after the flush", i, name, b)
					}
				}
			}
		}
		if r.Flush() != nil {
			t.Fatal("a second flush without samples is not nil")
		}
	})
}

func TestScheduleLag(t *testing.T) {
	r := NewRecorder("search", testEpoch)
	for i := 1; i <= 1000; i++ {
		s := Sample{End: at(1, 0), ServiceTime: time.Millisecond, Latency: time.Millisecond, Weight: 1,
			Throttled: true, ScheduleLag: time.Duration(i) * time.Microsecond}
		if i%10 == 0 {
			s.Err = HTTPError(503) // failed requests were late all the same
		}
		r.Record(s)
	}
	// Warmup samples are in no figure, and unthrottled requests had no
	// intended start to be late for.
	r.Record(Sample{End: at(1, 0), Weight: 1, Warmup: true, Throttled: true, ScheduleLag: time.Hour})
	r.Record(Sample{End: at(1, 0), Weight: 1, ScheduleLag: time.Hour})
	d := viaWire(t, r.Flush())
	if d.ScheduleLag == nil || d.ScheduleLag.TotalCount() != 1000 {
		t.Fatalf("delta's schedule lag %v, want 1000 values", d.ScheduleLag)
	}
	a := NewAggregator(testEpoch)
	if err := a.Add(d); err != nil {
		t.Fatal(err)
	}
	ts := a.Summary([]TaskInfo{{Task: "search"}}).Tasks[0]
	for p, w := range map[string]float64{"50": 0.5, "90": 0.9, "99": 0.99, "100": 1} {
		checkClose(t, "schedule lag p"+p, ts.ScheduleLag[p], w, 1e-3)
	}
	checkClose(t, "schedule lag mean", ts.ScheduleLagMean, 0.5005, 1e-3)

	unthrottled := NewRecorder("search", testEpoch)
	unthrottled.Record(Sample{End: at(1, 0), ServiceTime: time.Millisecond, Latency: time.Millisecond, Weight: 1})
	d = viaWire(t, unthrottled.Flush())
	if d.ScheduleLag != nil {
		t.Fatalf("unthrottled delta has a schedule lag of %d values", d.ScheduleLag.TotalCount())
	}
	a = NewAggregator(testEpoch)
	if err := a.Add(d); err != nil {
		t.Fatal(err)
	}
	if ts := a.Summary([]TaskInfo{{Task: "search"}}).Tasks[0]; ts.ScheduleLag != nil || ts.ScheduleLagMean != 0 {
		t.Fatalf("unthrottled task has schedule lag %v, mean %v", ts.ScheduleLag, ts.ScheduleLagMean)
	}
}

// BenchmarkStripedRecord records from as many goroutines as processors,
// each client through its own stripe, as a load driver's clients do.
func BenchmarkStripedRecord(b *testing.B) {
	r := NewRecorder("search", testEpoch)
	var client atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		st := r.Stripe(int(client.Add(1)))
		s := Sample{End: at(0, 0), ServiceTime: 3 * time.Millisecond, Latency: 4 * time.Millisecond, ProcessingTime: 5 * time.Millisecond, Weight: 1, Throttled: true}
		for i := 0; pb.Next(); i++ {
			s.ServiceTime = time.Duration(i%5000) * time.Microsecond
			s.ScheduleLag = time.Duration(i%300) * time.Microsecond
			st.Record(s)
		}
	})
}
