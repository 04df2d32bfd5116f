package driver

import (
	"encoding/json"
	"fmt"
	"strings"

	"rally/track"
)

// apiCall describes an operation that is one request whose method, path,
// query and body follow from its parameters alone: esrally's runners for
// snapshot repositories, snapshots, transforms and machine learning jobs
// and datafeeds. One table of these replaces a runner per type.
type apiCall struct {
	method string
	// path names mandatory string parameters in braces, e.g.
	// "/_snapshot/{repository}".
	path string
	// query are query parameters taken from operation parameters; they
	// override request-params of the same name.
	query []queryParam
	// body says what is sent of the "body" parameter.
	body bodyRule
	// requestParams is true where esrally passes request-params on; the
	// other runners drop them.
	requestParams bool
	// ignore are statuses that count as success (404 for deletes).
	ignore []int
	// legacy is the Elasticsearch 6.8 path (machine learning under
	// /_xpack) that esrally sends when the first request gets HTTP 400;
	// legacyNoQuery drops the query there, as esrally's fallback does.
	legacy        string
	legacyNoQuery bool
	// admin wraps the runner in the task's retry policy (esrally's Retry).
	admin bool
}

// queryParam is one query parameter taken from an operation parameter.
type queryParam struct {
	param, key string
	// def is sent when the parameter is absent; nil sends nothing. A
	// boolean default also makes the parameter a boolean.
	def any
}

// bodyRule says what an apiCall sends of the "body" parameter.
type bodyRule int

const (
	bodyNone      bodyRule = iota // no body
	bodyOptional                  // the body when given
	bodyMandatory                 // the body, which must be given
	bodyOrEmpty                   // the body, "{}" when absent
)

// apiCalls are the operations that are one request, by type.
var apiCalls = map[string]apiCall{
	"create-snapshot-repository": {method: "PUT", path: "/_snapshot/{repository}", body: bodyMandatory, requestParams: true, admin: true},
	"delete-snapshot-repository": {method: "DELETE", path: "/_snapshot/{repository}", ignore: []int{404}, admin: true},
	// create-snapshot and restore-snapshot are not retried: they are not
	// idempotent (esrally registers them without Retry).
	"create-snapshot": {method: "PUT", path: "/_snapshot/{repository}/{snapshot}", body: bodyMandatory, requestParams: true,
		query: []queryParam{{"wait-for-completion", "wait_for_completion", false}}},
	"restore-snapshot": {method: "POST", path: "/_snapshot/{repository}/{snapshot}/_restore", body: bodyOrEmpty, requestParams: true,
		query: []queryParam{{"wait-for-completion", "wait_for_completion", false}}},
	"create-transform": {method: "PUT", path: "/_transform/{transform-id}", body: bodyMandatory, admin: true,
		query: []queryParam{{"defer-validation", "defer_validation", false}}},
	"start-transform": {method: "POST", path: "/_transform/{transform-id}/_start", admin: true,
		query: []queryParam{{"timeout", "timeout", nil}}},
	"delete-transform": {method: "DELETE", path: "/_transform/{transform-id}", ignore: []int{404}, admin: true,
		query: []queryParam{{"force", "force", false}}},
	"create-ml-datafeed": {method: "PUT", path: "/_ml/datafeeds/{datafeed-id}", body: bodyMandatory, admin: true,
		legacy: "/_xpack/ml/datafeeds/{datafeed-id}"},
	"delete-ml-datafeed": {method: "DELETE", path: "/_ml/datafeeds/{datafeed-id}", ignore: []int{404}, admin: true,
		query: []queryParam{{"force", "force", false}}, legacy: "/_xpack/ml/datafeeds/{datafeed-id}"},
	"start-ml-datafeed": {method: "POST", path: "/_ml/datafeeds/{datafeed-id}/_start", body: bodyOptional, admin: true,
		query:  []queryParam{{"start", "start", nil}, {"end", "end", nil}, {"timeout", "timeout", nil}},
		legacy: "/_xpack/ml/datafeeds/{datafeed-id}/_start", legacyNoQuery: true},
	"stop-ml-datafeed": {method: "POST", path: "/_ml/datafeeds/{datafeed-id}/_stop", admin: true,
		query: []queryParam{{"force", "force", false}, {"timeout", "timeout", nil}}, legacy: "/_xpack/ml/datafeeds/{datafeed-id}/_stop"},
	"create-ml-job": {method: "PUT", path: "/_ml/anomaly_detectors/{job-id}", body: bodyMandatory, admin: true,
		legacy: "/_xpack/ml/anomaly_detectors/{job-id}"},
	"delete-ml-job": {method: "DELETE", path: "/_ml/anomaly_detectors/{job-id}", ignore: []int{404}, admin: true,
		query: []queryParam{{"force", "force", false}}, legacy: "/_xpack/ml/anomaly_detectors/{job-id}"},
	"open-ml-job": {method: "POST", path: "/_ml/anomaly_detectors/{job-id}/_open", admin: true,
		legacy: "/_xpack/ml/anomaly_detectors/{job-id}/_open"},
	"close-ml-job": {method: "POST", path: "/_ml/anomaly_detectors/{job-id}/_close", admin: true,
		query: []queryParam{{"force", "force", false}, {"timeout", "timeout", nil}}, legacy: "/_xpack/ml/anomaly_detectors/{job-id}/_close"},
}

