package driver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"rally/driver/corpus"
	"rally/metrics"
	"rally/track"
)

// session is one client's connection plus the timing of its current
// iteration: when the first request of the iteration was sent and when the
// last response was read. An operation that needs several requests (delete
// with an existence check, scroll pages, polling) is measured from the
// first send to the last read, as Rally does.
type session struct {
	client Client
	req    Request
	resp   Response
	first  time.Time
	last   time.Time
	// ended is when the session's previous request ended.
	ended time.Time
	// scratch is a reusable buffer for operations that build bodies.
	scratch []byte
	// dial opens another connection to the client's node, for the
	// concurrent streams of a composite operation; nil when the session
	// cannot open more.
	dial func() (Client, error)
	// vars are the ids a composite operation's requests hand each other
	// (point in time, async search); nil outside a composite operation.
	vars *compositeVars
	// engine caches which distribution the node runs, for the requests
	// whose API differs between Elasticsearch and OpenSearch.
	engine *engineInfo
}

// begin starts the timing of an iteration.
func (s *session) begin() { s.first, s.last = time.Time{}, time.Time{} }

// do sends s.req and records the timing.
func (s *session) do(ctx context.Context) error {
	t := time.Now()
	if s.first.IsZero() {
		s.first = t
	}
	// The client's idle time from the session's own clock readings, so
	// that the client reads no clock of its own.
	s.req.idle = time.Hour
	if !s.ended.IsZero() {
		s.req.idle = max(t.Sub(s.ended), 1)
	}
	err := s.client.Do(ctx, &s.req, &s.resp)
	s.last = time.Now()
	s.ended = s.last
	return err
}

// mark records a span without a request (sleep), so it counts as service
// time.
func (s *session) mark(start, end time.Time) {
	if s.first.IsZero() {
		s.first = start
	}
	s.last = end
}

// call sends one request built from its arguments and classifies the
// result: a transport failure or an HTTP status >= 400 becomes a failed
// outcome, except statuses listed in ok (e.g. 404 for deletes).
func (s *session) call(ctx context.Context, method, path string, body []byte, ro *requestOptions, ok ...int) (int, outcome) {
	s.req.Reset()
	s.req.Method = method
	s.req.Path = path
	s.req.Body = body
	if ro != nil {
		s.req.Headers = ro.headers
		s.req.Timeout = ro.timeout
	}
	if err := s.do(ctx); err != nil {
		return 0, transportFailure(method, path, err)
	}
	st := s.resp.Status
	if st >= 400 && !slices.Contains(ok, st) {
		return st, httpFailure(method, path, st, s.resp.Body)
	}
	return st, outcome{weight: 1}
}

// outcome is the result of one iteration of one client.
type outcome struct {
	// weight is the throughput units of the iteration (1 per op, documents
	// per bulk); zero for a failed request, as in Rally.
	weight int64
	// errType classifies a failure ("" for success).
	errType metrics.ErrorType
	// err describes the failure for an abort.
	err error
	// transport marks failures with no HTTP response (connection, timeout):
	// these are fatal even with ignore-response-error-level non-fatal.
	transport bool
	// exhausted means there was nothing left to do: no request was sent and
	// no sample is recorded.
	exhausted bool
	// fatal marks a failure of the driver itself (an unreadable corpus):
	// no sample is recorded and the task stops whatever on-error says.
	fatal bool
}

// RequestError describes a failed request. It never carries request
// headers, so it holds no credentials.
type RequestError struct {
	Method, Path string
	// Status is the HTTP status, 0 when no response was read.
	Status int
	// Type classifies the failure.
	Type metrics.ErrorType
	// Reason is the transport error or the start of the response body.
	Reason string
}

// Error says which request failed and how.
func (e *RequestError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("%s %s: %s: %s", e.Method, e.Path, e.Type, e.Reason)
	}
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Reason)
}

func transportFailure(method, path string, err error) outcome {
	t := metrics.ErrConnection
	if isTimeout(err) {
		t = metrics.ErrTimeout
	}
	return outcome{errType: t, transport: true, err: &RequestError{Method: method, Path: path, Type: t, Reason: err.Error()}}
}

func httpFailure(method, path string, status int, body []byte) outcome {
	t := metrics.HTTPError(status)
	return outcome{errType: t, err: &RequestError{Method: method, Path: path, Status: status, Type: t, Reason: snippet(body)}}
}

func conditionFailure(method, path, msg string) outcome {
	return outcome{errType: metrics.ErrCondition, err: &RequestError{Method: method, Path: path, Type: metrics.ErrCondition, Reason: msg}}
}

// runner runs one iteration of an operation for one client.
type runner interface {
	run(ctx context.Context, s *session) outcome
}

// runnerCloser is a runner that holds resources (open files).
type runnerCloser interface {
	runner
	close() error
}

// clientSlot says which client of a task a runner is for.
type clientSlot struct {
	// index is the client's index among the task's clients (0-based).
	index int
	// total is the number of clients of the task, on all hosts.
	total int
	// seed makes random choices reproducible per client.
	seed uint64
}

