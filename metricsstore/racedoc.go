package metricsstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"rally/metrics"
	"rally/report"
)

// raceDocument is the part of a rally-races document that rally reads
// back: esrally's fields (race-id, race-timestamp, track, challenge, car,
// user-tags, track-params, cluster, results) and rally's own (status,
// target-hosts, nodes, ...). Esrally's other fields (track-revision,
// car-params, meta, ...) are left alone.
type raceDocument struct {
	RaceID        string         `json:"race-id"`
	RaceTimestamp string         `json:"race-timestamp"`
	Track         string         `json:"track"`
	Challenge     string         `json:"challenge"`
	Car           any            `json:"car"`
	UserTags      map[string]any `json:"user-tags"`
	TrackParams   map[string]any `json:"track-params"`
	RallyVersion  string         `json:"rally-version"`
	Pipeline      string         `json:"pipeline"`
	Cluster       struct {
		Distribution        string `json:"distribution"`
		DistributionVersion string `json:"distribution-version"`
	} `json:"cluster"`
	Status          string                     `json:"status"`
	TestMode        bool                       `json:"test-mode"`
	Error           string                     `json:"error"`
	Incomplete      bool                       `json:"incomplete"`
	TargetHosts     []string                   `json:"target-hosts"`
	LoadDriverHosts []string                   `json:"load-driver-hosts"`
	Telemetry       []string                   `json:"telemetry"`
	Nodes           []report.NodeTelemetry     `json:"nodes"`
	Results         map[string]json.RawMessage `json:"results"`
}

// raceFromSource turns the _source of a race document (index/id in the
// store, for errors) into the race it describes, as far as the document
// tells: its metadata and, when present, its results (the summary's
// tasks and cluster figures) and its nodes' figures, which is what a
// listing and a comparison read. Errors name the document and the field.
func raceFromSource(index, id string, src []byte) (*report.Race, error) {
	fail := func(err error) error { return fmt.Errorf("race document %s/%s: %w", index, id, err) }
	var d raceDocument
	dec := json.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&d); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, fail(fmt.Errorf("field %s: want %s, got JSON %s", te.Field, te.Type, te.Value))
		}
		return nil, fail(fmt.Errorf("not a JSON object: %w", err))
	}
	if d.RaceID == "" {
		return nil, fail(errors.New("field race-id: missing"))
	}
	created, err := time.Parse(raceTimestamp, d.RaceTimestamp)
	if err != nil {
		return nil, fail(fmt.Errorf("field race-timestamp: %q: want a time as 20060102T150405Z", d.RaceTimestamp))
	}
	car, err := carName(d.Car)
	if err != nil {
		return nil, fail(err)
	}
	if car == "external" && d.Pipeline == "benchmark-only" {
		car = "" // what the writer (and esrally) calls the car of a cluster it did not start
	}
	r := &report.Race{
		ID: d.RaceID, Created: created.UTC(),
		Track: d.Track, Challenge: d.Challenge, TrackParams: d.TrackParams, TestMode: d.TestMode,
		TargetHosts: d.TargetHosts, Distribution: d.Cluster.Distribution, DistributionVersion: d.Cluster.DistributionVersion,
		RallyVersion: d.RallyVersion, UserTags: userTagsOf(d.UserTags), Hosts: d.LoadDriverHosts,
		Pipeline: d.Pipeline, Car: car, Telemetry: d.Telemetry,
		Status: d.Status, Error: d.Error, Incomplete: d.Incomplete, Nodes: d.Nodes,
	}
	if r.Summary, err = summaryOf(d.Results); err != nil {
		return nil, fail(err)
	}
	return r, nil
}

