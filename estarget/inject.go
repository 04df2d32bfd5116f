package estarget

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// answer is what goes back to the client before faults damage it: the
// upstream's response, streamed, or a canned reply.
type answer struct {
	status int
	header http.Header
	body   io.Reader
	// length is the body's size, -1 when unknown (a chunked upstream
	// answer).
	length int64
	close  func()
}

// maxBuffered bounds how much of an upstream answer of unknown length is
// read to truncate it (Elasticsearch's default http.max_content_length).
const maxBuffered = 100 << 20

// sleepCtx waits d and reports whether the whole wait passed (false when
// the request's context ended first).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// beforeAnswer applies what a rule does before the request is answered:
// latency and jitter, waiting out an open stall window, and the faults that
// answer in the engine's place (rejections and resets). It returns the
// request's fault and false when the request is done with.
func (s *Server) beforeAnswer(w http.ResponseWriter, r *http.Request, fs *faultState, rule *Rule) (faultKind, bool) {
	kind, delay := fs.draw(rule)
	f := &s.counters.faults
	if delay > 0 {
		f[cDelayed].Add(1)
		if !sleepCtx(r.Context(), delay) {
			return kind, false
		}
	}
	if d := fs.stallLeft(rule); d > 0 {
		f[cStalled].Add(1)
		if !sleepCtx(r.Context(), d) {
			return kind, false
		}
	}
	var e *esError
	switch kind {
	case fault429:
		f[c429].Add(1)
		e = errf(http.StatusTooManyRequests, "es_rejected_execution_exception",
			"rejected execution of coordinating operation [estarget fault injection: rate_429, rule %s]", rule)
	case fault503:
		f[c503].Add(1)
		e = errf(http.StatusServiceUnavailable, "cluster_block_exception",
			"blocked by: [SERVICE_UNAVAILABLE/2/estarget fault injection: rate_5xx, rule %s];", rule)
	case fault500:
		f[c500].Add(1)
		e = errf(http.StatusInternalServerError, "exception", "estarget fault injection: rate_5xx, rule %s", rule)
	case faultReset:
		f[cReset].Add(1)
		closeConn(w, true)
		return kind, false
	default:
		return kind, true
	}
	a := errorReply(e).answer()
	s.deliver(w, r, &a, nil, nil, faultNone)
	return kind, false
}

// deliver writes an answer: held back while a stall window of the rule is
// open (the request was in flight when the pause began), then whole, slowly
// or truncated as the rule and the dice say.
func (s *Server) deliver(w http.ResponseWriter, r *http.Request, a *answer, fs *faultState, rule *Rule, kind faultKind) {
	if a.close != nil {
		defer a.close()
	}
	f := &s.counters.faults
	if rule != nil && rule.StallFor > 0 {
		if d := fs.stallLeft(rule); d > 0 {
			f[cStalled].Add(1)
			if !sleepCtx(r.Context(), d) {
				return
			}
		}
	}
	h := w.Header()
	for k, v := range a.header {
		h[k] = v
	}
	head := r.Method == http.MethodHead
	if kind == faultTruncate && !head {
		body, n := a.body, a.length
		if n < 0 {
			b, err := io.ReadAll(io.LimitReader(a.body, maxBuffered))
			if err != nil {
				closeConn(w, true)
				return
			}
			body, n = bytes.NewReader(b), int64(len(b))
		}
		f[cTruncated].Add(1)
		h.Set("Content-Length", strconv.FormatInt(n, 10))
		w.WriteHeader(a.status)
		_, _ = io.CopyN(w, body, n/2)
		_ = http.NewResponseController(w).Flush()
		closeConn(w, false)
		return
	}
	if a.length >= 0 {
		h.Set("Content-Length", strconv.FormatInt(a.length, 10))
	}
	w.WriteHeader(a.status)
	if head || a.body == nil {
		return
	}
	if rule != nil && rule.SlowBodyPause > 0 {
		f[cSlowed].Add(1)
		copySlow(r.Context(), w, a.body, cmpInt(rule.SlowBodyChunk, defaultSlowChunk), rule.SlowBodyPause)
		return
	}
	copyBody(w, a.body, a.length < 0)
}

func cmpInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// copyBody streams body to w, flushing after each read when the length is
// unknown so that a chunked upstream answer flows as it comes.
func copyBody(w http.ResponseWriter, body io.Reader, flush bool) {
	if !flush {
		_, _ = io.Copy(w, body)
		return
	}
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// copySlow writes body in chunks of chunk bytes, flushed, with pause after
// each one but the last.
func copySlow(ctx context.Context, w http.ResponseWriter, body io.Reader, chunk int, pause time.Duration) {
	rc := http.NewResponseController(w)
	buf := make([]byte, chunk)
	for {
		n, err := io.ReadFull(body, buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err != nil || !sleepCtx(ctx, pause) {
			return
		}
	}
}

// closeConn ends the request's connection under the client: with rst, at
// once and with a TCP RST (nothing written before is flushed); otherwise
// after what was written so far. Where the connection cannot be taken
// over (HTTP/2, a recorder) the handler is aborted, which closes it too.
func closeConn(w http.ResponseWriter, rst bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok && rst {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
