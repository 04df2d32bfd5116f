package metrics

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

func sampleDelta(t testing.TB) *Delta {
	r := NewRecorder("index-append", testEpoch)
	for _, s := range randomSamples(3, 500, 3) {
		r.Record(s)
	}
	return r.Flush()
}

// deltaView is a comparable picture of a delta: histograms by their
// encoding, times as instants.
func deltaView(t *testing.T, d *Delta) map[string]any {
	t.Helper()
	enc := func(p *hdr.PackedHistogram) string {
		if p == nil {
			return ""
		}
		b, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return map[string]any{
		"task": d.Task, "epoch": d.Epoch.UnixNano(), "requests": d.Requests, "warmup": d.WarmupRequests,
		"errors": d.Errors, "warmup-errors": d.WarmupErrors, "by-type": d.ErrorsByType,
		"tp": d.Throughput, "wtp": d.WarmupThroughput, "dropped": d.ThroughputDropped,
		"first": d.First.UnixNano(), "last": d.Last.UnixNano(),
		"st": enc(d.ServiceTime), "lat": enc(d.Latency), "pt": enc(d.ProcessingTime),
		"est": enc(d.ErrorServiceTime), "error-times": d.ErrorTimes, "lag": enc(d.ScheduleLag),
	}
}

func TestDeltaRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		delta func(t *testing.T) *Delta
	}{
		{"measurement_and_warmup_with_errors", func(t *testing.T) *Delta { return sampleDelta(t) }},
		{"warmup_only", func(t *testing.T) *Delta {
			r := NewRecorder("w", testEpoch)
			r.Record(Sample{End: at(0, 0), Weight: 3, Warmup: true, Err: ErrConnection})
			return r.Flush()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.delta(t)
			data, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeDelta(data)
			if err != nil {
				t.Fatalf("DecodeDelta: %v\n%s", err, data)
			}
			if w, g := deltaView(t, d), deltaView(t, got); !reflect.DeepEqual(w, g) {
				t.Fatalf("round trip changed the delta:\ngot  %v\nwant %v", g, w)
			}
			var viaUnmarshal Delta
			if err := json.Unmarshal(data, &viaUnmarshal); err != nil {
				t.Fatalf("json.Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(deltaView(t, &viaUnmarshal), deltaView(t, d)) {
				t.Fatal("json.Unmarshal differs from DecodeDelta")
			}
		})
	}
}

func TestDeltaWireForm(t *testing.T) {
	r := NewRecorder("search", testEpoch)
	r.Record(Sample{End: at(2, 0), ServiceTime: time.Millisecond, Latency: time.Millisecond, ProcessingTime: time.Millisecond, Weight: 4})
	r.Record(Sample{End: at(2, 0), ServiceTime: time.Millisecond, Latency: time.Millisecond, ProcessingTime: time.Millisecond, Weight: 1, Err: HTTPError(429)})
	data, err := json.Marshal(r.Flush())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	end := at(2, 0).UnixNano()
	if string(m["throughput"]) != "[[2,5]]" || string(m["errors-by-type"]) != `{"http-429":1}` ||
		string(m["error-times"]) != fmt.Sprintf(`{"http-429":[%d,%d]}`, end, end) {
		t.Fatalf("wire form: throughput %s, errors-by-type %s, error-times %s", m["throughput"], m["errors-by-type"], m["error-times"])
	}
	for _, name := range []string{"latency", "error-service-time"} {
		var enc string
		if err := json.Unmarshal(m[name], &enc); err != nil {
			t.Fatal(err)
		}
		h, err := hdr.Decode([]byte(enc)) // plain hdrhistogram V2 compressed base64
		if err != nil || h.TotalCount() != 1 {
			t.Fatalf("%s is not a V2 compressed histogram of one value: %v", name, err)
		}
	}
}

