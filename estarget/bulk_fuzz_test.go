package estarget

import (
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzBulk: any body gets a 200 whose items match the parsed actions
// one to one, or a 4xx with an error object; never a panic or a 5xx.
func FuzzBulk(f *testing.F) {
	f.Add(bulkBody("a", 2))
	f.Add(`{"delete":{"_index":"a","_id":"1"}}` + "\n")
	f.Add(`{"update":{"_index":"a","_id":"1"}}` + "\n" + `{"doc":{}}` + "\n")
	f.Add(`{"index":{"_index":"\u00e9\"x","_id":"\u0000"}}` + "\n{}\n")
	f.Add(`{"index":{"_index":"Bad"}}` + "\n{}\n")
	f.Add("{\"index\":{}}\n{}\n")
	f.Add("{\"index\":{\"_index\":1}}\n")
	f.Add("\n\n{")
	f.Fuzz(func(t *testing.T, body string) {
		s := New(Options{})
		res := call(t, s, http.MethodPost, "/d/_bulk", body)
		switch {
		case res.status == http.StatusOK:
			var br struct {
				Items []map[string]json.RawMessage `json:"items"`
			}
			decode(t, res.body, &br)
			actions, e := parseBulk([]byte(body), "d")
			if e != nil || len(br.Items) != len(actions) {
				t.Fatalf("%d items for %d actions (%v): %s", len(br.Items), len(actions), e, res.body)
			}
		case res.status >= 400 && res.status < 500:
			mustError(t, res, res.status, errorType(t, res))
		default:
			t.Fatalf("status %d: %s", res.status, res.body)
		}
	})
}

func errorType(t *testing.T, res response) string {
	var eb errorBody
	decode(t, res.body, &eb)
	return eb.Error.Type
}
