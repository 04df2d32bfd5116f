package metrics

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Delta is what one or more recorders of one task collected since their
// previous flush. It is self-contained (it shares nothing with the recorder
// that made it) and small: sparse histograms and only the seconds that saw
// samples. Deltas of the same task and epoch merge (Merge), so a worker can
// combine its clients' deltas before shipping one per task.
//
// On the wire (MarshalJSON, DecodeDelta) the histograms are base64 strings
// of hdrhistogram's V2 compressed encoding, the throughput buckets are
// [[second, weight], ...] arrays and the error times {type: [first-ns,
// last-ns]}.
type Delta struct {
	// Task is the name of the task the samples belong to.
	Task string
	// Epoch is the race-wide time that throughput seconds count from.
	Epoch time.Time

	// Requests and Errors count measurement samples; WarmupRequests and
	// WarmupErrors count warmup samples.
	Requests, WarmupRequests int64
	Errors, WarmupErrors     int64
	// ErrorsByType splits Errors (measurement samples only) by type.
	ErrorsByType map[ErrorType]int64
	// ErrorTimes holds, for each type of ErrorsByType, the End of its first
	// and last failure.
	ErrorTimes map[ErrorType]ErrorSpan

	// Throughput holds the measurement samples' weight per second, ascending
	// by second, without empty seconds; WarmupThroughput the same for warmup
	// samples.
	Throughput, WarmupThroughput []Bucket
	// ThroughputDropped counts samples whose End was too far from the other
	// samples of the period to be bucketed (see maxSpanSeconds).
	ThroughputDropped int64

	// First is the earliest request start (End - ServiceTime) and Last the
	// latest End of the measurement samples; both zero when Requests is 0.
	First, Last time.Time

	// ServiceTime, Latency and ProcessingTime are histograms of the
	// successful measurement samples in microseconds (nil when all failed
	// or Requests is 0); ErrorServiceTime is the service time histogram of
	// the failed ones (nil when Errors is 0).
	ServiceTime, Latency, ProcessingTime *hdr.PackedHistogram
	ErrorServiceTime                     *hdr.PackedHistogram
	// ScheduleLag is the histogram of how late throttled measurement
	// samples, successful or failed, started after their intended start,
	// in microseconds (nil for an unthrottled task or when Requests is 0).
	ScheduleLag *hdr.PackedHistogram
}

// Merge adds o to d. Both must be of the same task and epoch. o is left
// unchanged and shares nothing with d afterwards.
func (d *Delta) Merge(o *Delta) error {
	if o == nil {
		return nil
	}
	if d.Task != o.Task {
		return fmt.Errorf("merge delta of task %q into %q: different tasks", o.Task, d.Task)
	}
	if !d.Epoch.Equal(o.Epoch) {
		return fmt.Errorf("merge delta of task %q: epoch %s differs from %s", o.Task, o.Epoch.Format(time.RFC3339Nano), d.Epoch.Format(time.RFC3339Nano))
	}
	d.Requests += o.Requests
	d.WarmupRequests += o.WarmupRequests
	d.Errors += o.Errors
	d.WarmupErrors += o.WarmupErrors
	d.ThroughputDropped += o.ThroughputDropped
	for t, n := range o.ErrorsByType {
		if d.ErrorsByType == nil {
			d.ErrorsByType = make(map[ErrorType]int64, len(o.ErrorsByType))
		}
		d.ErrorsByType[t] += n
	}
	for t, sp := range o.ErrorTimes {
		if d.ErrorTimes == nil {
			d.ErrorTimes = make(map[ErrorType]ErrorSpan, len(o.ErrorTimes))
		}
		d.ErrorTimes[t] = d.ErrorTimes[t].widen(sp)
	}
	d.Throughput = mergeBuckets(d.Throughput, o.Throughput)
	d.WarmupThroughput = mergeBuckets(d.WarmupThroughput, o.WarmupThroughput)
	if !o.First.IsZero() && (d.First.IsZero() || o.First.Before(d.First)) {
		d.First = o.First
	}
	if o.Last.After(d.Last) {
		d.Last = o.Last
	}
	d.ServiceTime = mergePacked(d.ServiceTime, o.ServiceTime)
	d.Latency = mergePacked(d.Latency, o.Latency)
	d.ProcessingTime = mergePacked(d.ProcessingTime, o.ProcessingTime)
	d.ErrorServiceTime = mergePacked(d.ErrorServiceTime, o.ErrorServiceTime)
	d.ScheduleLag = mergePacked(d.ScheduleLag, o.ScheduleLag)
	return nil
}