// opSpec is an operation checked and compiled at plan time.
type opSpec interface {
	// newRunner returns the runner of one client.
	newRunner(c clientSlot) (runner, error)
	// unit is the throughput unit ("ops/s", "docs/s", "pages/s").
	unit() string
	// finite is true when runners end by themselves (a bulk over a
	// corpus): such tasks run until done instead of once.
	finite() bool
}

// preparer is an opSpec with slow work to do before the race (corpora).
type preparer interface {
	prepare(ctx context.Context, env prepareEnv) error
}

// prepareEnv is what preparation needs from the plan.
type prepareEnv struct {
	trackDir string
	dataDir  string
	progress func(corpus.Event)
}

// constantOp is an opSpec whose runner is the spec itself (stateless,
// shared by all clients; all per-client state lives in the session).
type constantOp struct{ runner }

func (c constantOp) newRunner(clientSlot) (runner, error) { return c.runner, nil }
func (constantOp) unit() string                           { return "ops/s" }
func (constantOp) finite() bool                           { return false }

// compileFunc compiles an operation type's params for a task.
type compileFunc func(t *track.Track, task *track.Task, p params) (opSpec, error)

// operations maps every built-in operation type to its compiler; Validate
// rejects any other type.
var operations map[string]compileFunc

func init() {
	operations = map[string]compileFunc{
		"bulk":                       compileBulk,
		"search":                     compileSearch,
		"paginated-search":           compileSearch,
		"scroll-search":              compileSearch,
		"create-index":               adminOp(buildCreateIndex),
		"delete-index":               adminOp(buildDeleteNamed(indexDeletion)),
		"create-data-stream":         adminOp(buildCreateDataStream),
		"delete-data-stream":         adminOp(buildDeleteNamed(dataStreamDeletion)),
		"create-index-template":      adminOp(buildCreateTemplate(templateLegacy)),
		"delete-index-template":      adminOp(buildDeleteTemplate(templateLegacy)),
		"create-composable-template": adminOp(buildCreateTemplate(templateComposable)),
		"delete-composable-template": adminOp(buildDeleteTemplate(templateComposable)),
		"create-component-template":  adminOp(buildCreateTemplate(templateComponent)),
		"delete-component-template":  adminOp(buildDeleteTemplate(templateComponent)),
		"cluster-health":             adminOp(buildClusterHealth),
		"refresh":                    adminOp(buildRefresh),
		"force-merge":                requestOp(buildForceMerge),
		"index-stats":                adminOp(buildIndexStats),
		"node-stats":                 adminOp(buildNodeStats),
		"put-settings":               adminOp(buildPutSettings),
		"put-pipeline":               adminOp(buildPutPipeline),
		"delete-pipeline":            adminOp(buildDeletePipeline),
		"raw-request":                requestOp(buildRawRequest),
		"sleep":                      compileSleep,
		"wait-for-recovery":          adminOp(buildWaitForRecovery),

		"composite-agg":                     compileSearch,
		"composite":                         compileComposite,
		"esql":                              requestOp(buildEsql),
		"sql":                               compileSQL,
		"field-caps":                        requestOp(buildFieldCaps),
		"downsample":                        requestOp(buildDownsample),
		"wait-for-snapshot-create":          measuredIn("byte/s", adminOp(buildWaitForSnapshotCreate)),
		"wait-for-current-snapshots-create": adminOp(buildWaitForCurrentSnapshots),
		"wait-for-transform":                compileWaitForTransform,
		"transform-stats":                   adminOp(buildTransformStats),
		"shrink-index":                      compileShrinkIndex,
		"create-ilm-policy":                 adminOp(buildCreateIlmPolicy),
		"delete-ilm-policy":                 adminOp(buildDeleteIlmPolicy),
		// run-until is no administrative type, but esrally retries it.
		"run-until": adminOp(buildRunUntil),
		// Only inside a composite operation (compileTask refuses them alone).
		"open-point-in-time":  compileNamed(buildOpenPointInTime),
		"close-point-in-time": requestOp(buildClosePointInTime),
		"submit-async-search": compileNamed(buildSubmitAsyncSearch),
		"get-async-search":    compileGetAsyncSearch,
		"delete-async-search": requestOp(buildAsyncSearches("delete-results-for", true)),
	}
	for typ, call := range apiCalls {
		operations[typ] = call.compiler()
	}
}

// inUnit is an operation measured in another unit than ops/s.
type inUnit struct {
	opSpec
	u string
}

func (s inUnit) unit() string { return s.u }

// measuredIn makes a compiler's operations measured in unit u.
func measuredIn(u string, compile compileFunc) compileFunc {
	return func(t *track.Track, task *track.Task, p params) (opSpec, error) {
		spec, err := compile(t, task, p)
		if err != nil {
			return nil, err
		}
		return inUnit{opSpec: spec, u: u}, nil
	}
}

