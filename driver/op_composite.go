package driver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"rally/track"
)

// compositeOpTypes are the operation types a composite operation's
// requests may use (esrally's Composite.supported_op_types).
var compositeOpTypes = []string{
	"open-point-in-time", "close-point-in-time", "search", "paginated-search", "composite-agg",
	"raw-request", "sleep", "submit-async-search", "get-async-search", "delete-async-search", "field-caps",
}

// compositeOnly are the types that run only inside a composite operation:
// esrally keeps the ids they share in the composite's context.
var compositeOnly = []string{"open-point-in-time", "close-point-in-time", "submit-async-search", "get-async-search", "delete-async-search"}

// compositeSpec is esrally's composite: it runs the "requests" structure
// as one operation (weight 1, ops/s). An entry is an operation, run in
// order, or {"stream": [...]}, which runs concurrently with the streams
// that follow it on a connection of its own; an operation first waits for
// the streams started before it, and the end waits for all. At most
// "max-connections" operations run at once (default no limit). The first
// failure stops the others and is the composite's; the service time spans
// the first request to the last answer of all its requests.
//
// esrally also reports each request's own timing as a separate metric;
// the metrics here have no place for that.
type compositeSpec struct {
	steps    []compositeStep
	maxConns int
}

// compositeStep is one entry of the requests structure: a stream or an
// operation.
type compositeStep struct {
	stream []compositeStep
	spec   opSpec
}

func compileComposite(t *track.Track, _ *track.Task, p params) (opSpec, error) {
	raw, ok := p.value("requests")
	if !ok {
		return nil, errors.New(`parameter "requests" is mandatory`)
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, errors.New(`parameter "requests": want a list`)
	}
	maxConns, err := p.int("max-connections", 0)
	if err != nil {
		return nil, err
	}
	if p.has("max-connections") && maxConns < 1 {
		return nil, errors.New(`parameter "max-connections": want >= 1`)
	}
	names := compositeNames{declared: map[string]string{}}
	steps, err := compileCompositeSteps(t, list, "requests", &names)
	if err != nil {
		return nil, err
	}
	if err := names.check(); err != nil {
		return nil, err
	}
	return compositeSpec{steps: steps, maxConns: int(maxConns)}, nil
}

// compositeNames checks that every id an operation uses is one that an
// operation of the composite keeps: esrally only finds out mid-race.
type compositeNames struct {
	declared map[string]string // name -> type of the operation keeping an id
	uses     []string          // "where: name"
	used     []string
}

func (n *compositeNames) check() error {
	for i, name := range n.used {
		if _, ok := n.declared[name]; !ok {
			known := slices.Sorted(maps.Keys(n.declared))
			return fmt.Errorf("%s: no open-point-in-time or submit-async-search of the composite is named %q (named: %s)", n.uses[i], name, strings.Join(known, ", "))
		}
	}
	return nil
}

func compileCompositeSteps(t *track.Track, list []any, where string, names *compositeNames) ([]compositeStep, error) {
	steps := make([]compositeStep, 0, len(list))
	for i, raw := range list {
		at := fmt.Sprintf("%s[%d]", where, i)
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: want an object", at)
		}
		if s, ok := m["stream"]; ok {
			sl, ok := s.([]any)
			if !ok {
				return nil, fmt.Errorf("%s: \"stream\": want a list", at)
			}
			sub, err := compileCompositeSteps(t, sl, at+".stream", names)
			if err != nil {
				return nil, err
			}
			steps = append(steps, compositeStep{stream: sub})
			continue
		}
		step, err := compileCompositeOp(t, m, at, names)
		if err != nil {
			return nil, err
		}
		steps = append(steps, step)
	}
	return steps, nil
}

func compileCompositeOp(t *track.Track, m map[string]any, at string, names *compositeNames) (compositeStep, error) {
	typ, ok := m["operation-type"].(string)
	if !ok {
		return compositeStep{}, fmt.Errorf("%s: a request must contain [stream] or [operation-type]", at)
	}
	if !slices.Contains(compositeOpTypes, typ) {
		return compositeStep{}, fmt.Errorf("%s: unsupported operation-type [%s]; use one of [%s]", at, typ, strings.Join(compositeOpTypes, ", "))
	}
	name, _ := m["name"].(string)
	if name != "" {
		at += fmt.Sprintf(" (%s %q)", typ, name)
	} else {
		at += " (" + typ + ")"
	}
	p := params(maps.Clone(m))
	delete(p, "operation-type")
	delete(p, "name")
	switch typ {
	case "search", "paginated-search", "composite-agg":
		// No parameter source fills these in a composite: esrally's search
		// runner insists on both, even with a point in time.
		for _, k := range []string{"index", "body"} {
			if !p.has(k) {
				return compositeStep{}, fmt.Errorf("%s: parameter %q is mandatory inside a composite operation", at, k)
			}
		}
	case "open-point-in-time", "submit-async-search":
		names.declared[name] = typ
	}
	refKeys := []string{"with-point-in-time-from", "retrieve-results-for", "delete-results-for"}
	if typ == "search" {
		refKeys = nil // a plain search ignores with-point-in-time-from, as in esrally
	}
	for _, k := range refKeys {
		refs, err := p.strList(k)
		if err != nil {
			return compositeStep{}, fmt.Errorf("%s: %w", at, err)
		}
		for _, r := range refs {
			names.uses, names.used = append(names.uses, at), append(names.used, r)
		}
	}
	task := &track.Task{Name: name, Operation: track.Operation{Name: name, Type: typ, Params: p}}
	spec, err := operations[typ](t, task, p)
	if err != nil {
		return compositeStep{}, fmt.Errorf("%s: %w", at, err)
	}
	return compositeStep{spec: spec}, nil
}