func TestDecodeDeltaRejects(t *testing.T) {
	good := sampleDelta(t)
	data, err := json.Marshal(good)
	if err != nil {
		t.Fatal(err)
	}
	var base map[string]any
	if err := json.Unmarshal(data, &base); err != nil {
		t.Fatal(err)
	}
	otherGeometry, _ := hdr.New(1, 1000, 2).Encode(hdr.V2CompressedEncodingCookieBase)
	hugeGeometry := func() string {
		h := hdr.New(1, 1<<62, 5)
		_ = h.RecordValue(1)
		b, _ := h.Encode(hdr.V2CompressedEncodingCookieBase)
		return string(b)
	}()
	if good.ScheduleLag == nil {
		t.Fatal("sample delta has no schedule lag")
	}
	tooManyLags := func() string {
		p := newPacked()
		_ = p.RecordValues(100, good.Requests+1)
		b, _ := p.Encode()
		return string(b)
	}()
	tests := []struct {
		name   string
		change func(m map[string]any)
		want   string
	}{
		{"empty_task", func(m map[string]any) { m["task"] = "" }, "task is empty"},
		{"negative_requests", func(m map[string]any) { m["requests"] = -1 }, "requests is negative"},
		{"more_errors_than_requests", func(m map[string]any) { m["errors"] = 1e6 }, "exceed requests"},
		{"errors_by_type_not_summing_to_errors", func(m map[string]any) { m["errors-by-type"] = map[string]int{"timeout": 1} }, "sum to"},
		{"empty_error_type", func(m map[string]any) { m["errors-by-type"] = map[string]int{"": 1} }, "error type"},
		{"bucket_with_three_numbers", func(m map[string]any) { m["throughput"] = [][]int{{1, 2, 3}} }, "[second, weight]"},
		{"bucket_not_a_pair", func(m map[string]any) { m["throughput"] = []any{"x"} }, "[second, weight]"},
		{"buckets_out_of_order", func(m map[string]any) { m["throughput"] = [][]int{{2, 1}, {1, 1}} }, "not ascending"},
		{"second_out_of_range", func(m map[string]any) { m["throughput"] = [][]int64{{-1 << 62, 1}, {1 << 62, 1}} }, "out of range"},
		{"negative_weight", func(m map[string]any) { m["throughput"] = [][]int{{2, -1}} }, "negative weight"},
		{"missing_histogram", func(m map[string]any) { delete(m, "latency") }, "latency histogram: missing"},
		{"histogram_not_base64", func(m map[string]any) { m["latency"] = "!!!" }, "base64"},
		{"histogram_not_zlib", func(m map[string]any) { m["latency"] = "AAAAAAAAAAAAAA==" }, "zlib"},
		{"histogram_of_another_geometry", func(m map[string]any) { m["latency"] = string(otherGeometry) }, "geometry"},
		{"histogram_of_a_huge_geometry", func(m map[string]any) { m["latency"] = hugeGeometry }, "geometry"},
		{"histogram_count_not_requests", func(m map[string]any) { m["requests"] = m["requests"].(float64) + 1 }, "holds"},
		{"last_before_first", func(m map[string]any) { m["last-ns"] = 1 }, "first-ns"},
		{"unknown_field", func(m map[string]any) { m["surprise"] = 1 }, "unknown field"},
		{"histogram_without_requests", func(m map[string]any) {
			m["requests"], m["errors"], m["errors-by-type"], m["error-times"], m["first-ns"], m["last-ns"] = 0, 0, nil, nil, 0, 0
			delete(m, "error-service-time")
		}, "present while successful requests are 0"},
		{"error_service_time_without_errors", func(m map[string]any) {
			m["requests"] = m["requests"].(float64) - m["errors"].(float64)
			m["errors"], m["errors-by-type"], m["error-times"] = 0, nil, nil
		}, "error-service-time histogram present while errors are 0"},
		{"error_service_time_count_not_errors", func(m map[string]any) { m["error-service-time"] = m["latency"] }, "errors are"},
		{"error_times_missing_a_type", func(m map[string]any) { m["error-times"] = map[string][2]int64{"timeout": {1, 2}} }, "error-times has 1 types"},
		{"error_times_of_another_type", func(m map[string]any) {
			m["error-times"] = map[string][2]int64{"timeout": {1, 2}, "http-503": {1, 2}}
		}, "not in errors-by-type"},
		{"schedule_lag_of_more_samples_than_requests", func(m map[string]any) { m["schedule-lag"] = tooManyLags }, "schedule-lag histogram holds"},
		{"schedule_lag_of_another_geometry", func(m map[string]any) { m["schedule-lag"] = string(otherGeometry) }, "schedule-lag histogram: geometry"},
		{"schedule_lag_without_requests", func(m map[string]any) {
			m["requests"], m["errors"], m["errors-by-type"], m["error-times"], m["first-ns"], m["last-ns"] = 0, 0, nil, nil, 0, 0
			for _, h := range []string{"error-service-time", "service-time", "latency", "processing-time"} {
				delete(m, h)
			}
		}, "schedule-lag histogram present while requests are 0"},
		{"error_times_unordered", func(m map[string]any) {
			m["error-times"] = map[string][2]int64{"timeout": {2, 1}, "http-429": {1, 2}}
		}, "must be set and ordered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]any{}
			for k, v := range base {
				m[k] = v
			}
			tt.change(m)
			bad, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = DecodeDelta(bad)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeDelta error = %v, want one containing %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "decode delta") {
				t.Fatalf("error %q does not say what failed", err)
			}
		})
	}
	for _, raw := range []string{``, `null`, `[]`, `{"task":"x"} {}`, `{"task":"x","throughput":[[1,2]],"requests":0}x`} {
		if _, err := DecodeDelta([]byte(raw)); err == nil {
			t.Errorf("DecodeDelta(%q) accepted", raw)
		}
	}
}

