package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Capability refusals. Many operation types call APIs that only some
// builds of an engine serve: Elasticsearch's x-pack modules (ES|QL, SQL,
// machine learning, transforms, ILM, enrich, async search, downsampling,
// data streams in 7.x), modules every full distribution has but minimal
// ones leave out (lang-painless, ingest-common), and APIs OpenSearch never
// had. An engine without one does not say so: it routes the request
// elsewhere and answers "no handler found", a wrong HTTP method, or an
// index named after the API ("_ilm"). This file recognises such answers
// and says plainly what is missing, on which engine and version, keeping
// the engine's status and reason.

// capability is something an engine serves only with a module, plugin or
// version some builds lack.
type capability struct {
	// name is what the user reads: "ES|QL", "transforms".
	name string
	// plural makes the message say "are" ("transforms are not available").
	plural bool
	// roots are the path prefixes of its API ("/_transform"); indexAPIs
	// are path segments that follow an index ("_downsample") or begin the
	// path.
	roots, indexAPIs []string
	// params are query parameters its API takes: an engine calling one of
	// them unrecognized routed the request to another API.
	params []string
	// needs says what serves it, by distribution; "" is for a node whose
	// distribution could not be read.
	needs map[string]string
}

// The capabilities rally's operation types call that a node may lack,
// recognised by the request's path.
var (
	capESQL = capability{name: "ES|QL", roots: []string{"/_query"}, needs: map[string]string{
		DistributionElasticsearch: "it needs Elasticsearch 8.11 or later with the x-pack-esql module",
		DistributionOpenSearch:    "OpenSearch has no ES|QL (its own query languages are served by the SQL plugin at /_plugins/_ppl and /_plugins/_sql)",
	}}
	capSQL = capability{name: "SQL", roots: []string{"/_sql", "/_xpack/sql"}, needs: map[string]string{
		DistributionElasticsearch: "it needs the x-pack-sql module",
		DistributionOpenSearch:    "OpenSearch has no /_sql API (its SQL plugin answers at /_plugins/_sql)",
	}}
	capML = capability{name: "machine learning", roots: []string{"/_ml", "/_xpack/ml"}, needs: map[string]string{
		DistributionElasticsearch: "it needs the x-pack-ml module",
		DistributionOpenSearch:    "OpenSearch has no /_ml API (its ml-commons plugin answers at /_plugins/_ml)",
	}}
	capTransforms = capability{name: "transforms", plural: true, roots: []string{"/_transform", "/_data_frame"},
		params: []string{"defer_validation", "wait_for_checkpoint"},
		needs: map[string]string{
			DistributionElasticsearch: "they need the x-pack-transform module",
			DistributionOpenSearch:    "OpenSearch has no /_transform API (its index-management plugin has transforms at /_plugins/_transform)",
		}}
	capILM = capability{name: "index lifecycle management", roots: []string{"/_ilm"}, needs: map[string]string{
		DistributionElasticsearch: "it needs the x-pack-ilm module",
		DistributionOpenSearch:    "OpenSearch has no ILM (its index-management plugin has index state management at /_plugins/_ism)",
	}}
	capEnrich = capability{name: "enrich", roots: []string{"/_enrich"}, needs: map[string]string{
		DistributionElasticsearch: "it needs the x-pack-enrich module",
		DistributionOpenSearch:    "OpenSearch has no enrich policies or enrich processor",
	}}
	capDataStreams = capability{name: "data streams", plural: true, roots: []string{"/_data_stream"}, needs: map[string]string{
		DistributionElasticsearch: "they need Elasticsearch 7.9 or later with the x-pack-data-streams module (the data-streams module from 8.0)",
		DistributionOpenSearch:    "they need OpenSearch 1.0 or later",
	}}
	capAsyncSearch = capability{name: "async search", roots: []string{"/_async_search"}, indexAPIs: []string{"_async_search"},
		params: []string{"wait_for_completion_timeout", "keep_on_completion", "keep_alive"},
		needs: map[string]string{
			DistributionElasticsearch: "it needs the x-pack-async-search module",
			DistributionOpenSearch:    "OpenSearch has no /_async_search API (its asynchronous-search plugin answers at /_plugins/_asynchronous_search)",
		}}
	capDownsampling = capability{name: "downsampling", indexAPIs: []string{"_downsample"}, needs: map[string]string{
		DistributionElasticsearch: "it needs Elasticsearch 8.5 or later with the x-pack-downsample module (x-pack-rollup before 8.8)",
		DistributionOpenSearch:    "OpenSearch has no downsample API",
	}}

	capabilities = []capability{capESQL, capSQL, capML, capTransforms, capILM, capEnrich, capDataStreams, capAsyncSearch, capDownsampling}
)