func (c compositeSpec) newRunner(slot clientSlot) (runner, error) {
	steps, err := compositeRunners(c.steps, slot)
	if err != nil {
		return nil, err
	}
	r := &compositeRunner{steps: steps}
	if c.maxConns > 0 {
		r.limit = make(chan struct{}, c.maxConns)
	}
	return r, nil
}
func (compositeSpec) unit() string { return "ops/s" }
func (compositeSpec) finite() bool { return false }

// compositeRun is one client's runner of a composite step: a stream, or an
// operation's runner.
type compositeRun struct {
	stream []compositeRun
	r      runner
}

func compositeRunners(steps []compositeStep, slot clientSlot) ([]compositeRun, error) {
	out := make([]compositeRun, 0, len(steps))
	for _, st := range steps {
		if st.spec == nil {
			sub, err := compositeRunners(st.stream, slot)
			if err != nil {
				return nil, err
			}
			out = append(out, compositeRun{stream: sub})
			continue
		}
		r, err := st.spec.newRunner(slot)
		if err != nil {
			return nil, err
		}
		out = append(out, compositeRun{r: r})
	}
	return out, nil
}

// compositeRunner is one client's composite operation; it keeps the extra
// connections its streams need between iterations and closes them at the
// end.
type compositeRunner struct {
	steps []compositeRun
	limit chan struct{}
	pool  connPool
}

func (c *compositeRunner) close() error {
	c.pool.close()
	return nil
}

func (c *compositeRunner) run(ctx context.Context, s *session) outcome {
	if s.engine == nil {
		s.engine = &engineInfo{}
	}
	s.vars = &compositeVars{m: map[string]string{}}
	defer func() { s.vars = nil }()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	it := &compositeIteration{runner: c, cancel: cancel}
	it.steps(runCtx, s, c.steps)
	if it.failed != nil {
		return *it.failed
	}
	return outcome{weight: 1}
}

// compositeIteration is one run of a composite operation: the first
// failure, which cancels everything else.
type compositeIteration struct {
	runner *compositeRunner
	cancel context.CancelFunc
	mu     sync.Mutex
	failed *outcome
}

func (it *compositeIteration) fail(out outcome) {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.failed == nil {
		it.failed = &out
		it.cancel()
	}
}

func (it *compositeIteration) ok() bool {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.failed == nil
}

// streamRun is a stream running on its own session.
type streamRun struct {
	sess *session
	done chan struct{}
}

// steps runs a list of steps on session s, as esrally's run_stream does.
func (it *compositeIteration) steps(ctx context.Context, s *session, steps []compositeRun) {
	var pending []*streamRun
	join := func() bool {
		for _, sr := range pending {
			<-sr.done
			if sr.sess != nil {
				mergeTiming(s, sr.sess)
				it.runner.pool.put(sr.sess.client)
			}
		}
		pending = pending[:0]
		return it.ok()
	}
	for _, st := range steps {
		if st.r == nil {
			pending = append(pending, it.start(ctx, s, st.stream))
			continue
		}
		if !join() || ctx.Err() != nil {
			return
		}
		if out := it.op(ctx, s, st.r); out.err != nil {
			it.fail(out)
			return
		}
	}
	join()
}

// start runs a stream on a connection of its own.
func (it *compositeIteration) start(ctx context.Context, s *session, steps []compositeRun) *streamRun {
	sr := &streamRun{done: make(chan struct{})}
	conn, err := it.runner.pool.get(s.dial)
	if err != nil {
		it.fail(outcome{fatal: true, err: fmt.Errorf("composite: open a connection for a stream: %w", err)})
		close(sr.done)
		return sr
	}
	sr.sess = &session{client: conn, dial: s.dial, vars: s.vars, engine: s.engine}
	go func() {
		defer close(sr.done)
		it.steps(ctx, sr.sess, steps)
	}()
	return sr
}

// op runs one operation within the connection limit.
func (it *compositeIteration) op(ctx context.Context, s *session, r runner) outcome {
	if lim := it.runner.limit; lim != nil {
		select {
		case lim <- struct{}{}:
			defer func() { <-lim }()
		case <-ctx.Done():
			return outcome{}
		}
	}
	return r.run(ctx, s)
}

// mergeTiming widens a session's first send and last read to cover a
// stream's.
func mergeTiming(into, from *session) {
	if !from.first.IsZero() && (into.first.IsZero() || from.first.Before(into.first)) {
		into.first = from.first
	}
	if from.last.After(into.last) {
		into.last = from.last
	}
}

// compositeVars are the ids the operations of one composite run hand each
// other, by the name of the operation that keeps them.
type compositeVars struct {
	mu sync.Mutex
	m  map[string]string
}

func (v *compositeVars) put(name, id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.m[name] = id
}

func (v *compositeVars) get(name string) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	id, ok := v.m[name]
	if !ok {
		return "", fmt.Errorf("unknown property [%s]; currently recognized properties are [%s]", name, strings.Join(slices.Sorted(maps.Keys(v.m)), ", "))
	}
	return id, nil
}

func (v *compositeVars) remove(name string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, name)
}

// connPool keeps the extra connections of one client's streams.
type connPool struct {
	mu   sync.Mutex
	free []Client
	all  []Client
}

// get returns a free connection or opens one with dial.
func (p *connPool) get(dial func() (Client, error)) (Client, error) {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		c := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	if dial == nil {
		return nil, errors.New("the client cannot open more connections")
	}
	c, err := dial()
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.all = append(p.all, c)
	p.mu.Unlock()
	return c, nil
}

func (p *connPool) put(c Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, c)
}

func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.all {
		closeClient(c)
	}
	p.all, p.free = nil, nil
}
