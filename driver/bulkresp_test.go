package driver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"
)

func TestScanBulkResponse(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want bulkResult
		bad  bool
	}{
		{"no errors stops early", `{"took":30,"errors":false,"items":[{"index":{"status":201}}]}`, bulkResult{}, false},
		{"no errors with garbage after the flag", `{"took":30,"errors":false,"items":[{{{{`, bulkResult{}, false},
		{"ES 8 ingest_took before errors", `{"ingest_took":1,"took":2,"errors":false,"items":[]}`, bulkResult{}, false},
		{"item errors", `{"took":3,"errors":true,"items":[
			{"index":{"_index":"x","_id":"1","status":201,"_shards":{"total":2,"successful":1,"failed":0}}},
			{"index":{"_index":"x","_id":"2","status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}}},
			{"create":{"_index":"x","status":409,"error":{"type":"version_conflict_engine_exception","reason":"document already exists"}}},
			{"update":{"status":200,"_shards":{"total":2,"successful":0,"failed":1}}}]}`,
			bulkResult{Errors: true, Items: 4, Failed: 3, FirstStatus: 429, FirstReason: "rejected execution of coordinating operation"}, false},
		{"items before errors", `{"items":[{"index":{"status":500,"error":"boom"}},{"index":{"status":201}}],"errors":true,"took":1}`,
			bulkResult{Errors: true, Items: 2, Failed: 1, FirstStatus: 500, FirstReason: "boom"}, false},
		{"escaped strings and nesting are skipped", `{"a":"x\"y\\","b":[1,{"c":[true,null,-1.5e3]}],"errors":true,"items":[{"index":{"status":400,"error":{"caused_by":{"reason":"inner"},"reason":"outer \"quoted\""}}}]}`,
			bulkResult{Errors: true, Items: 1, Failed: 1, FirstStatus: 400, FirstReason: `outer \"quoted\"`}, false},
		{"not JSON", `<html>`, bulkResult{}, true},
		{"no errors flag", `{"took":1,"items":[]}`, bulkResult{}, true},
		{"errors not a bool", `{"errors":"yes"}`, bulkResult{}, true},
		{"truncated items", `{"errors":true,"items":[{"index":{"status":500`, bulkResult{Errors: true}, true},
		{"empty", ``, bulkResult{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scanBulkResponse([]byte(tc.in))
			if (err != nil) != tc.bad {
				t.Fatalf("err = %v, want error %v", err, tc.bad)
			}
			if !tc.bad && got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// refBulk is the reference reading of a bulk response with encoding/json
// (decoded generically: struct decoding would match keys ignoring case).
type refBulk struct {
	Errors *bool
	Failed int
}

func refScan(data []byte) (refBulk, bool) {
	var r refBulk
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var top map[string]any
	if dec.Decode(&top) != nil {
		return r, false
	}
	e, ok := top["errors"].(bool)
	if !ok {
		return r, false
	}
	r.Errors = &e
	items, _ := top["items"].([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		for _, v := range m {
			vm, _ := v.(map[string]any)
			status := 0
			if n, ok := vm["status"].(json.Number); ok {
				f, _ := n.Float64()
				status = int(f)
			}
			failed := 0
			if sh, ok := vm["_shards"].(map[string]any); ok {
				if n, ok := sh["failed"].(json.Number); ok {
					f, _ := n.Float64()
					failed = int(f)
				}
			}
			if status > 299 || failed > 0 {
				r.Failed++
			}
		}
	}
	return r, true
}

// hasDuplicateKeys reports whether any object in the JSON repeats a key
// (encoding/json keeps the last, the scanner the first: both are valid
// readings, so such inputs are not compared).
func hasDuplicateKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		obj       bool
		keys      map[string]bool
		expectKey bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return false
		}
		if err != nil {
			return true
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top != nil && top.obj {
					top.expectKey = true
				}
				stack = append(stack, &frame{obj: v == '{', keys: map[string]bool{}, expectKey: v == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if top != nil && top.obj && top.expectKey {
				if top.keys[v] {
					return true
				}
				top.keys[v] = true
				top.expectKey = false
				continue
			}
		}
		if top != nil && top.obj {
			top.expectKey = true
		}
	}
}

// FuzzBulkResponse checks the scanner never panics and, on well-formed
// responses, agrees with encoding/json on the errors flag and the failed
// item count.
func FuzzBulkResponse(f *testing.F) {
	f.Add([]byte(`{"took":30,"errors":false,"items":[{"index":{"status":201}}]}`))
	f.Add([]byte(`{"took":3,"errors":true,"items":[{"index":{"status":429,"error":{"reason":"r"}}},{"update":{"status":200,"_shards":{"failed":1}}}]}`))
	f.Add([]byte(`{"items":[{"index":{"status":500,"error":"boom"}}],"errors":true}`))
	f.Add([]byte(`{"a":[[[[{"b":"\\\""}]]]],"errors":true,"items":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := scanBulkResponse(data)
		if !json.Valid(data) || hasDuplicateKeys(data) {
			return
		}
		ref, ok := refScan(data)
		if !ok {
			return
		}
		if err != nil {
			// The scanner may reject shapes the reference tolerates (items
			// that are not objects of objects); never a valid one it agrees
			// on the flag for.
			if !*ref.Errors {
				t.Fatalf("errors:false response rejected: %v", err)
			}
			return
		}
		if got.Errors != *ref.Errors {
			t.Fatalf("errors = %v, reference %v", got.Errors, *ref.Errors)
		}
		if !got.Errors {
			return
		}
		if got.Failed != ref.Failed {
			t.Fatalf("failed = %d, reference %d", got.Failed, ref.Failed)
		}
	})
}

// bulkResponse builds a realistic response of n items.
func bulkResponse(n int, errors bool) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"took":%d,"errors":%v,"items":[`, 12, errors)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		status := 201
		if errors && i%50 == 7 {
			status = 429
		}
		fmt.Fprintf(&b, `{"index":{"_index":"logs","_id":"%020d","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":%d,"_primary_term":1,"status":%d}}`, i, i, status)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func BenchmarkBulkResponseScan(b *testing.B) {
	for _, tc := range []struct {
		name   string
		errors bool
	}{{"errors=false", false}, {"errors=true", true}} {
		resp := bulkResponse(5000, tc.errors)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(resp)))
			b.ReportAllocs()
			for b.Loop() {
				r, err := scanBulkResponse(resp)
				if err != nil || r.Errors != tc.errors {
					b.Fatal(err)
				}
			}
		})
	}
	resp := bulkResponse(5000, true)
	b.Run("encoding/json errors=true", func(b *testing.B) {
		b.SetBytes(int64(len(resp)))
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := refScan(resp); !ok {
				b.Fatal("reference failed")
			}
		}
	})
}
