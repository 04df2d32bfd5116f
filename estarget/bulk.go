package estarget

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// bulkAction is what one action/metadata line of a bulk body says.
type bulkAction struct {
	// op is "index", "create", "update" or "delete".
	op    string
	index string
	id    string
	// source is the size of the line after the action (the document or
	// the update); 0 for delete.
	source int
}

// malformed is Elasticsearch's error for a bad action/metadata line.
func malformed(line int, format string, args ...any) *esError {
	e := badRequest(format, args...)
	e.reason = "Malformed action/metadata line [" + strconv.Itoa(line) + "], " + e.reason
	return e
}

// parseBulk reads the action/metadata lines of an NDJSON bulk body as
// Elasticsearch's BulkRequestParser does where it matters here: the body
// ends with a newline; each action line is one object naming index,
// create, update or delete with an object of metadata; every action but
// delete is followed by one more line, which is not parsed (documents are
// counted, not kept); update and delete need an _id, and every action an
// index, its own or defaultIndex. Errors name the line. Blank lines are
// skipped.
func parseBulk(body []byte, defaultIndex string) ([]bulkAction, *esError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errf(http.StatusBadRequest, "parse_exception", "request body is required")
	}
	if body[len(body)-1] != '\n' {
		return nil, badRequest("The bulk request must be terminated by a newline [\\n]")
	}
	var actions []bulkAction
	for pos, line := 0, 0; pos < len(body); {
		end := bytes.IndexByte(body[pos:], '\n')
		text := body[pos : pos+end]
		pos += end + 1
		line++
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		a, e := parseActionLine(text, line)
		if e != nil {
			return nil, e
		}
		a.index = cmp.Or(a.index, defaultIndex)
		if a.index == "" {
			return nil, errf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: index is missing for the action on line %d;", line)
		}
		if a.id == "" && (a.op == "update" || a.op == "delete") {
			return nil, errf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: id is missing for the %s on line %d;", a.op, line)
		}
		if a.op != "delete" {
			if pos >= len(body) {
				// An action without its source at the end is dropped, as
				// Elasticsearch does.
				break
			}
			end := bytes.IndexByte(body[pos:], '\n')
			a.source = len(bytes.TrimSpace(body[pos : pos+end]))
			pos += end + 1
			line++
		}
		actions = append(actions, a)
	}
	if len(actions) == 0 {
		return nil, errf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no requests added;")
	}
	return actions, nil
}

// parseActionLine reads {"<action>":{"_index":...,"_id":...,...}}; other
// metadata (routing, pipeline, ...) is accepted and ignored.
func parseActionLine(text []byte, line int) (bulkAction, *esError) {
	var a bulkAction
	dec := json.NewDecoder(bytes.NewReader(text))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return a, malformed(line, "expected START_OBJECT but found [%s]", tokenName(tok, err))
	}
	tok, err := dec.Token()
	key, ok := tok.(string)
	if err != nil || !ok {
		return a, malformed(line, "expected FIELD_NAME but found [%s]", tokenName(tok, err))
	}
	switch key {
	case "index", "create", "update", "delete":
		a.op = key
	default:
		return a, malformed(line, "expected one of [create, delete, index, update] but found [%s]", key)
	}
	var meta struct {
		Index string `json:"_index"`
		ID    string `json:"_id"`
	}
	if err := dec.Decode(&meta); err != nil {
		return a, malformed(line, "the metadata of [%s] is not an object of strings: %v", key, err)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return a, malformed(line, "expected END_OBJECT but found [%s]", tokenName(tok, err))
	}
	if tok, err := dec.Token(); !errors.Is(err, io.EOF) {
		return a, malformed(line, "expected the end of the line but found [%s]", tokenName(tok, err))
	}
	a.index, a.id = meta.Index, meta.ID
	return a, nil
}

// tokenName names a JSON token for an error.
func tokenName(tok json.Token, err error) string {
	switch {
	case err != nil && errors.Is(err, io.EOF):
		return "end of line"
	case err != nil:
		return "invalid JSON"
	case tok == json.Delim('{'):
		return "START_OBJECT"
	case tok == json.Delim('['):
		return "START_ARRAY"
	case tok == json.Delim('}'):
		return "END_OBJECT"
	case tok == json.Delim(']'):
		return "END_ARRAY"
	}
	switch tok.(type) {
	case string:
		return "VALUE_STRING"
	case nil:
		return "VALUE_NULL"
	case bool:
		return "VALUE_BOOLEAN"
	}
	return "VALUE_NUMBER"
}

// bulk answers _bulk: every item succeeds (index and create as created,
// update as updated, delete as deleted) and moves its index's document
// counter; a missing index is created, an invalid index name fails its
// item as Elasticsearch does.
func (s *Server) bulk(r *http.Request, defaultIndex string) reply {
	start := time.Now()
	body, e := readBody(r)
	if e != nil {
		return errorReply(e)
	}
	actions, e := parseBulk(body, defaultIndex)
	if e != nil {
		return errorReply(e)
	}
	failed := false
	for _, a := range actions {
		failed = failed || validIndexName(a.index) != ""
	}
	out := make([]byte, 0, 64+len(actions)*180)
	out = append(out, `{"took":`...)
	out = strconv.AppendInt(out, time.Since(start).Milliseconds(), 10)
	out = append(out, `,"errors":`...)
	out = strconv.AppendBool(out, failed)
	out = append(out, `,"items":[`...)
	st := &s.store
	st.mu.Lock()
	for i, a := range actions {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"`...)
		out = append(out, a.op...)
		out = append(out, `":{"_index":`...)
		out = appendString(out, a.index)
		if why := validIndexName(a.index); why != "" {
			out = append(out, `,"_id":`...)
			out = appendString(out, a.id)
			out = append(out, `,"status":400,"error":{"type":"invalid_index_name_exception","reason":`...)
			out = appendString(out, "Invalid index name ["+a.index+"], "+why)
			out = append(out, `,"index":`...)
			out = appendString(out, a.index)
			out = append(out, `}}}`...)
			continue
		}
		ix := st.createLocked(a.index, false)
		ix.writes++
		ix.bytes += int64(a.source)
		st.seq++
		result, status := "created", "201"
		switch a.op {
		case "index", "create":
			ix.docs++
		case "update":
			result, status = "updated", "200"
		case "delete":
			result, status = "deleted", "200"
			ix.docs = max(ix.docs-1, 0)
		}
		if a.id == "" {
			a.id = st.newID(st.seq)
		}
		out = append(out, `,"_id":`...)
		out = appendString(out, a.id)
		out = append(out, `,"_version":1,"result":"`...)
		out = append(out, result...)
		out = append(out, `","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":`...)
		out = strconv.AppendInt(out, st.seq-1, 10)
		out = append(out, `,"_primary_term":1,"status":`...)
		out = append(out, status...)
		out = append(out, `}}`...)
	}
	st.mu.Unlock()
	out = append(out, "]}"...)
	return reply{http.StatusOK, out}
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		case c < utf8.RuneSelf:
			b = append(b, c)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			b = utf8.AppendRune(b, r) // invalid bytes become U+FFFD
			i += n
			continue
		}
		i++
	}
	return append(b, '"')
}
