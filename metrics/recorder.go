package metrics

import (
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// errorSlots is how many distinct error types a recorder counts without a
// map; a client rarely sees more than two or three kinds in one second.
const errorSlots = 8

// Recorder records the samples of one client of one task. Record is the
// hot path: it takes only the recorder's own mutex (contended by Flush about
// once a second) and does not allocate in steady state. Flush hands over
// everything recorded since the previous Flush as a Delta.
//
// A recorder holds two sets of dense histograms (about 1 MiB in all) and
// swaps them on Flush, so recording never waits for a delta to be built.
type Recorder struct {
	task  string
	epoch time.Time

	flushMu sync.Mutex // serialises Flush; never taken by Record
	mu      sync.Mutex // guards active and the swap
	active  *period
	spare   *period // only touched by Flush, under flushMu
}

// period is what a recorder collected between two flushes.
type period struct {
	service, latency, processing *hdr.Histogram

	requests, warmupRequests int64
	errors, warmupErrors     int64
	dropped                  int64

	errTypes  [errorSlots]ErrorType
	errCounts [errorSlots]int64
	errUsed   int
	errMore   map[ErrorType]int64 // only when more than errorSlots types occur

	throughput, warmupThroughput secondBuckets

	// first and last are the earliest request start (End - ServiceTime) and
	// the latest End of the measurement samples, in Unix nanoseconds.
	first, last int64
}

func newPeriod() *period {
	return &period{
		service:          newDense(),
		latency:          newDense(),
		processing:       newDense(),
		throughput:       secondBuckets{w: make([]int64, 0, 8)},
		warmupThroughput: secondBuckets{w: make([]int64, 0, 8)},
	}
}

func (p *period) empty() bool {
	return p.requests == 0 && p.warmupRequests == 0 && p.dropped == 0
}

func (p *period) reset() {
	p.service.Reset()
	p.latency.Reset()
	p.processing.Reset()
	p.requests, p.warmupRequests, p.errors, p.warmupErrors, p.dropped = 0, 0, 0, 0, 0
	clear(p.errTypes[:])
	clear(p.errCounts[:])
	p.errUsed = 0
	clear(p.errMore)
	p.throughput.reset()
	p.warmupThroughput.reset()
	p.first, p.last = 0, 0
}

func (p *period) countError(t ErrorType) {
	for i := 0; i < p.errUsed; i++ {
		if p.errTypes[i] == t {
			p.errCounts[i]++
			return
		}
	}
	if p.errUsed < errorSlots {
		p.errTypes[p.errUsed] = t
		p.errCounts[p.errUsed] = 1
		p.errUsed++
		return
	}
	if p.errMore == nil {
		p.errMore = make(map[ErrorType]int64)
	}
	p.errMore[t]++
}

// NewRecorder returns the recorder of one client of task. epoch is
// race-wide, so that the 1-second throughput buckets of all clients on all
// hosts align.
func NewRecorder(task string, epoch time.Time) *Recorder {
	return &Recorder{task: task, epoch: epoch, active: newPeriod(), spare: newPeriod()}
}

// Record adds one finished request. Warmup samples are only counted (and
// feed the live throughput); measurement samples go into the histograms,
// the throughput buckets and the error counts.
func (r *Recorder) Record(s Sample) {
	sec := secondIndex(r.epoch, s.End)
	r.mu.Lock()
	p := r.active
	if s.Warmup {
		p.warmupRequests++
		if s.Err != "" {
			p.warmupErrors++
		}
		if !p.warmupThroughput.add(sec, s.Weight) {
			p.dropped++
		}
		r.mu.Unlock()
		return
	}
	p.requests++
	// Values are clamped into range, so these cannot fail.
	_ = p.service.RecordValue(micros(s.ServiceTime))
	_ = p.latency.RecordValue(micros(s.Latency))
	_ = p.processing.RecordValue(micros(s.ProcessingTime))
	if s.Err != "" {
		p.errors++
		p.countError(s.Err)
	}
	if !p.throughput.add(sec, s.Weight) {
		p.dropped++
	}
	end := s.End.UnixNano()
	start := end - int64(s.ServiceTime)
	if p.first == 0 || start < p.first {
		p.first = start
	}
	if end > p.last {
		p.last = end
	}
	r.mu.Unlock()
}

// Flush hands over everything recorded since the previous Flush. It returns
// nil when nothing was recorded (or r is nil). Only the swap of the two
// buffers happens under the lock Record takes; the delta is built after.
func (r *Recorder) Flush() *Delta {
	if r == nil {
		return nil
	}
	r.flushMu.Lock()
	defer r.flushMu.Unlock()

	r.mu.Lock()
	if r.active.empty() {
		r.mu.Unlock()
		return nil
	}
	done := r.active
	r.active, r.spare = r.spare, done
	r.mu.Unlock()

	d := done.delta(r.task, r.epoch)
	done.reset()
	return d
}

// delta copies the period into a new, self-contained Delta.
func (p *period) delta(task string, epoch time.Time) *Delta {
	d := &Delta{
		Task:              task,
		Epoch:             epoch,
		Requests:          p.requests,
		WarmupRequests:    p.warmupRequests,
		Errors:            p.errors,
		WarmupErrors:      p.warmupErrors,
		ThroughputDropped: p.dropped,
		Throughput:        p.throughput.appendTo(nil),
		WarmupThroughput:  p.warmupThroughput.appendTo(nil),
	}
	if p.requests > 0 {
		d.First, d.Last = time.Unix(0, p.first).UTC(), time.Unix(0, p.last).UTC()
		d.ServiceTime, d.Latency, d.ProcessingTime = newPacked(), newPacked(), newPacked()
		d.ServiceTime.MergeFrom(p.service)
		d.Latency.MergeFrom(p.latency)
		d.ProcessingTime.MergeFrom(p.processing)
	}
	if p.errUsed > 0 {
		d.ErrorsByType = make(map[ErrorType]int64, p.errUsed+len(p.errMore))
		for i := 0; i < p.errUsed; i++ {
			d.ErrorsByType[p.errTypes[i]] += p.errCounts[i]
		}
		for t, n := range p.errMore {
			d.ErrorsByType[t] += n
		}
	}
	return d
}
