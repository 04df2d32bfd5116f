package metrics

import (
	"strconv"
	"time"
)

// ErrorType classifies a failed request; "" means success.
//
// Use the constants below or HTTPError for a status code, so that reports
// and comparisons group the same failure under the same name.
type ErrorType string

// Error types the load driver reports. Other non-empty values are allowed
// and counted under their own name.
const (
	// ErrTimeout is a request that got no complete response in time.
	ErrTimeout ErrorType = "timeout"
	// ErrConnection is a request that failed to connect, or whose connection
	// broke before the response was read.
	ErrConnection ErrorType = "connection"
	// ErrBulkItem is a bulk request whose response had "errors": true.
	ErrBulkItem ErrorType = "bulk-item"
	// ErrCondition is a response that failed a condition the operation
	// asserts (for example an unexpected cluster health).
	ErrCondition ErrorType = "condition"
)

// httpErrorTypes holds "http-100" .. "http-599" so that HTTPError does not
// allocate on the request path.
var httpErrorTypes = func() (t [500]ErrorType) {
	for i := range t {
		t[i] = ErrorType("http-" + strconv.Itoa(100+i))
	}
	return t
}()

// HTTPError returns the ErrorType of a failed HTTP status, e.g. "http-429".
// It does not allocate for status codes 100..599.
func HTTPError(status int) ErrorType {
	if status >= 100 && status < 600 {
		return httpErrorTypes[status-100]
	}
	return ErrorType("http-" + strconv.Itoa(status))
}

// Sample is one finished request of one client.
type Sample struct {
	// End is when the response was read; it selects the 1-second throughput
	// bucket (relative to the recorder's epoch).
	End time.Time
	// ServiceTime is request sent -> response read.
	ServiceTime time.Duration
	// Latency is intended start (from the schedule) -> response read: it
	// includes waiting caused by a slow target.
	Latency time.Duration
	// ProcessingTime is the service time plus client-side work (building the
	// request, parsing the response).
	ProcessingTime time.Duration
	// Weight is the sample's throughput units: 1 per operation, or the
	// documents of a bulk request.
	Weight int64
	// Warmup marks a sample taken during the task's warmup period: it is
	// counted, but kept out of every figure of the summary.
	Warmup bool
	// Throttled marks a request of a throttled task, which had an intended
	// start from its schedule; ScheduleLag is then how late it actually
	// started (actual minus intended start): time the load driver itself
	// was late, not the target. Failed requests have one too. Unthrottled
	// requests are due whenever the previous one ends and have none.
	Throttled   bool
	ScheduleLag time.Duration
	// Err classifies a failed request; "" means success. Failed requests are
	// still timed and weighed, as in Rally (the driver decides their
	// Weight), but their service time goes to a histogram of its own and
	// they stay out of the latency, service time and processing time of the
	// successful ones.
	Err ErrorType
}
