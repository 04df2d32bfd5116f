package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"rally/metrics"
	"rally/track"
)

// healthRank orders cluster health states; unknown states rank lowest.
func healthRank(s string) int {
	switch strings.ToLower(s) {
	case "red":
		return 1
	case "yellow":
		return 2
	case "green":
		return 3
	}
	return 0
}

// clusterHealth is GET /_cluster/health[/index] with its request
// parameters, checking that the status reached wait_for_status and, when
// wait_for_no_relocating_shards is given, that no shard relocates.
type clusterHealth struct {
	path         string
	wantStatus   string
	noRelocating bool
	ro           requestOptions
}

func buildClusterHealth(_ *track.Track, p params, ro requestOptions) (runner, error) {
	rp, _ := p.object("request-params")
	h := clusterHealth{ro: ro}
	if ws, ok := rp["wait_for_status"]; ok {
		h.wantStatus, _ = queryValue(ws)
		if healthRank(h.wantStatus) == 0 {
			return nil, fmt.Errorf("request parameter wait_for_status %q is not green, yellow or red", h.wantStatus)
		}
	}
	_, h.noRelocating = rp["wait_for_no_relocating_shards"]
	idx, err := p.str("index", "")
	if err != nil {
		return nil, err
	}
	h.path = "/_cluster/health"
	if idx != "" {
		h.path += "/" + idx
	}
	h.path += ro.query
	return h, nil
}

func (h clusterHealth) run(ctx context.Context, s *session) outcome {
	var r struct {
		Status           string `json:"status"`
		RelocatingShards int64  `json:"relocating_shards"`
	}
	if out, ok := getJSON(ctx, s, h.path, &h.ro, &r, "cluster health"); !ok {
		return out
	}
	if healthRank(r.Status) < healthRank(h.wantStatus) {
		return conditionFailure("GET", h.path, fmt.Sprintf("cluster health is %q, want %q", r.Status, h.wantStatus))
	}
	if h.noRelocating && r.RelocatingShards > 0 {
		return conditionFailure("GET", h.path, fmt.Sprintf("%d shards relocating, want 0", r.RelocatingShards))
	}
	return outcome{weight: 1}
}

func buildRefresh(_ *track.Track, p params, ro requestOptions) (runner, error) {
	idx, err := p.str("index", "_all")
	if err != nil {
		return nil, err
	}
	return sequence{reqs: []request{{"POST", "/" + idx + "/_refresh" + ro.query, nil}}, ro: ro}, nil
}

// forceMerge is POST /{index}/_forcemerge; in "polling" mode a timeout of
// the call is expected and the driver then polls the tasks API until no
// force-merge task is left, as Rally does.
type forceMerge struct {
	path    string
	polling bool
	poll    time.Duration
	ro      requestOptions
}

func buildForceMerge(t *track.Track, p params, ro requestOptions) (runner, error) {
	target, err := p.str("index", "")
	if err != nil {
		return nil, err
	}
	if target == "" {
		if target, err = p.str("data-stream", ""); err != nil {
			return nil, err
		}
	}
	if target == "" {
		target = strings.Join(append(trackIndexNames(t), trackDataStreamNames(t)...), ",")
	}
	if target == "" {
		target = "_all"
	}
	path := "/" + target + "/_forcemerge"
	if p.has("max-num-segments") {
		n, err := p.int("max-num-segments", 0)
		if err != nil {
			return nil, err
		}
		path += fmt.Sprintf("?max_num_segments=%d", n)
	}
	path = withQuery(path, ro.query)
	mode, err := p.str("mode", "blocking")
	if err != nil {
		return nil, err
	}
	if mode != "blocking" && mode != "polling" {
		return nil, fmt.Errorf("parameter \"mode\": %q is not blocking or polling", mode)
	}
	poll, err := p.seconds("poll-period", 10*time.Second)
	if err != nil {
		return nil, err
	}
	return forceMerge{path: path, polling: mode == "polling", poll: poll, ro: ro}, nil
}

func (f forceMerge) run(ctx context.Context, s *session) outcome {
	_, out := s.call(ctx, "POST", f.path, nil, &f.ro)
	if !f.polling {
		return out
	}
	if out.err != nil && out.errType != metrics.ErrTimeout {
		return out
	}
	const tasksPath = "/_tasks?actions=indices:admin/forcemerge"
	for {
		if !sleepCtx(ctx, f.poll) {
			return outcome{weight: 1}
		}
		var r struct {
			Nodes map[string]json.RawMessage `json:"nodes"`
		}
		if tout, ok := getJSON(ctx, s, tasksPath, &f.ro, &r, "a task list"); !ok {
			return tout
		}
		if len(r.Nodes) == 0 {
			return outcome{weight: 1}
		}
	}
}

// condition is Rally's {"path": "a.b.c", "expected-value": v} check on a
// JSON response.
type condition struct {
	// root is where path starts in the answer (["transforms", "0"] for
	// transform-stats); a number there indexes an array.
	root     []string
	path     []string
	pathText string
	expected any
}

func (p params) condition() (*condition, error) {
	m, err := p.object("condition")
	if err != nil || m == nil {
		return nil, err
	}
	path, ok := m["path"].(string)
	if !ok || path == "" {
		return nil, fmt.Errorf(`parameter "condition": want a "path" string`)
	}
	exp, ok := m["expected-value"]
	if !ok {
		return nil, fmt.Errorf(`parameter "condition": want an "expected-value"`)
	}
	return &condition{path: strings.Split(path, "."), pathText: path, expected: exp}, nil
}