// carName is esrally's car: a name, or a list of names (a car and its
// mixins), joined as rally's --car takes them.
func carName(v any) (string, error) {
	switch c := v.(type) {
	case nil:
		return "", nil
	case string:
		return c, nil
	case []any:
		names := make([]string, len(c))
		for i, n := range c {
			s, ok := n.(string)
			if !ok {
				return "", fmt.Errorf("field car[%d]: want a string, got %s", i, jsonText(n))
			}
			names[i] = s
		}
		return strings.Join(names, ","), nil
	}
	return "", fmt.Errorf("field car: want a string or a list of strings, got %s", jsonText(v))
}

// userTagsOf keeps string tags as they are and writes any other value as
// its JSON text.
func userTagsOf(tags map[string]any) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		if s, ok := v.(string); ok {
			out[k] = s
		} else {
			out[k] = jsonText(v)
		}
	}
	return out
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return snippet(b)
}

// summaryOf reads the race document's results (esrally's GlobalStats):
// op_metrics, one per task in the race's order, and the cluster-wide
// figures (clusterGroups).
func summaryOf(results map[string]json.RawMessage) (metrics.Summary, error) {
	var s metrics.Summary
	if raw, ok := results["op_metrics"]; ok && !isNull(raw) {
		var ops []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &ops); err != nil {
			return s, fmt.Errorf("field results.op_metrics: want a list of objects: %w", err)
		}
		for i, op := range ops {
			t, err := taskOf(op, fmt.Sprintf("results.op_metrics[%d]", i))
			if err != nil {
				return s, err
			}
			s.Tasks = append(s.Tasks, t)
		}
	}
	for _, g := range clusterGroups {
		// A group is there when its first figure is: the writer leaves
		// out what the target did not report, esrally writes null.
		if _, ok, err := number(results[g.fields[0].name], "results."+g.fields[0].name); err != nil || !ok {
			if err != nil {
				return s, err
			}
			continue
		}
		*g.available(&s.Cluster) = true
		for _, f := range g.fields {
			field := "results." + f.name
			v, _, err := number(results[f.name], field)
			if err != nil {
				return s, err
			}
			if f.time != nil {
				if *f.time(&s.Cluster), err = fromMillis(v, field); err != nil {
					return s, err
				}
			} else if *f.count(&s.Cluster), err = integer(v, field); err != nil {
				return s, err
			}
		}
	}
	return s, nil
}

// taskOf reads one op_metrics entry (field names it for errors).
func taskOf(op map[string]json.RawMessage, field string) (metrics.TaskSummary, error) {
	var t metrics.TaskSummary
	var err error
	if t.Task, err = text(op["task"], field+".task"); err != nil {
		return t, err
	}
	if t.Operation, err = text(op["operation"], field+".operation"); err != nil {
		return t, err
	}
	th, hasThroughput, err := object(op["throughput"], field+".throughput")
	if err != nil {
		return t, err
	}
	measured := false
	for _, s := range []struct {
		key string
		to  *float64
	}{{"min", &t.Throughput.Min}, {"mean", &t.Throughput.Mean}, {"median", &t.Throughput.Median}, {"max", &t.Throughput.Max}} {
		v, ok, err := number(th[s.key], field+".throughput."+s.key)
		if err != nil {
			return t, err
		}
		*s.to, measured = v, measured || ok
	}
	if t.ThroughputUnit, err = text(th["unit"], field+".throughput.unit"); err != nil {
		return t, err
	}
	var highest float64 // the highest percentile below 100 of any timing
	for _, k := range timingKinds {
		pcts, mean, top, err := timingOf(op[k.name], field+"."+k.name)
		if err != nil {
			return t, err
		}
		*k.pcts(&t), *k.mean(&t), highest = pcts, mean, max(highest, top)
	}
	if t.ErrorRate, _, err = number(op["error_rate"], field+".error_rate"); err != nil {
		return t, err
	}
	ms, _, err := number(op["duration"], field+".duration")
	if err != nil {
		return t, err
	}
	if t.Duration, err = fromMillis(ms, field+".duration"); err != nil {
		return t, err
	}
	requests, hasRequests, err := number(op["requests"], field+".requests")
	if err != nil {
		return t, err
	}
	if t.Requests, err = integer(requests, field+".requests"); err != nil {
		return t, err
	}
	errs, _, err := number(op["errors"], field+".errors")
	if err != nil {
		return t, err
	}
	if t.Errors, err = integer(errs, field+".errors"); err != nil {
		return t, err
	}
	if !hasRequests && hasThroughput && measured {
		t.Requests = samplesFor(highest)
	}
	return t, nil
}

