package metrics

import (
	"runtime"
	"sync"
	"time"
)

// errorSlots is how many distinct error types a stripe counts without a
// map; a task rarely sees more than two or three kinds in one second.
const errorSlots = 8

// maxStripes bounds the stripes of a recorder: beyond some dozens, more
// stripes only cost memory, since a stripe's lock is held for well under a
// microsecond per sample.
const maxStripes = 64

// Recorder records the samples of all clients of one task on one load
// driver. Its memory does not grow with the number of clients: samples go
// to a few stripes (twice as many as there are processors), each with its
// own lock, and a client always records through the same Stripe, so the
// hot path never takes a lock that all clients fight over. Record does not
// allocate in steady state. Flush hands over everything recorded since the
// previous Flush as one Delta.
//
// A stripe's histograms allocate their counts a power of two at a time (see
// blockHist), and Flush visits and clears only the counts recorded since
// the last flush, so neither memory nor flush work depends on the
// histograms' full range.
type Recorder struct {
	task    string
	epoch   time.Time
	stripes []Stripe

	flushMu sync.Mutex // serialises Flush; never taken by Record
	pend    pending    // what Flush gathers from the stripes, under flushMu
}

// Stripe is the part of a Recorder that some of its clients record into.
// It is safe for concurrent use; its lock is shared only with the other
// clients of the stripe and with Flush (briefly, about once a second).
type Stripe struct {
	epoch time.Time
	mu    sync.Mutex
	p     period
	// The padding keeps the next stripe's lock off the cache line of
	// this stripe's counters.
	_ [64]byte
}