// ingestModules are the modules and plugins that bring an ingest processor
// to both distributions; ingest-common brings most of the others.
var ingestModules = map[string]string{
	"geoip":      "the ingest-geoip module",
	"user_agent": "the ingest-user-agent module",
	"attachment": "the ingest-attachment plugin",
}

// processorCapability is the capability of an ingest processor the engine
// does not know: enrich has its own entry; painless-backed "script" and the
// others come from ingest-common unless ingestModules names their module.
func processorCapability(processor string) capability {
	if processor == "enrich" {
		return capEnrich
	}
	module, ok := ingestModules[processor]
	if !ok {
		module = "the ingest-common module, which has most processors"
	}
	needs := "it needs " + module
	return capability{name: "ingest processor [" + processor + "]", needs: map[string]string{
		DistributionElasticsearch: needs, DistributionOpenSearch: needs, "": needs,
	}}
}

// scriptCapability is the capability of a script language the engine does
// not know: painless comes with the lang-painless module, as every other
// language with its lang- module.
func scriptCapability(lang string) capability {
	name := "scripts in " + lang
	if lang == "painless" {
		name = "painless scripts"
	}
	needs := "they need the lang-" + lang + " module"
	return capability{name: name, plural: true, needs: map[string]string{
		DistributionElasticsearch: needs, DistributionOpenSearch: needs, "": needs,
	}}
}

// refusedCapability names the capability whose absence made the engine
// refuse a request to path with status and answer (the response body, or
// its start). ok is false for every other failure, so a refusal by an
// engine that has the capability (a job that does not exist, a bad
// parameter) keeps its own words.
func refusedCapability(path string, status int, answer []byte) (capability, bool) {
	if status != 400 && status != 404 && status != 405 {
		return capability{}, false
	}
	text := string(answer)
	// What the request's body asked for, whatever the path.
	if name, ok := bracketAfter(text, "No processor type exists with name ["); ok {
		return processorCapability(name), true
	}
	if lang, ok := bracketAfter(text, "script_lang not supported ["); ok {
		return scriptCapability(lang), true
	}
	// Elasticsearch 7 without x-pack reads no "data_stream" in a
	// composable template.
	if strings.Contains(text, "unknown field [data_stream]") {
		return capDataStreams, true
	}
	if strings.Contains(text, "unknown setting [index.lifecycle.") {
		return capILM, true
	}
	c, seg, ok := capabilityOfPath(path)
	if !ok {
		return capability{}, false
	}
	switch {
	case strings.Contains(text, "no handler found for uri"),
		strings.Contains(text, "Incorrect HTTP method for uri"):
		// Nothing, or only another API (an index's), is routed there.
		return c, true
	case strings.Contains(text, "unrecognized parameter"):
		// The engine read the path as another API's, which does not know
		// this API's own parameters. A parameter the API does not know
		// either is the user's mistake, not a missing capability.
		for _, p := range unrecognizedParams(text) {
			if slices.Contains(c.params, p) {
				return c, true
			}
		}
		return capability{}, false
	case strings.Contains(text, "request body is required"):
		// The path was read as an index and a document: every request
		// rally sends to these APIs that needs a body has one.
		return c, true
	case mentionsSegment(text, seg):
		// The engine took the API's name for an index or a mapping type:
		// "Invalid index name [_ilm]", "no such index [_transform]",
		// "expecting [_doc] but got [_downsample]".
		return c, true
	}
	return capability{}, false
}

// capabilityOfPath finds the capability whose API path is, and the path
// segment that names it.
func capabilityOfPath(path string) (capability, string, bool) {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for _, c := range capabilities {
		for _, root := range c.roots {
			if path == root || strings.HasPrefix(path, root+"/") {
				return c, segs[0], true
			}
		}
		for _, api := range c.indexAPIs {
			if segs[0] == api || (len(segs) > 1 && segs[1] == api) {
				return c, api, true
			}
		}
	}
	return capability{}, "", false
}

// bracketAfter returns the text between prefix (which ends in "[") and the
// next "]".
func bracketAfter(text, prefix string) (string, bool) {
	_, rest, ok := strings.Cut(text, prefix)
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, "]")
	return name, ok && name != ""
}

// unrecognizedParams are the parameters an engine's reason calls
// unrecognized ("contains unrecognized parameters: [a], [b] -> did you
// mean [c]?"), without the ones it suggests instead.
func unrecognizedParams(text string) []string {
	_, rest, _ := strings.Cut(text, "unrecognized parameter")
	rest, _, _ = strings.Cut(rest, `"`) // the end of the reason in JSON
	var out []string
	for {
		i := strings.IndexByte(rest, '[')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(rest[i:], ']')
		if j < 0 {
			return out
		}
		if !strings.HasSuffix(rest[:i], "did you mean ") {
			out = append(out, rest[i+1:i+j])
		}
		rest = rest[i+j+1:]
	}
}

