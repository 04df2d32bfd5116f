package driver

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// refSearchResponse decodes what scanSearchResponse reads with
// encoding/json, key names matched exactly; ok is false when a piece has
// another type than the scanner accepts.
func refSearchResponse(b []byte) (r searchResponse, ok bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil || top == nil {
		return r, false
	}
	str := func(raw json.RawMessage, into *string) bool {
		return raw == nil || json.Unmarshal(raw, into) == nil
	}
	if !str(top["_scroll_id"], &r.ScrollID) || !str(top["pit_id"], &r.PitID) {
		return r, false
	}
	raw, found := top["hits"]
	if !found {
		return r, true
	}
	var hits map[string]json.RawMessage
	if json.Unmarshal(raw, &hits) != nil {
		return r, false
	}
	if t, found := hits["total"]; found {
		var obj map[string]json.RawMessage
		if json.Unmarshal(t, &obj) == nil && obj != nil {
			if v, found := obj["value"]; found && json.Unmarshal(v, &r.Total) != nil {
				return r, false
			}
		} else if json.Unmarshal(t, &r.Total) != nil {
			return r, false
		}
	}
	if h, found := hits["hits"]; found {
		var list []map[string]json.RawMessage
		if json.Unmarshal(h, &list) != nil {
			return r, false
		}
		r.Hits = len(list)
		if len(list) > 0 {
			r.LastSort = list[len(list)-1]["sort"]
		}
	}
	return r, true
}

func sameSearchResponse(a, b searchResponse) bool {
	var ca, cb bytes.Buffer
	if len(a.LastSort) > 0 {
		json.Compact(&ca, a.LastSort)
	}
	if len(b.LastSort) > 0 {
		json.Compact(&cb, b.LastSort)
	}
	return a.ScrollID == b.ScrollID && a.PitID == b.PitID && a.Total == b.Total && a.Hits == b.Hits && ca.String() == cb.String()
}

var searchResponses = []struct {
	name, body string
	want       searchResponse
}{
	{"7.x total and sort", `{"took":3,"timed_out":false,"_shards":{"total":2},"hits":{"total":{"value":1000,"relation":"eq"},"max_score":null,
		"hits":[{"_index":"ops","_id":"1","_source":{"name":"a \"quoted\" } ]","n":[1,2]},"sort":[1,"a"]},{"_id":"2","_source":{},"sort":[2, "b\u00e9"]}]}}`,
		searchResponse{Total: 1000, Hits: 2, LastSort: json.RawMessage(`[2, "b\u00e9"]`)}},
	{"6.x total, scroll id", `{"_scroll_id":"DXF1ZXJ5QW5kRmV0Y2gBAAAAAAAAAD4WYm9laVYtZndUQlNsdDcwakFMNjU1QQ==","hits":{"total":42,"hits":[{"_id":"x"}]}}`,
		searchResponse{ScrollID: "DXF1ZXJ5QW5kRmV0Y2gBAAAAAAAAAD4WYm9laVYtZndUQlNsdDcwakFMNjU1QQ==", Total: 42, Hits: 1}},
	{"escaped pit id, hits last", ` { "pit_id" : "a\/b\u0041" , "hits" : { "hits" : [ ] , "total" : { "relation" : "gte" , "value" : 10000 } } } `,
		searchResponse{PitID: "a/bA", Total: 10000}},
	{"no hits at all", `{"acknowledged":true}`, searchResponse{}},
	{"nulls read as nothing", `{"_scroll_id":null,"pit_id":null,"hits":{"total":null,"hits":[null,{"sort":null}]}}`, searchResponse{Hits: 2, LastSort: json.RawMessage(`null`)}},
	{"the last hit without sort", `{"hits":{"hits":[{"sort":[1]},{"_id":"2"}]}}`, searchResponse{Hits: 2}},
}

func TestScanSearchResponse(t *testing.T) {
	for _, tc := range searchResponses {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scanSearchResponse([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if !sameSearchResponse(got, tc.want) {
				t.Fatalf("got %+v (sort %s), want %+v (sort %s)", got, got.LastSort, tc.want, tc.want.LastSort)
			}
			if ref, ok := refSearchResponse([]byte(tc.body)); !ok || !sameSearchResponse(ref, got) {
				t.Fatalf("encoding/json reads %+v (%v), the scanner %+v", ref, ok, got)
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{"hits":`, `{"hits":{"total":"many"}}`, `{"_scroll_id":7}`, `{"hits":{"hits":[1]}}`, `{"a":1 "b":2}`} {
		if r, err := scanSearchResponse([]byte(bad)); err == nil {
			t.Errorf("scanSearchResponse(%q) = %+v, want an error", bad, r)
		}
	}
}

// TestScanSearchResponseCopiesTheSortValues: the next request overwrites
// the response buffer, and search_after must still hold the last page's
// values.
func TestScanSearchResponseCopiesTheSortValues(t *testing.T) {
	b := []byte(`{"hits":{"hits":[{"sort":[7,"x"]}]}}`)
	r, err := scanSearchResponse(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = ' '
	}
	if string(r.LastSort) != `[7,"x"]` {
		t.Fatalf("LastSort = %q after the buffer changed", r.LastSort)
	}
}

func TestScanSearchResponseAllocatesOnlyWhatItReturns(t *testing.T) {
	b := []byte(searchResponses[0].body)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := scanSearchResponse(b); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 { // the copy of the last sort values
		t.Fatalf("%v allocations per scan, want at most 1", allocs)
	}
}

// FuzzScanSearchResponse: wherever encoding/json reads the pieces with the
// types the scanner accepts, the scanner reads the same.
func FuzzScanSearchResponse(f *testing.F) {
	for _, tc := range searchResponses {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := scanSearchResponse(b)
		ref, ok := refSearchResponse(b)
		// encoding/json replaces invalid UTF-8, the scanner keeps the
		// bytes (an id goes back to the engine as it came).
		if !ok || !json.Valid(b) || !utf8.Valid(b) {
			return
		}
		if err != nil {
			t.Fatalf("the scanner refused %q: %v; encoding/json reads %+v", b, err, ref)
		}
		if !sameSearchResponse(got, ref) {
			t.Fatalf("%q: scanner %+v (sort %s), encoding/json %+v (sort %s)", b, got, got.LastSort, ref, ref.LastSort)
		}
	})
}
