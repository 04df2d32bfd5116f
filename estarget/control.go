package estarget

import (
	"encoding/json"
	"net/http"
)

// serveControl serves the target's own namespace, which is never subject to
// faults:
//
//	GET  /_estarget/faults   the faults in effect
//	PUT  /_estarget/faults   replace them: {"latency":"2ms","jitter":"1ms",
//	                         "stall_every":"5s","stall_for":"1s",
//	                         "rate_429":0.01,"rate_5xx":0.01,"seed":1}
//	GET  /_estarget/stats    Counters as JSON
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request, q *req) {
	switch {
	case q.seg(1) == "faults" && q.nseg == 2:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPut, http.MethodPost:
			body, e := readBody(r)
			if e != nil {
				s.writeError(w, r, e)
				return
			}
			var f Faults
			if err := json.Unmarshal(body, &f); err != nil {
				s.writeError(w, r, badRequest("estarget: %v", err))
				return
			}
			if err := s.SetFaults(f); err != nil {
				s.writeError(w, r, badRequest("estarget: %v", err))
				return
			}
		default:
			q.allowed = "GET, HEAD, PUT"
			s.methodNotAllowed(w, q)
			return
		}
		b, _ := json.Marshal(s.CurrentFaults())
		s.writeJSON(w, r, http.StatusOK, b)
	case q.seg(1) == "stats" && q.nseg == 2:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			q.allowed = "GET, HEAD"
			s.methodNotAllowed(w, q)
			return
		}
		b, _ := json.Marshal(s.Stats())
		s.writeJSON(w, r, http.StatusOK, b)
	default:
		s.noHandler(w, q)
	}
}