// check returns "" when the body satisfies the condition, else why not.
func (c *condition) check(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "response is not JSON: " + err.Error()
	}
	for _, k := range c.root {
		if a, ok := v.([]any); ok {
			if i, err := strconv.Atoi(k); err == nil && i >= 0 && i < len(a) {
				v = a[i]
				continue
			}
		}
		m, _ := v.(map[string]any)
		v = m[k]
	}
	for _, k := range c.path {
		m, ok := v.(map[string]any)
		if !ok {
			v = nil
			break
		}
		v = m[k]
	}
	if jsonEqual(v, c.expected) {
		return ""
	}
	got, _ := json.Marshal(v)
	want, _ := json.Marshal(c.expected)
	return fmt.Sprintf("%s is %s, want %s", c.pathText, got, want)
}

// jsonEqual compares decoded JSON values, numbers by value.
func jsonEqual(a, b any) bool {
	af, aerr := toFloat(a)
	bf, berr := toFloat(b)
	_, aStr := a.(string)
	_, bStr := b.(string)
	if aerr == nil && berr == nil && !aStr && !bStr {
		return af == bf
	}
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// statsCall is GET of a stats API with an optional condition.
type statsCall struct {
	path string
	cond *condition
	ro   requestOptions
}

func (c statsCall) run(ctx context.Context, s *session) outcome {
	if _, out := s.call(ctx, "GET", c.path, nil, &c.ro); out.err != nil {
		return out
	}
	if c.cond != nil {
		if msg := c.cond.check(s.resp.Body); msg != "" {
			return conditionFailure("GET", c.path, msg)
		}
	}
	return outcome{weight: 1}
}

func buildIndexStats(_ *track.Track, p params, ro requestOptions) (runner, error) {
	idx, err := p.str("index", "_all")
	if err != nil {
		return nil, err
	}
	cond, err := p.condition()
	if err != nil {
		return nil, err
	}
	return statsCall{path: "/" + idx + "/_stats" + ro.query, cond: cond, ro: ro}, nil
}

func buildNodeStats(_ *track.Track, p params, ro requestOptions) (runner, error) {
	cond, err := p.condition()
	if err != nil {
		return nil, err
	}
	return statsCall{path: "/_nodes/stats" + ro.query, cond: cond, ro: ro}, nil
}

func buildPutSettings(_ *track.Track, p params, ro requestOptions) (runner, error) {
	body, err := p.mandatoryBody()
	if err != nil {
		return nil, err
	}
	return sequence{reqs: []request{{"PUT", "/_cluster/settings" + ro.query, body}}, ro: ro}, nil
}

// pipelinePath is /_ingest/pipeline/{id} with master_timeout and timeout.
func pipelinePath(p params, ro requestOptions) (string, error) {
	id, err := p.requiredStr("id")
	if err != nil {
		return "", err
	}
	q := map[string]any{}
	for param, key := range map[string]string{"master-timeout": "master_timeout", "timeout": "timeout"} {
		if p.has(param) {
			q[key] = p[param]
		}
	}
	qs, err := queryString(q)
	if err != nil {
		return "", err
	}
	return withQuery("/_ingest/pipeline/"+id+qs, ro.query), nil
}

func buildPutPipeline(_ *track.Track, p params, ro requestOptions) (runner, error) {
	path, err := pipelinePath(p, ro)
	if err != nil {
		return nil, err
	}
	body, err := p.mandatoryBody()
	if err != nil {
		return nil, err
	}
	return sequence{reqs: []request{{"PUT", path, body}}, ro: ro}, nil
}

// buildDeletePipeline deletes an ingest pipeline; a missing one is fine.
func buildDeletePipeline(_ *track.Track, p params, ro requestOptions) (runner, error) {
	path, err := pipelinePath(p, ro)
	if err != nil {
		return nil, err
	}
	return rawRequest{method: "DELETE", path: path, ignore: []int{404}, ro: ro}, nil
}

// waitForRecovery polls GET /{index}/_recovery until every shard's stage is
// DONE.
type waitForRecovery struct {
	path string
	wait time.Duration
	ro   requestOptions
}

func buildWaitForRecovery(_ *track.Track, p params, ro requestOptions) (runner, error) {
	idx, err := p.requiredStr("index")
	if err != nil {
		return nil, err
	}
	wait, err := p.seconds("completion-recheck-wait-period", time.Second)
	if err != nil {
		return nil, err
	}
	return waitForRecovery{path: "/" + idx + "/_recovery" + ro.query, wait: wait, ro: ro}, nil
}

func (w waitForRecovery) run(ctx context.Context, s *session) outcome {
	for {
		var r map[string]struct {
			Shards []struct {
				Stage string `json:"stage"`
			} `json:"shards"`
		}
		if out, ok := getJSON(ctx, s, w.path, &w.ro, &r, "a recovery report"); !ok {
			return out
		}
		done := len(r) > 0
		for _, idx := range r {
			for _, sh := range idx.Shards {
				done = done && sh.Stage == "DONE"
			}
		}
		if done {
			return outcome{weight: 1}
		}
		if !sleepCtx(ctx, w.wait) {
			return outcome{weight: 1}
		}
	}
}