// compiler returns the compiler of the call's operation type.
func (a apiCall) compiler() compileFunc {
	if a.admin {
		return adminOp(a.build)
	}
	return requestOp(a.build)
}

func (a apiCall) build(_ *track.Track, p params, ro requestOptions) (runner, error) {
	path, err := fillPath(a.path, p)
	if err != nil {
		return nil, err
	}
	q := map[string]any{}
	if a.requestParams {
		q = p.requestParamsCopy()
	}
	for _, qp := range a.query {
		v, err := qp.value(p)
		if err != nil {
			return nil, err
		}
		if v != nil {
			q[qp.key] = v
		}
	}
	qs, err := queryString(q)
	if err != nil {
		return nil, err
	}
	r := rawRequest{method: a.method, path: path + qs, ignore: a.ignore, ro: ro}
	switch a.body {
	case bodyMandatory:
		r.body, err = p.mandatoryBody()
	case bodyOptional:
		r.body, err = p.jsonBody("body")
	case bodyOrEmpty:
		if r.body, err = p.jsonBody("body"); r.body == nil {
			r.body = []byte("{}")
		}
	}
	if err != nil {
		return nil, err
	}
	if a.legacy != "" {
		legacy, err := fillPath(a.legacy, p)
		if err != nil {
			return nil, err
		}
		if !a.legacyNoQuery {
			legacy += qs
		}
		r.onBadRequest = legacy
	}
	return r, nil
}

// value is the query value of the parameter (its default when absent);
// booleans are checked as such so a typo is named.
func (qp queryParam) value(p params) (any, error) {
	if def, ok := qp.def.(bool); ok {
		return p.bool(qp.param, def)
	}
	v, ok := p.value(qp.param)
	if !ok {
		return qp.def, nil
	}
	if _, err := queryValue(v); err != nil {
		return nil, fmt.Errorf("parameter %q: %w", qp.param, err)
	}
	return v, nil
}

// fillPath replaces each {name} in a path template with the mandatory
// string parameter of that name.
func fillPath(tmpl string, p params) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String(), nil
		}
		j := strings.IndexByte(tmpl[i:], '}') + i
		v, err := p.requiredStr(tmpl[i+1 : j])
		if err != nil {
			return "", err
		}
		b.WriteString(tmpl[:i])
		b.WriteString(v)
		tmpl = tmpl[j+1:]
	}
}

// ilmQueryKeys are the request-params esrally's ILM runners pass on; it
// drops the others.
var ilmQueryKeys = []string{"error_trace", "filter_path", "master_timeout", "timeout"}

// ilmPath is /_ilm/policy/{policy-name} with the request-params esrally's
// ILM runners pass on.
func ilmPath(p params) (string, error) {
	name, err := p.requiredStr("policy-name")
	if err != nil {
		return "", err
	}
	rp, _ := p.object("request-params") // checked by requestOptions
	q := map[string]any{}
	for _, k := range ilmQueryKeys {
		if v, ok := rp[k]; ok && v != nil {
			q[k] = v
		}
	}
	qs, err := queryString(q)
	if err != nil {
		return "", err
	}
	return "/_ilm/policy/" + name + qs, nil
}

// buildCreateIlmPolicy is PUT /_ilm/policy/{policy-name} with the body's
// "policy", which esrally insists on (the client wraps it again).
func buildCreateIlmPolicy(_ *track.Track, p params, ro requestOptions) (runner, error) {
	path, err := ilmPath(p)
	if err != nil {
		return nil, err
	}
	body, err := p.object("body")
	if err != nil {
		return nil, err
	}
	if body == nil {
		return nil, fmt.Errorf(`parameter "body" is mandatory`)
	}
	policy, _ := body["policy"].(map[string]any)
	if len(policy) == 0 {
		return nil, fmt.Errorf(`parameter "body" has no top-level "policy" object: the request body must contain one`)
	}
	enc, err := json.Marshal(map[string]any{"policy": policy})
	if err != nil {
		return nil, fmt.Errorf(`parameter "body": %w`, err)
	}
	return rawRequest{method: "PUT", path: path, body: enc, ro: ro}, nil
}

// buildDeleteIlmPolicy deletes an ILM policy; a missing one is fine.
func buildDeleteIlmPolicy(_ *track.Track, p params, ro requestOptions) (runner, error) {
	path, err := ilmPath(p)
	if err != nil {
		return nil, err
	}
	return rawRequest{method: "DELETE", path: path, ignore: []int{404}, ro: ro}, nil
}