func TestDeltaMerge(t *testing.T) {
	t.Run("different_tasks_are_refused", func(t *testing.T) {
		a, b := &Delta{Task: "a", Epoch: testEpoch}, &Delta{Task: "b", Epoch: testEpoch}
		if err := a.Merge(b); err == nil {
			t.Fatal("merged deltas of different tasks")
		}
	})
	t.Run("different_epochs_are_refused", func(t *testing.T) {
		a, b := &Delta{Task: "a", Epoch: testEpoch}, &Delta{Task: "a", Epoch: testEpoch.Add(1)}
		if err := a.Merge(b); err == nil {
			t.Fatal("merged deltas of different epochs")
		}
	})
	t.Run("merging_into_an_empty_delta_copies_not_shares", func(t *testing.T) {
		src := sampleDelta(t)
		dst := &Delta{Task: src.Task, Epoch: src.Epoch}
		if err := dst.Merge(src); err != nil {
			t.Fatal(err)
		}
		before := src.Latency.TotalCount()
		if err := dst.Merge(src); err != nil {
			t.Fatal(err)
		}
		if src.Latency.TotalCount() != before || dst.Latency.TotalCount() != 2*before {
			t.Fatalf("src %d (want %d), dst %d (want %d)", src.Latency.TotalCount(), before, dst.Latency.TotalCount(), 2*before)
		}
	})
}

func FuzzDecodeDelta(f *testing.F) {
	d := sampleDelta(f)
	good, err := json.Marshal(d)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"task":"x","epoch-ns":0,"requests":0,"warmup-requests":1,"errors":0,"warmup-errors":0,"throughput":[],"warmup-throughput":[[0,1]]}`))
	f.Add([]byte(`{"task":"x","throughput":[[1,2,3]]}`))
	f.Add([]byte(`{"task":"x","requests":1,"first-ns":1,"last-ns":2,"latency":"HIUTlQ=="}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DecodeDelta(data)
		if err != nil {
			return
		}
		// What decodes must encode and decode to the same delta, and merge
		// into an aggregator.
		again, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		d2, err := DecodeDelta(again)
		if err != nil {
			t.Fatalf("re-decode: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(deltaView(t, d), deltaView(t, d2)) {
			t.Fatal("re-decoded delta differs")
		}
		a := NewAggregator(d.Epoch)
		if err := a.Add(d); err != nil {
			t.Fatalf("Add: %v", err)
		}
		a.Summary([]TaskInfo{{Task: d.Task}})
		a.Live(d.Task)
	})
}

func BenchmarkDeltaEncode(b *testing.B) {
	d := sampleDelta(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeDelta(b *testing.B) {
	data, err := json.Marshal(sampleDelta(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodeDelta(data); err != nil {
			b.Fatal(err)
		}
	}
}