func mergePacked(dst, src *hdr.PackedHistogram) *hdr.PackedHistogram {
	if src == nil {
		return dst
	}
	if dst == nil {
		return src.Clone()
	}
	dst.Merge(src)
	return dst
}

// wireDelta is the JSON form of a Delta. Field names are part of the
// coordinator-worker protocol: add fields, never rename them.
type wireDelta struct {
	Task              string              `json:"task"`
	EpochNs           int64               `json:"epoch-ns"`
	Requests          int64               `json:"requests"`
	WarmupRequests    int64               `json:"warmup-requests"`
	Errors            int64               `json:"errors"`
	WarmupErrors      int64               `json:"warmup-errors"`
	ErrorsByType      map[string]int64    `json:"errors-by-type,omitempty"`
	ErrorTimes        map[string][2]int64 `json:"error-times,omitempty"` // [first-ns, last-ns]
	Throughput        []Bucket            `json:"throughput"`
	WarmupThroughput  []Bucket            `json:"warmup-throughput,omitempty"`
	ThroughputDropped int64               `json:"throughput-dropped,omitempty"`
	FirstNs           int64               `json:"first-ns,omitempty"`
	LastNs            int64               `json:"last-ns,omitempty"`
	ServiceTime       string              `json:"service-time,omitempty"`
	Latency           string              `json:"latency,omitempty"`
	ProcessingTime    string              `json:"processing-time,omitempty"`
	ErrorServiceTime  string              `json:"error-service-time,omitempty"`
	ScheduleLag       string              `json:"schedule-lag,omitempty"`
}

