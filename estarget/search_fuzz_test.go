package estarget

import (
	"net/http"
	"testing"
)

// FuzzSearch feeds arbitrary search bodies to a small index: the answer is
// always 200 or an ES-shaped 4xx error, never a panic.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{
		`{"query":{"bool":{"must":[{"match":{"text":"fox"}}],"should":{"term":{"n":1}},"minimum_should_match":"50%"}}}`,
		`{"query":{"range":{"@timestamp":{"gte":"now-10y/d","lt":"2030-01-01||+1M"}}},"sort":[{"n":"desc"},"_doc"],"search_after":[5,1]}`,
		`{"size":0,"aggs":{"a":{"terms":{"field":"colour"}},"h":{"date_histogram":{"field":"@timestamp","fixed_interval":"1h"}},"x":{"histogram":{"field":"n","interval":0.5}}}}`,
		`{"query":{"terms":{"tags":["t1",{"a":1}]}},"track_total_hits":3,"_source":false}`,
		`{"query":{"wildcard":{"colour":"*e?"}},"from":2,"size":1}`,
		`{"query":{"ids":{"values":[1,"d2",null]}}}`,
		`{"query":{"multi_match":{"query":"x","fields":"text"}}}`,
		`{"sort":"n:desc","aggs":{"v":{"avg":{"field":"nested.v"}}}}`,
		`{"query":[]}`,
	} {
		f.Add([]byte(s))
	}
	s := seeded(f, Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		res := callRaw(t, s, http.MethodPost, "/docs/_search", body, map[string]string{"Content-Type": "application/json"})
		mustAnswerCleanly(t, res, &searchResponse{})
	})
}