// samplesFor is the fewest samples for which a report shows percentiles
// up to highest (below 100; 0 when only the 100th is there), as esrally
// and rally choose them (50, 90, 99, 99.9, 99.99 from 2, 10, 100, 1000
// and 10000 samples on). Esrally writes only those percentiles and no
// request count, so this stands in for the count of a race esrally wrote:
// a comparison then shows the percentiles both races have.
func samplesFor(highest float64) int64 {
	switch {
	case highest >= 99.99:
		return 10000
	case highest >= 99.9:
		return 1000
	case highest >= 99:
		return 100
	case highest >= 90:
		return 10
	case highest >= 50:
		return 2
	}
	return 1
}

// timingOf reads a timing's statistics: percentiles under esrally's keys
// ("99_9": 99.9th), "mean" and "unit". It returns the percentiles keyed as
// rally's summary keys them ("99.9"), nil when there are none, and the
// highest percentile below 100.
func timingOf(raw json.RawMessage, field string) (pcts map[string]float64, mean, highest float64, err error) {
	obj, _, err := object(raw, field)
	if err != nil {
		return nil, 0, 0, err
	}
	for key, v := range obj {
		switch key {
		case "unit":
			continue
		case "mean":
			if mean, _, err = number(v, field+".mean"); err != nil {
				return nil, 0, 0, err
			}
			continue
		}
		p, perr := strconv.ParseFloat(strings.ReplaceAll(key, "_", "."), 64)
		if perr != nil || p <= 0 || p > 100 {
			continue // not a percentile: a field rally does not know
		}
		x, ok, err := number(v, field+"."+key)
		if err != nil {
			return nil, 0, 0, err
		}
		if !ok {
			continue
		}
		if pcts == nil {
			pcts = map[string]float64{}
		}
		pcts[metrics.PercentileKey(p)] = x
		if p < 100 {
			highest = max(highest, p)
		}
	}
	return pcts, mean, highest, nil
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// number reads a number; absent or null is (0, false).
func number(raw json.RawMessage, field string) (float64, bool, error) {
	if isNull(raw) {
		return 0, false, nil
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, false, fmt.Errorf("field %s: want a number, got %s", field, snippet(raw))
	}
	return v, true, nil
}

// text reads a string; absent or null is "".
func text(raw json.RawMessage, field string) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("field %s: want a string, got %s", field, snippet(raw))
	}
	return s, nil
}

// object reads an object; absent or null is (nil, false).
func object(raw json.RawMessage, field string) (map[string]json.RawMessage, bool, error) {
	if isNull(raw) {
		return nil, false, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, false, fmt.Errorf("field %s: want an object, got %s", field, snippet(raw))
	}
	return m, true, nil
}

// fromMillis is a time in milliseconds (esrally's unit) as a Duration,
// to the nanosecond the writer wrote.
func fromMillis(v float64, field string) (time.Duration, error) {
	ns := math.Round(v * float64(time.Millisecond))
	if math.IsNaN(ns) || ns < math.MinInt64 || ns >= math.MaxInt64 {
		return 0, fmt.Errorf("field %s: %v ms is out of range", field, v)
	}
	return time.Duration(ns), nil
}

// integer is a count or a size; the store maps numbers as doubles, so it
// may come back as 115.0.
func integer(v float64, field string) (int64, error) {
	n := math.Round(v)
	if math.IsNaN(n) || n < math.MinInt64 || n >= math.MaxInt64 {
		return 0, fmt.Errorf("field %s: %v is out of range", field, v)
	}
	return int64(n), nil
}