// paramSourceProblem says why an operation's param-source cannot run here,
// "" when it can: none, or Rally's built-in "file-reader" (its bulk
// parameter source, registered by name) on a bulk operation.
func paramSourceProblem(op *track.Operation) string {
	switch {
	case op.ParamSource == "":
		return ""
	case !track.IsBuiltinParamSource(op.ParamSource):
		return fmt.Sprintf("param-source %q needs a track.py, which this driver cannot run", op.ParamSource)
	case op.Type != "bulk":
		return fmt.Sprintf("param-source %q is Rally's bulk parameter source: it feeds bulk operations, not %s", op.ParamSource, op.Type)
	}
	return ""
}

// OperationTypes lists the operation types the driver runs, sorted.
func OperationTypes() []string {
	out := make([]string, 0, len(operations))
	for k := range operations {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// compileTask checks a task's operation and parameters.
func compileTask(t *track.Track, task *track.Task) (opSpec, error) {
	op := &task.Operation
	if op.CustomRunner {
		return nil, fmt.Errorf("operation %q: type %q needs a custom runner from a track.py, which this driver cannot run", op.Name, op.Type)
	}
	if msg := paramSourceProblem(op); msg != "" {
		return nil, fmt.Errorf("operation %q: %s", op.Name, msg)
	}
	compile, ok := operations[op.Type]
	if !ok {
		return nil, fmt.Errorf("operation %q: unknown operation type %q", op.Name, op.Type)
	}
	if slices.Contains(compositeOnly, op.Type) {
		return nil, fmt.Errorf("operation %q: %s runs only inside a composite operation's requests, as in Rally (the ids it shares live there)", op.Name, op.Type)
	}
	p := taskParams(task)
	if (op.Type == "paginated-search" || op.Type == "composite-agg") && p.has("with-point-in-time-from") {
		return nil, fmt.Errorf(`operation %q (%s): parameter "with-point-in-time-from" works only inside a composite operation's requests, as in Rally`, op.Name, op.Type)
	}
	spec, err := compile(t, task, p)
	if err != nil {
		return nil, fmt.Errorf("operation %q (%s): %w", op.Name, op.Type, err)
	}
	return spec, nil
}

// Validate checks that every task of the challenge can run: its operation
// type is built in (custom runners and param sources from a track.py are
// named), its parameters are well-typed, and its schedule is bounded. All
// problems are reported together.
func Validate(t *track.Track, c *track.Challenge) error {
	if t == nil || c == nil {
		return errors.New("validate: no track or challenge")
	}
	var problems []string
	var unknown, custom []string
	for si := range c.Schedule {
		step := &c.Schedule[si]
		names := map[string]bool{}
		for ti := range step.Tasks {
			task := &step.Tasks[ti]
			names[task.Name] = true
			op := &task.Operation
			switch {
			case op.CustomRunner:
				custom = append(custom, fmt.Sprintf("%s (operation %q)", op.Type, op.Name))
				continue
			case op.ParamSource != "" && !track.IsBuiltinParamSource(op.ParamSource):
				custom = append(custom, fmt.Sprintf("param-source %s (operation %q)", op.ParamSource, op.Name))
				continue
			case operations[op.Type] == nil:
				unknown = append(unknown, fmt.Sprintf("%s (operation %q)", op.Type, op.Name))
				continue
			}
			spec, err := compileTask(t, task)
			if err != nil {
				problems = append(problems, fmt.Sprintf("task %q: %v", task.Name, err))
				continue
			}
			if err := checkLoop(task, spec); err != nil {
				problems = append(problems, fmt.Sprintf("task %q: %v", task.Name, err))
			}
		}
		if step.CompletedBy != "" && step.CompletedBy != "any" && !names[step.CompletedBy] {
			problems = append(problems, fmt.Sprintf("schedule step %d: completed-by %q names no task of the parallel block", si+1, step.CompletedBy))
		}
	}
	if len(unknown) > 0 {
		problems = append([]string{fmt.Sprintf("unknown operation types: %s (known: %s)", strings.Join(unknown, ", "), strings.Join(OperationTypes(), ", "))}, problems...)
	}
	if len(custom) > 0 {
		problems = append([]string{fmt.Sprintf("operations that need a track.py: %s", strings.Join(custom, ", "))}, problems...)
	}
	if len(problems) > 0 {
		return fmt.Errorf("challenge %q cannot run: %s", c.Name, strings.Join(problems, "; "))
	}
	return nil
}

// checkLoop rejects schedules that would never end.
func checkLoop(task *track.Task, spec opSpec) error {
	if task.Clients < 0 {
		return fmt.Errorf("clients %d is negative", task.Clients)
	}
	if task.TimePeriod == 0 && task.WarmupTimePeriod > 0 && task.Iterations == 0 && task.WarmupIterations == 0 && !spec.finite() {
		return fmt.Errorf("warmup-time-period without time-period never ends for a %s operation (give time-period or iterations)", task.Operation.Type)
	}
	if task.TargetThroughput < 0 {
		return fmt.Errorf("target-throughput %v is negative", task.TargetThroughput)
	}
	if u := task.TargetThroughputUnit; task.TargetThroughput > 0 && u != "" && u != "ops/s" && u != spec.unit() {
		return fmt.Errorf("target-throughput is in %s but a %s operation is measured in %s", u, task.Operation.Type, spec.unit())
	}
	return nil
}

// sleepCtx sleeps for d unless ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