// period is what a stripe collected since the last flush.
type period struct {
	// service, latency and processing hold the successful requests,
	// errService the service times of the failed ones, and lag the schedule
	// lag of throttled requests, failed or not.
	service, latency, processing, errService, lag blockHist

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

// merge adds the failures of o.
func (e *errorTally) merge(o errorTally) {
	if o.n == 0 {
		return
	}
	if e.n == 0 || o.first < e.first {
		e.first = o.first
	}
	if e.n == 0 || o.last > e.last {
		e.last = o.last
	}
	e.n += o.n
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

// NewRecorder returns the recorder of one task on this load driver, with
// twice as many stripes as there are processors. epoch is race-wide, so
// that the 1-second throughput buckets of all clients on all hosts align.
func NewRecorder(task string, epoch time.Time) *Recorder {
	return newRecorder(task, epoch, 2*runtime.GOMAXPROCS(0))
}

func newRecorder(task string, epoch time.Time, stripes int) *Recorder {
	stripes = min(max(stripes, 1), maxStripes)
	r := &Recorder{task: task, epoch: epoch, stripes: make([]Stripe, stripes)}
	for i := range r.stripes {
		s := &r.stripes[i]
		s.epoch = epoch
		s.p.throughput.w = make([]int64, 0, 8)
		s.p.warmupThroughput.w = make([]int64, 0, 8)
	}
	return r
}

// Stripe returns the stripe that client number client records into:
// clients are dealt to the stripes round-robin.
func (r *Recorder) Stripe(client int) *Stripe {
	n := len(r.stripes)
	return &r.stripes[(client%n+n)%n]
}

// Record adds one finished request to the first stripe: for a single
// writer (tests, tools). Concurrent clients record through their own
// Stripe, so that they do not all share one lock.
func (r *Recorder) Record(s Sample) { r.stripes[0].Record(s) }

// Record adds one finished request. Warmup samples are only counted (and
// feed the live throughput); measurement samples go into the throughput
// buckets, the schedule lag histogram when throttled, and either the
// histograms of successful requests or, failed, the error counts, times
// and service time histogram.
func (st *Stripe) Record(s Sample) {
	sec := secondIndex(st.epoch, s.End)
	st.mu.Lock()
	p := &st.p
	if s.Warmup {
		p.warmupRequests++
		if s.Err != "" {
			p.warmupErrors++
		}
		if !p.warmupThroughput.add(sec, s.Weight) {
			p.dropped++
		}
		st.mu.Unlock()
		return
	}
	p.requests++
	end := s.End.UnixNano()
	if s.Err == "" {
		p.service.record(micros(s.ServiceTime))
		p.latency.record(micros(s.Latency))
		p.processing.record(micros(s.ProcessingTime))
	} else {
		p.errors++
		p.errService.record(micros(s.ServiceTime))
		p.countError(s.Err, end)
	}
	if s.Throttled {
		p.lag.record(micros(s.ScheduleLag))
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
	st.mu.Unlock()
}

// pending is what Flush gathers from all stripes before it builds a delta.
type pending struct {
	service, latency, processing, errService, lag blockHist

	requests, warmupRequests int64
	errors, warmupErrors     int64
	dropped                  int64
	errTally                 map[ErrorType]errorTally

	throughput, warmupThroughput []Bucket
	scratch                      []Bucket
	first, last                  int64
}

// take moves everything p collected into f and leaves p empty. It runs
// under the stripe's lock, so it visits only what was recorded.
func (f *pending) take(p *period) {
	p.service.moveTo(&f.service)
	p.latency.moveTo(&f.latency)
	p.processing.moveTo(&f.processing)
	p.errService.moveTo(&f.errService)
	p.lag.moveTo(&f.lag)
	f.requests += p.requests
	f.warmupRequests += p.warmupRequests
	f.errors += p.errors
	f.warmupErrors += p.warmupErrors
	f.dropped += p.dropped
	p.requests, p.warmupRequests, p.errors, p.warmupErrors, p.dropped = 0, 0, 0, 0, 0

	if p.errUsed > 0 && f.errTally == nil {
		f.errTally = make(map[ErrorType]errorTally)
	}
	for i := 0; i < p.errUsed; i++ {
		e := f.errTally[p.errTypes[i]]
		e.merge(p.errSlots[i])
		f.errTally[p.errTypes[i]] = e
	}
	for t, o := range p.errMore {
		e := f.errTally[t]
		e.merge(o)
		f.errTally[t] = e
	}
	clear(p.errTypes[:])
	clear(p.errSlots[:])
	p.errUsed = 0
	clear(p.errMore)

	f.throughput = f.addBuckets(f.throughput, &p.throughput)
	f.warmupThroughput = f.addBuckets(f.warmupThroughput, &p.warmupThroughput)

	if p.first != 0 && (f.first == 0 || p.first < f.first) {
		f.first = p.first
	}
	f.last = max(f.last, p.last)
	p.first, p.last = 0, 0
}

// addBuckets returns dst with the seconds of b added, and empties b; dst
// stays nil while no second saw a sample.
func (f *pending) addBuckets(dst []Bucket, b *secondBuckets) []Bucket {
	f.scratch = b.appendTo(f.scratch[:0])
	b.reset()
	if len(f.scratch) == 0 {
		return dst
	}
	return mergeBuckets(dst, f.scratch)
}

func (f *pending) empty() bool {
	return f.requests == 0 && f.warmupRequests == 0 && f.dropped == 0
}

// Flush hands over everything recorded since the previous Flush. It returns
// nil when nothing was recorded (or r is nil). Each stripe is locked only
// while its counts move over; the delta is built after.
func (r *Recorder) Flush() *Delta {
	if r == nil {
		return nil
	}
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	f := &r.pend
	for i := range r.stripes {
		s := &r.stripes[i]
		s.mu.Lock()
		f.take(&s.p)
		s.mu.Unlock()
	}
	if f.empty() {
		return nil
	}
	d := f.delta(r.task, r.epoch)
	*f = pending{
		service: f.service, latency: f.latency, processing: f.processing, errService: f.errService, lag: f.lag,
		scratch: f.scratch[:0],
	}
	return d
}

// delta builds a new, self-contained Delta from f and empties f's
// histograms.
func (f *pending) delta(task string, epoch time.Time) *Delta {
	d := &Delta{
		Task:              task,
		Epoch:             epoch,
		Requests:          f.requests,
		WarmupRequests:    f.warmupRequests,
		Errors:            f.errors,
		WarmupErrors:      f.warmupErrors,
		ThroughputDropped: f.dropped,
		Throughput:        f.throughput,
		WarmupThroughput:  f.warmupThroughput,
	}
	if f.requests > 0 {
		d.First, d.Last = time.Unix(0, f.first).UTC(), time.Unix(0, f.last).UTC()
	}
	d.ServiceTime = f.service.packed()
	d.Latency = f.latency.packed()
	d.ProcessingTime = f.processing.packed()
	d.ErrorServiceTime = f.errService.packed()
	d.ScheduleLag = f.lag.packed()
	if len(f.errTally) > 0 {
		d.ErrorsByType = make(map[ErrorType]int64, len(f.errTally))
		d.ErrorTimes = make(map[ErrorType]ErrorSpan, len(f.errTally))
		for t, e := range f.errTally {
			d.ErrorsByType[t] = e.n
			d.ErrorTimes[t] = ErrorSpan{First: time.Unix(0, e.first).UTC(), Last: time.Unix(0, e.last).UTC()}
		}
	}
	return d
}