// MarshalJSON encodes d in the wire form DecodeDelta reads.
func (d *Delta) MarshalJSON() ([]byte, error) {
	w := wireDelta{
		Task:              d.Task,
		EpochNs:           d.Epoch.UnixNano(),
		Requests:          d.Requests,
		WarmupRequests:    d.WarmupRequests,
		Errors:            d.Errors,
		WarmupErrors:      d.WarmupErrors,
		Throughput:        d.Throughput,
		WarmupThroughput:  d.WarmupThroughput,
		ThroughputDropped: d.ThroughputDropped,
	}
	if w.Throughput == nil {
		w.Throughput = []Bucket{}
	}
	if len(d.ErrorsByType) > 0 {
		w.ErrorsByType = make(map[string]int64, len(d.ErrorsByType))
		for t, n := range d.ErrorsByType {
			w.ErrorsByType[string(t)] = n
		}
	}
	if len(d.ErrorTimes) > 0 {
		w.ErrorTimes = make(map[string][2]int64, len(d.ErrorTimes))
		for t, sp := range d.ErrorTimes {
			w.ErrorTimes[string(t)] = [2]int64{sp.First.UnixNano(), sp.Last.UnixNano()}
		}
	}
	if !d.First.IsZero() {
		w.FirstNs = d.First.UnixNano()
	}
	if !d.Last.IsZero() {
		w.LastNs = d.Last.UnixNano()
	}
	var err error
	for _, h := range []struct {
		dst *string
		src *hdr.PackedHistogram
	}{{&w.ServiceTime, d.ServiceTime}, {&w.Latency, d.Latency}, {&w.ProcessingTime, d.ProcessingTime}, {&w.ErrorServiceTime, d.ErrorServiceTime}, {&w.ScheduleLag, d.ScheduleLag}} {
		if h.src == nil {
			continue
		}
		if *h.dst, err = encodeHistogram(h.src); err != nil {
			return nil, fmt.Errorf("encode delta of task %q: histogram: %w", d.Task, err)
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes and validates the wire form (see DecodeDelta).
func (d *Delta) UnmarshalJSON(data []byte) error {
	got, err := DecodeDelta(data)
	if err != nil {
		return err
	}
	*d = *got
	return nil
}

// Limits on what a decoded delta may hold. A delta covers about a second of
// one task, so real ones stay far below these; the limits only keep a broken
// or hostile peer from making the coordinator allocate without bound.
const (
	maxWireBuckets      = maxSpanSeconds
	maxWireErrorTypes   = 256
	maxErrorTypeLen     = 128
	maxWireHistogramLen = 4 << 20 // base64 bytes of one encoded histogram
	// maxWireSecond bounds a bucket's second (about 35 000 years either
	// side of the epoch), so spans between seconds never overflow.
	maxWireSecond = 1 << 40
)

// DecodeDelta decodes a delta from its JSON wire form and validates it:
// counts are non-negative and consistent (errors <= requests, errors by type
// sum to errors, each type has its ordered error times, the success
// histograms hold exactly Requests - Errors values and the error service
// time histogram Errors values, the schedule lag histogram at most Requests
// values), buckets are ascending, histograms have the shared geometry. Bad
// input yields an error, never a panic.
func DecodeDelta(data []byte) (*Delta, error) {
	var w wireDelta
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("decode delta: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode delta: trailing data after the JSON object")
	}
	d, err := w.delta()
	if err != nil {
		if w.Task != "" {
			return nil, fmt.Errorf("decode delta of task %q: %w", w.Task, err)
		}
		return nil, fmt.Errorf("decode delta: %w", err)
	}
	return d, nil
}

func (w *wireDelta) delta() (*Delta, error) {
	if w.Task == "" {
		return nil, errors.New("task is empty")
	}
	for name, v := range map[string]int64{
		"requests": w.Requests, "warmup-requests": w.WarmupRequests,
		"errors": w.Errors, "warmup-errors": w.WarmupErrors, "throughput-dropped": w.ThroughputDropped,
	} {
		if v < 0 {
			return nil, fmt.Errorf("%s is negative (%d)", name, v)
		}
	}
	if w.Errors > w.Requests {
		return nil, fmt.Errorf("errors (%d) exceed requests (%d)", w.Errors, w.Requests)
	}
	if w.WarmupErrors > w.WarmupRequests {
		return nil, fmt.Errorf("warmup-errors (%d) exceed warmup-requests (%d)", w.WarmupErrors, w.WarmupRequests)
	}
	d := &Delta{
		Task:              w.Task,
		Epoch:             time.Unix(0, w.EpochNs).UTC(),
		Requests:          w.Requests,
		WarmupRequests:    w.WarmupRequests,
		Errors:            w.Errors,
		WarmupErrors:      w.WarmupErrors,
		ThroughputDropped: w.ThroughputDropped,
	}
	if len(w.ErrorsByType) > maxWireErrorTypes {
		return nil, fmt.Errorf("errors-by-type has %d types, at most %d allowed", len(w.ErrorsByType), maxWireErrorTypes)
	}
	var byType int64
	if len(w.ErrorsByType) > 0 {
		d.ErrorsByType = make(map[ErrorType]int64, len(w.ErrorsByType))
	}
	for t, n := range w.ErrorsByType {
		if t == "" || len(t) > maxErrorTypeLen {
			return nil, fmt.Errorf("errors-by-type: error type %q must be 1..%d bytes", t, maxErrorTypeLen)
		}
		if n < 0 || n > w.Errors {
			return nil, fmt.Errorf("errors-by-type: %q count %d out of range 0..%d", t, n, w.Errors)
		}
		byType += n
		d.ErrorsByType[ErrorType(t)] = n
	}
	if byType != w.Errors {
		return nil, fmt.Errorf("errors-by-type sum to %d, errors is %d", byType, w.Errors)
	}
	if len(w.ErrorTimes) != len(w.ErrorsByType) {
		return nil, fmt.Errorf("error-times has %d types, errors-by-type %d", len(w.ErrorTimes), len(w.ErrorsByType))
	}
	if len(w.ErrorTimes) > 0 {
		d.ErrorTimes = make(map[ErrorType]ErrorSpan, len(w.ErrorTimes))
	}
	for t, ft := range w.ErrorTimes {
		if _, ok := w.ErrorsByType[t]; !ok {
			return nil, fmt.Errorf("error-times: error type %q is not in errors-by-type", t)
		}
		if ft[0] == 0 || ft[1] == 0 || ft[0] > ft[1] {
			return nil, fmt.Errorf("error-times: %q first (%d) and last (%d) must be set and ordered", t, ft[0], ft[1])
		}
		d.ErrorTimes[ErrorType(t)] = ErrorSpan{First: time.Unix(0, ft[0]).UTC(), Last: time.Unix(0, ft[1]).UTC()}
	}
	var err error
	if d.Throughput, err = checkBuckets("throughput", w.Throughput); err != nil {
		return nil, err
	}
	if d.WarmupThroughput, err = checkBuckets("warmup-throughput", w.WarmupThroughput); err != nil {
		return nil, err
	}
	if w.Requests > 0 {
		if w.FirstNs == 0 || w.LastNs == 0 || w.FirstNs > w.LastNs {
			return nil, fmt.Errorf("first-ns (%d) and last-ns (%d) must be set and ordered when requests > 0", w.FirstNs, w.LastNs)
		}
		d.First, d.Last = time.Unix(0, w.FirstNs).UTC(), time.Unix(0, w.LastNs).UTC()
	} else if w.FirstNs != 0 || w.LastNs != 0 {
		return nil, errors.New("first-ns and last-ns must be absent when requests is 0")
	}
	ok := w.Requests - w.Errors
	for _, h := range []struct {
		name  string
		src   string
		dst   **hdr.PackedHistogram
		count int64
		of    string
	}{
		{"service-time", w.ServiceTime, &d.ServiceTime, ok, "successful requests"},
		{"latency", w.Latency, &d.Latency, ok, "successful requests"},
		{"processing-time", w.ProcessingTime, &d.ProcessingTime, ok, "successful requests"},
		{"error-service-time", w.ErrorServiceTime, &d.ErrorServiceTime, w.Errors, "errors"},
	} {
		if h.count == 0 {
			if h.src != "" {
				return nil, fmt.Errorf("%s histogram present while %s are 0", h.name, h.of)
			}
			continue
		}
		p, err := decodeHistogram(h.src)
		if err != nil {
			return nil, fmt.Errorf("%s histogram: %w", h.name, err)
		}
		if p.TotalCount() != h.count {
			return nil, fmt.Errorf("%s histogram holds %d values, %s are %d", h.name, p.TotalCount(), h.of, h.count)
		}
		*h.dst = p
	}
	// The lag histogram counts the throttled measurement samples: at most
	// all of them.
	if w.ScheduleLag != "" {
		if w.Requests == 0 {
			return nil, errors.New("schedule-lag histogram present while requests are 0")
		}
		p, err := decodeHistogram(w.ScheduleLag)
		if err != nil {
			return nil, fmt.Errorf("schedule-lag histogram: %w", err)
		}
		if n := p.TotalCount(); n < 1 || n > w.Requests {
			return nil, fmt.Errorf("schedule-lag histogram holds %d values, requests are %d", n, w.Requests)
		}
		d.ScheduleLag = p
	}
	return d, nil
}

func checkBuckets(name string, bs []Bucket) ([]Bucket, error) {
	if len(bs) > maxWireBuckets {
		return nil, fmt.Errorf("%s has %d buckets, at most %d allowed", name, len(bs), maxWireBuckets)
	}
	for i, b := range bs {
		if b.Second > maxWireSecond || b.Second < -maxWireSecond {
			return nil, fmt.Errorf("%s: second %d out of range ±%d", name, b.Second, int64(maxWireSecond))
		}
		if b.Weight < 0 {
			return nil, fmt.Errorf("%s: second %d has negative weight %d", name, b.Second, b.Weight)
		}
		if i > 0 && b.Second <= bs[i-1].Second {
			return nil, fmt.Errorf("%s: seconds not ascending at index %d (%d after %d)", name, i, b.Second, bs[i-1].Second)
		}
	}
	if len(bs) == 0 {
		return nil, nil
	}
	return bs, nil
}

// decodeHistogram decodes one base64 V2 compressed histogram after checking
// its header, so a stream declaring a huge geometry is rejected before the
// decoder sizes anything from it.
func decodeHistogram(s string) (*hdr.PackedHistogram, error) {
	if s == "" {
		return nil, errors.New("missing")
	}
	if len(s) > maxWireHistogramLen {
		return nil, fmt.Errorf("encoding is %d bytes, at most %d allowed", len(s), maxWireHistogramLen)
	}
	if err := checkHistogramHeader(s); err != nil {
		return nil, err
	}
	p, err := hdr.DecodePacked([]byte(s))
	if err != nil {
		return nil, err
	}
	if !sameGeometry(p) {
		return nil, fmt.Errorf("geometry %d..%d at %d digits, want %d..%d at %d", p.LowestTrackableValue(), p.HighestTrackableValue(), p.SignificantFigures(), histLowest, histHighest, histDigits)
	}
	return p, nil
}

// checkHistogramHeader inflates only the 40-byte inner header of a V2
// compressed histogram and checks its geometry against the shared one.
func checkHistogramHeader(s string) error {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("base64: %w", err)
	}
	if len(raw) < 8 {
		return fmt.Errorf("encoding is %d bytes, shorter than its 8-byte header", len(raw))
	}
	z, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		return fmt.Errorf("zlib: %w", err)
	}
	defer z.Close()
	var h [40]byte
	if _, err := io.ReadFull(z, h[:]); err != nil {
		return fmt.Errorf("inner header: %w", err)
	}
	digits := int32(binary.BigEndian.Uint32(h[12:16]))
	low := int64(binary.BigEndian.Uint64(h[16:24]))
	high := int64(binary.BigEndian.Uint64(h[24:32]))
	if digits != histDigits || low != histLowest || high != histHighest {
		return fmt.Errorf("geometry %d..%d at %d digits, want %d..%d at %d", low, high, digits, histLowest, histHighest, histDigits)
	}
	return nil
}
