package estarget

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzBulk feeds arbitrary NDJSON to the bulk parser and to the whole bulk
// endpoint: neither may panic, and the endpoint always answers 200 with
// items or an ES-shaped 4xx error.
func FuzzBulk(f *testing.F) {
	seeds := []string{
		"{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1}\n",
		"{\"create\":{\"_index\":\"a\"}}\n{\"@timestamp\":\"2024\"}\n",
		"{\"update\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"doc\":{\"y\":2},\"doc_as_upsert\":true}\n",
		"{\"delete\":{\"_index\":\"a\",\"_id\":\"1\"}}\n",
		"{\"index\":{\"_index\":\"a\",\"dynamic_templates\":{\"a\":[1,{\"b\":null}]}}}\n{}\n",
		"{\"index\":{}}\n[1]\n",
		"{\"index\":{\"_id\":\"\\u0041\\\"\"}}\n{}\n",
		"\n\n{\"index\":{\"_index\":\"a\"}}\n",
		"{\"index\":{\"_index\":\"a\"}}\n{\"x\":1}",
		"{\"index\":{\"_index\":\"a\"",
		"{\"index\":{\"_index\":\"a\",\"if_seq_no\":\"x\"}}\n{}\n",
		"{\"index\":{\"_index\":\"A\"}}\n{}\n",
		"{\"update\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"script\":\"ctx\"}\n",
		strings.Repeat("[", 200) + "\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	s := New(Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		ops, _ := parseBulk(body, "", false, nil)
		for _, op := range ops {
			if op.typ < opIndex || op.typ > opDelete {
				t.Fatalf("parsed an op of unknown type %d", op.typ)
			}
		}
		for _, line := range strings.Split(string(body), "\n") {
			var op bulkOp
			_ = parseActionLine([]byte(line), 1, true, &op)
			_ = hasTopLevelKey([]byte(line), "@timestamp")
		}
		res := callRaw(t, s, http.MethodPost, "/fuzz/_bulk", body, map[string]string{"Content-Type": "application/x-ndjson"})
		mustAnswerCleanly(t, res, &bulkResponse{})
	})
}
