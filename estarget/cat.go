package estarget

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// catBytes formats a size the way _cat does by default (1.2kb, 3mb).
func catBytes(n int64) string {
	units := []string{"b", "kb", "mb", "gb", "tb"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatInt(n, 10) + "b"
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + units[i]
}

// writeCat answers a _cat request as JSON (format=json) or as an aligned
// text table with an optional header (v).
func (s *Server) writeCat(w http.ResponseWriter, q *req, cols []string, rows [][]string) {
	if f, _ := q.param("format"); f == "json" {
		out := getEnc()
		defer putEnc(out)
		out.arr()
		for _, r := range rows {
			out.obj()
			for i, c := range cols {
				out.kstr(c, r[i])
			}
			out.end()
		}
		out.endArr()
		s.writeJSON(w, q.r, http.StatusOK, out.b)
		return
	}
	all := rows
	if q.flag("v") {
		all = append([][]string{cols}, rows...)
	}
	width := make([]int, len(cols))
	for _, r := range all {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	var b strings.Builder
	for _, r := range all {
		for i, c := range r {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len(c)))
			}
		}
		b.WriteByte('\n')
	}
	w.Header()["Content-Type"] = hdrText
	w.WriteHeader(http.StatusOK)
	if q.r.Method != http.MethodHead {
		_, _ = w.Write([]byte(b.String()))
	}
}

func (s *Server) handleCatIndices(w http.ResponseWriter, q *req) {
	s.mu.RLock()
	indices, ok := s.resolveFor(w, q, q.seg(2), s.mu.RUnlock)
	if !ok {
		return
	}
	bytesUnit, _ := q.param("bytes")
	var rows [][]string
	for _, ix := range indices {
		size := catBytes(ix.storeBytes)
		if bytesUnit == "b" {
			size = strconv.FormatInt(ix.storeBytes, 10)
		}
		rows = append(rows, []string{"green", "open", ix.name, ix.uuid, strconv.Itoa(ix.shards),
			strconv.Itoa(atoiOr(ix.settings["index.number_of_replicas"], 0)),
			strconv.Itoa(ix.live), strconv.Itoa(ix.deleted), size, size})
	}
	s.mu.RUnlock()
	sort.Slice(rows, func(i, j int) bool { return rows[i][2] < rows[j][2] })
	s.writeCat(w, q, []string{"health", "status", "index", "uuid", "pri", "rep", "docs.count", "docs.deleted", "store.size", "pri.store.size"}, rows)
}

func (s *Server) handleCatHealth(w http.ResponseWriter, q *req) {
	now := time.Now()
	s.mu.RLock()
	shards := 0
	for _, ix := range s.indices {
		shards += ix.shards
	}
	s.mu.RUnlock()
	n := strconv.Itoa(shards)
	s.writeCat(w, q,
		[]string{"epoch", "timestamp", "cluster", "status", "node.total", "node.data", "shards", "pri", "relo", "init", "unassign", "unassign.pri", "pending_tasks", "max_task_wait_time", "active_shards_percent"},
		[][]string{{strconv.FormatInt(now.Unix(), 10), now.UTC().Format("15:04:05"), s.clusterName, "green", "1", "1", n, n, "0", "0", "0", "0", "0", "-", "100.0%"}})
}
