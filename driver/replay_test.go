package driver

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// exchange is one request the driver must send and the answers it gets:
// one per time it is sent, the last one again after that (a poll).
type exchange struct {
	// request is "METHOD URI" exactly as sent (query included).
	request string
	// body is the JSON body the request must carry, compared with keys
	// sorted; "" means none, "*" any.
	body    string
	answers []reply
}

// reply is one answer: a status and a recorded body under testdata.
type reply struct {
	status int
	file   string // path under testdata; "" for an empty object
}

// ex builds an exchange.
func ex(request, body string, answers ...reply) exchange {
	return exchange{request: request, body: body, answers: answers}
}

// ok is a 200 answer with a recorded body.
func ok(file string) reply { return reply{200, file} }

// replayES is a test server that answers only the exchanges it was given:
// a request it has no exchange for, or whose body differs, fails the test
// and gets HTTP 599.
type replayES struct {
	*testES
	t         testing.TB
	mu        sync.Mutex
	exchanges []exchange
	sent      []int
}

func newReplayES(t testing.TB, exchanges ...exchange) *replayES {
	t.Helper()
	r := &replayES{t: t, exchanges: exchanges, sent: make([]int, len(exchanges))}
	bodies := map[string]string{}
	for _, e := range exchanges {
		for _, a := range e.answers {
			if a.file == "" {
				continue
			}
			b, err := os.ReadFile(filepath.Join("testdata", a.file))
			if err != nil {
				t.Fatalf("recorded answer: %v", err)
			}
			bodies[a.file] = string(b)
		}
	}
	r.testES = newTestES(t, func(req recReq) (int, string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		key := req.Method + " " + req.URI
		for i, e := range r.exchanges {
			if e.request != key || (e.body != "*" && normJSON(e.body) != normJSON(req.Body)) {
				continue
			}
			a := e.answers[min(r.sent[i], len(e.answers)-1)]
			r.sent[i]++
			if a.file == "" {
				return a.status, "{}"
			}
			return a.status, bodies[a.file]
		}
		r.t.Errorf("unexpected request: %s", req)
		return 599, `{"error":"unexpected request"}`
	})
	return r
}

// unused lists the exchanges that were never sent.
func (r *replayES) unused() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for i, e := range r.exchanges {
		if r.sent[i] == 0 {
			out = append(out, e.request)
		}
	}
	return out
}

// count is how often the request was sent.
func (r *replayES) count(request string) int {
	n := 0
	for _, req := range r.requests() {
		if req.Method+" "+req.URI == request {
			n++
		}
	}
	return n
}

// requireAllUsed fails the test when an exchange was never sent.
func (r *replayES) requireAllUsed(t testing.TB) {
	t.Helper()
	if u := r.unused(); len(u) > 0 {
		t.Errorf("requests never sent: %s", strings.Join(u, "; "))
	}
}