// mentionsSegment reports whether text names the path segment seg in
// brackets, alone or as part of a path.
func mentionsSegment(text, seg string) bool {
	for _, s := range []string{"[" + seg + "]", "/" + seg + "]", "/" + seg + "/", "/" + seg + "?"} {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// CapabilityError is a request the engine refused because it lacks what
// serves it. It unwraps to the *RequestError of the refused request.
type CapabilityError struct {
	// Capability names what is missing: "ES|QL", "ingest processor [set]".
	Capability string
	// Engine is the node's; it is zero when the node did not say
	// (DetectErr).
	Engine    Engine
	DetectErr error
	// Needs says what would serve the capability on this engine.
	Needs string
	// Reason is the engine's reason for the refusal.
	Reason string
	// Request is the refused request with the engine's status.
	Request *RequestError

	plural bool
}

// Error says what is not available where, what the engine answered, and
// what would serve it.
func (e *CapabilityError) Error() string {
	verb := "is"
	if e.plural {
		verb = "are"
	}
	where := engineTitle(e.Engine.Distribution) + " " + e.Engine.Version
	if e.Engine.Distribution == "" {
		where = "this node"
	}
	msg := fmt.Sprintf("%s %s not available on %s (the engine answered %s %s with HTTP %d: %s)",
		e.Capability, verb, where, e.Request.Method, e.Request.Path, e.Request.Status, e.Reason)
	if e.Needs != "" {
		msg += "; " + e.Needs
	}
	if e.DetectErr != nil {
		msg += fmt.Sprintf(" (the node's distribution and version could not be read: %v)", e.DetectErr)
	}
	return msg
}

// Unwrap returns the refused request.
func (e *CapabilityError) Unwrap() error { return e.Request }

// engineTitle is a distribution's name as its vendor writes it.
func engineTitle(distribution string) string {
	switch distribution {
	case DistributionElasticsearch:
		return "Elasticsearch"
	case DistributionOpenSearch:
		return "OpenSearch"
	}
	return distribution
}

// detectTimeout bounds the one request that reads a refusing node's
// version.
const detectTimeout = 10 * time.Second

// explainRefusal returns err as a *CapabilityError when it is an HTTP
// failure that says the engine lacks a capability, else err unchanged. It
// reads the whole answer from the session when the session still holds it
// (the error keeps only its start), and the engine from the session, which
// asks the node (GET /, outside the measured requests) unless an
// operation did before: a task's error is made once, so this costs at
// most one request per aborted client.
func explainRefusal(ctx context.Context, s *session, err error) error {
	var re *RequestError
	if !errors.As(err, &re) || re.Status == 0 {
		return err
	}
	answer := []byte(re.Reason)
	if s.resp.Status == re.Status && snippet(s.resp.Body) == re.Reason {
		// A copy: asking the engine below reuses the client's buffer.
		answer = bytes.Clone(s.resp.Body)
	}
	c, ok := refusedCapability(re.Path, re.Status, answer)
	if !ok {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, detectTimeout)
	defer cancel()
	engine, derr := s.engineOf(dctx)
	return &CapabilityError{Capability: c.name, Engine: engine, DetectErr: derr,
		Needs: c.needs[engine.Distribution], Reason: engineReason(answer), Request: re, plural: c.plural}
}

// engineError is the error object of an Elasticsearch or OpenSearch
// answer.
type engineError struct {
	Type      string        `json:"type"`
	Reason    string        `json:"reason"`
	RootCause []engineError `json:"root_cause"`
	CausedBy  *engineError  `json:"caused_by"`
}

func (e engineError) String() string {
	if e.Type == "" {
		return e.Reason
	}
	return e.Type + ": " + e.Reason
}

// engineReason is the engine's own reason in an error answer: the error
// when it is a string ("no handler found for uri ..."), else its type and
// reason with the deepest cause (or the first root cause) when that says
// something else. An answer that is no JSON error (cut short) is returned
// as it is, or its start when long.
func engineReason(answer []byte) string {
	var a struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(answer, &a) != nil || len(a.Error) == 0 {
		return snippet(answer)
	}
	var s string
	if json.Unmarshal(a.Error, &s) == nil {
		return s
	}
	var e engineError
	if json.Unmarshal(a.Error, &e) != nil || e.Reason == "" {
		return snippet(answer)
	}
	cause := e
	for cause.CausedBy != nil {
		cause = *cause.CausedBy
	}
	if cause.Reason == e.Reason && len(e.RootCause) > 0 {
		cause = e.RootCause[0]
	}
	if cause.Reason == e.Reason {
		return e.String()
	}
	return e.String() + " (caused by " + cause.String() + ")"
}
