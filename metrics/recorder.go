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
// Failed requests' service times go to a sparse histogram instead, which
// costs only the buckets in use.
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
	// service, latency and processing hold the successful requests,
	// errService the service times of the failed ones.
	service, latency, processing *hdr.Histogram
	errService                   *hdr.PackedHistogram

	requests, warmupRequests int64
	errors, warmupErrors     int64
	dropped                  int64

	errTypes [errorSlots]ErrorType
	errSlots [errorSlots]errorTally
	errUsed  int
	errMore  map[ErrorType]errorTally // only when more than errorSlots types occur

	throughput, warmupThroughput secondBuckets

	// first and last are the earliest request start (End - ServiceTime) and
	// the latest End of the measurement samples, in Unix nanoseconds.
	first, last int64
}

// errorTally counts the failures of one type and when the first and the
// last of them ended, in Unix nanoseconds.
type errorTally struct {
	n, first, last int64
}

func (e *errorTally) add(end int64) {
	if e.n == 0 || end < e.first {
		e.first = end
	}
	if e.n == 0 || end > e.last {
		e.last = end
	}
	e.n++
}

func newPeriod() *period {
	return &period{
		service:          newDense(),
		latency:          newDense(),
		processing:       newDense(),
		errService:       newPacked(),
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
	p.errService.Reset()
	p.requests, p.warmupRequests, p.errors, p.warmupErrors, p.dropped = 0, 0, 0, 0, 0
	clear(p.errTypes[:])
	clear(p.errSlots[:])
	p.errUsed = 0
	clear(p.errMore)
	p.throughput.reset()
	p.warmupThroughput.reset()
	p.first, p.last = 0, 0
}

// countError counts a failure of type t that ended at end (Unix
// nanoseconds).
func (p *period) countError(t ErrorType, end int64) {
	for i := 0; i < p.errUsed; i++ {
		if p.errTypes[i] == t {
			p.errSlots[i].add(end)
			return
		}
	}
	if p.errUsed < errorSlots {
		p.errTypes[p.errUsed] = t
		p.errSlots[p.errUsed].add(end)
		p.errUsed++
		return
	}
	if p.errMore == nil {
		p.errMore = make(map[ErrorType]errorTally)
	}
	e := p.errMore[t]
	e.add(end)
	p.errMore[t] = e
}

// NewRecorder returns the recorder of one client of task. epoch is
// race-wide, so that the 1-second throughput buckets of all clients on all
// hosts align.
func NewRecorder(task string, epoch time.Time) *Recorder {
	return &Recorder{task: task, epoch: epoch, active: newPeriod(), spare: newPeriod()}
}

// Record adds one finished request. Warmup samples are only counted (and
// feed the live throughput); measurement samples go into the throughput
// buckets and either the histograms of successful requests or, failed, the
// error counts, times and service time histogram.
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
	end := s.End.UnixNano()
	// Values are clamped into range, so these cannot fail.
	if s.Err == "" {
		_ = p.service.RecordValue(micros(s.ServiceTime))
		_ = p.latency.RecordValue(micros(s.Latency))
		_ = p.processing.RecordValue(micros(s.ProcessingTime))
	} else {
		p.errors++
		_ = p.errService.RecordValue(micros(s.ServiceTime))
		p.countError(s.Err, end)
	}
	if !p.throughput.add(sec, s.Weight) {
		p.dropped++
	}
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
	}
	if p.requests > p.errors {
		d.ServiceTime, d.Latency, d.ProcessingTime = newPacked(), newPacked(), newPacked()
		d.ServiceTime.MergeFrom(p.service)
		d.Latency.MergeFrom(p.latency)
		d.ProcessingTime.MergeFrom(p.processing)
	}
	if p.errors > 0 {
		d.ErrorServiceTime = p.errService.Clone()
	}
	if p.errUsed > 0 {
		n := p.errUsed + len(p.errMore)
		d.ErrorsByType = make(map[ErrorType]int64, n)
		d.ErrorTimes = make(map[ErrorType]ErrorSpan, n)
		add := func(t ErrorType, e *errorTally) {
			d.ErrorsByType[t] += e.n
			d.ErrorTimes[t] = ErrorSpan{First: time.Unix(0, e.first).UTC(), Last: time.Unix(0, e.last).UTC()}
		}
		for i := 0; i < p.errUsed; i++ {
			add(p.errTypes[i], &p.errSlots[i])
		}
		for t, e := range p.errMore {
			add(t, &e)
		}
	}
	return d
}
