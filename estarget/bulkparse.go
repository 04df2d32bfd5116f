package estarget

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// opType is a bulk action.
type opType uint8

const (
	opIndex opType = iota + 1
	opCreate
	opUpdate
	opDelete
)

var opNames = [...]string{"", "index", "create", "update", "delete"}

func (t opType) String() string { return opNames[t] }

// bulkOp is one parsed bulk action with its source line.
type bulkOp struct {
	typ      opType
	line     int // 1-based line number of the action line
	index    string
	id       string
	pipeline string
	hasPipe  bool
	// source is the document (index, create) or the update body; it points
	// into the request body, which the store may keep.
	source []byte
	update *updateBody

	ifSeqNo, ifPrimaryTerm int64
	hasIfSeqNo             bool
}

// updateBody is the line after an update action.
type updateBody struct {
	Doc         map[string]any `json:"doc"`
	Upsert      map[string]any `json:"upsert"`
	DocAsUpsert bool           `json:"doc_as_upsert"`
	Script      any            `json:"script"`
	DetectNoop  *bool          `json:"detect_noop"`
	Scripted    bool           `json:"scripted_upsert"`
	Source      any            `json:"_source"`
	IfSeqNo     *int64         `json:"if_seq_no"`
	IfPrimTerm  *int64         `json:"if_primary_term"`
	Lang        any            `json:"lang"`
}

// parseBulk splits an NDJSON bulk body into operations, as Elasticsearch's
// BulkRequestParser does: the body must end with a newline; an action whose
// source line is missing at the end is dropped; a malformed action line or
// update body fails the whole request. Document sources are not parsed here:
// a bad document is an item-level error later, as in Elasticsearch.
// allowType accepts the legacy _type metadata field (7.x).
func parseBulk(body []byte, defaultIndex string, allowType bool, ops []bulkOp) ([]bulkOp, *esError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return ops, errf(http.StatusBadRequest, "parse_exception", "request body is required")
	}
	if body[len(body)-1] != '\n' {
		return ops, badRequest("The bulk request must be terminated by a newline [\\n]")
	}
	line := 0
	for pos := 0; pos < len(body); {
		end := bytes.IndexByte(body[pos:], '\n')
		if end < 0 {
			break
		}
		action := body[pos : pos+end]
		pos += end + 1
		line++
		if len(bytes.TrimSpace(action)) == 0 {
			continue
		}
		var op bulkOp
		op.line = line
		if len(ops) > 0 {
			op.index = ops[len(ops)-1].index // reused when the next action names the same index
		}
		if e := parseActionLine(action, line, allowType, &op); e != nil {
			return ops, e
		}
		if op.index == "" {
			op.index = defaultIndex
		}
		if op.typ != opDelete {
			end := bytes.IndexByte(body[pos:], '\n')
			if end < 0 {
				break
			}
			op.source = bytes.TrimSpace(body[pos : pos+end])
			pos += end + 1
			line++
			if op.typ == opUpdate {
				var u updateBody
				dec := json.NewDecoder(bytes.NewReader(op.source))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&u); err != nil {
					return ops, xContentError("[%d:1] [UpdateRequest] failed to parse update body: %v", line, err)
				}
				op.update = &u
			}
		}
		ops = append(ops, op)
	}
	if len(ops) == 0 {
		return ops, validationFailed("no requests added")
	}
	var missing []byte
	n := 0
	for i := range ops {
		if ops[i].index == "" {
			n++
			missing = append(missing, strconv.Itoa(n)+": index is missing;"...)
		}
	}
	if n > 0 {
		return ops, errf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: %s", missing)
	}
	return ops, nil
}

// parseActionLine parses {"<action>":{<metadata>}}.
func parseActionLine(b []byte, line int, allowType bool, op *bulkOp) *esError {
	sc := scanner{b: b}
	malformed := func(format string, args ...any) *esError {
		e := badRequest(format, args...)
		e.reason = "Malformed action/metadata line [" + strconv.Itoa(line) + "], " + e.reason
		return e
	}
	sc.ws()
	if !sc.consume('{') {
		return malformed("expected START_OBJECT but found [%s]", sc.tokenName())
	}
	sc.ws()
	name, ok := sc.str()
	if !ok {
		return sc.syntaxError(line)
	}
	switch name {
	case "index":
		op.typ = opIndex
	case "create":
		op.typ = opCreate
	case "update":
		op.typ = opUpdate
	case "delete":
		op.typ = opDelete
	default:
		return malformed("expected field [create], [delete], [index] or [update] but found [%s]", name)
	}
	sc.ws()
	if !sc.consume(':') {
		return sc.syntaxError(line)
	}
	sc.ws()
	if !sc.consume('{') {
		return malformed("expected START_OBJECT but found [%s]", sc.tokenName())
	}
	sc.ws()
	seenIndex := false
	if !sc.consume('}') {
		for {
			sc.ws()
			key, ok := sc.str()
			if !ok {
				return sc.syntaxError(line)
			}
			sc.ws()
			if !sc.consume(':') {
				return sc.syntaxError(line)
			}
			sc.ws()
			switch key {
			case "_index":
				// Most bulk bodies name one index on every line: reuse the
				// previous action's string instead of allocating a new one.
				raw, ok := sc.strRaw()
				if !ok {
					return sc.syntaxError(line)
				}
				if hint := op.index; hint == "" || bytes.IndexByte(raw, '\\') >= 0 || string(raw[1:len(raw)-1]) != hint {
					v, ok := (&scanner{b: raw}).str()
					if !ok {
						return sc.syntaxError(line)
					}
					op.index = v
				}
				seenIndex = true
			case "dynamic_templates", "_source":
				if !sc.skipValue(0) {
					return sc.syntaxError(line)
				}
			default:
				if c := sc.peek(); c == '{' || c == '[' {
					return malformed("expected a simple value for field [%s] but found [%s]", key, sc.tokenName())
				}
				v, isNull, ok := sc.scalar()
				if !ok {
					return sc.syntaxError(line)
				}
				if e := op.setMeta(key, v, isNull, line, allowType); e != nil {
					return e
				}
			}
			sc.ws()
			if sc.consume(',') {
				continue
			}
			if sc.consume('}') {
				break
			}
			return sc.syntaxError(line)
		}
	}
	sc.ws()
	if !sc.consume('}') {
		return malformed("expected END_OBJECT but found [%s]", sc.tokenName())
	}
	sc.ws()
	if sc.i != len(sc.b) {
		return malformed("expected end of line but found [%s]", sc.tokenName())
	}
	if !seenIndex {
		op.index = ""
	}
	return nil
}

func (op *bulkOp) setMeta(key, v string, isNull bool, line int, allowType bool) *esError {
	num := func() (int64, *esError) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, badRequest("Malformed action/metadata line [%d], failed to parse [%s] value [%s] as a number", line, key, v)
		}
		return n, nil
	}
	switch key {
	case "_index":
		op.index = v
	case "_id":
		if !isNull {
			op.id = v
		}
	case "pipeline":
		op.pipeline, op.hasPipe = v, true
	case "if_seq_no":
		n, e := num()
		if e != nil {
			return e
		}
		op.ifSeqNo, op.hasIfSeqNo = n, true
	case "if_primary_term":
		n, e := num()
		if e != nil {
			return e
		}
		op.ifPrimaryTerm = n
	case "op_type":
		if op.typ == opIndex && v == "create" {
			op.typ = opCreate
		}
	case "routing", "version", "version_type", "retry_on_conflict", "require_alias",
		"require_data_stream", "list_executed_pipelines":
		// Accepted and ignored: one shard copy, no external versioning.
	case "_type":
		if !allowType {
			return badRequest("Action/metadata line [%d] contains an unknown parameter [%s]", line, key)
		}
	default:
		return badRequest("Action/metadata line [%d] contains an unknown parameter [%s]", line, key)
	}
	return nil
}

// scanner is a minimal JSON tokenizer for bulk action lines and top-level
// key scans; it never allocates for strings without escapes beyond the
// returned string itself.
type scanner struct {
	b []byte
	i int
}

func (sc *scanner) ws() {
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case ' ', '\t', '\r', '\n':
			sc.i++
		default:
			return
		}
	}
}

func (sc *scanner) peek() byte {
	if sc.i < len(sc.b) {
		return sc.b[sc.i]
	}
	return 0
}

func (sc *scanner) consume(c byte) bool {
	if sc.i < len(sc.b) && sc.b[sc.i] == c {
		sc.i++
		return true
	}
	return false
}

// tokenName names the next token the way Jackson does in error messages.
func (sc *scanner) tokenName() string {
	switch c := sc.peek(); {
	case sc.i >= len(sc.b):
		return "null"
	case c == '{':
		return "START_OBJECT"
	case c == '}':
		return "END_OBJECT"
	case c == '[':
		return "START_ARRAY"
	case c == ']':
		return "END_ARRAY"
	case c == '"':
		return "VALUE_STRING"
	case c == 't' || c == 'f':
		return "VALUE_BOOLEAN"
	case c == 'n':
		return "VALUE_NULL"
	case c == '-' || (c >= '0' && c <= '9'):
		return "VALUE_NUMBER_INT"
	}
	return "UNKNOWN"
}

func (sc *scanner) syntaxError(line int) *esError {
	what := "end-of-input"
	if sc.i < len(sc.b) {
		what = "'" + string(rune(sc.b[sc.i])) + "' (code " + strconv.Itoa(int(sc.b[sc.i])) + ")"
	}
	return xContentError("[%d:%d] Unexpected character %s: malformed action/metadata line", line, sc.i+1, what)
}

// str reads a JSON string token.
func (sc *scanner) str() (string, bool) {
	raw, ok := sc.strRaw()
	if !ok {
		return "", false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// strRaw returns the quoted token including its quotes.
func (sc *scanner) strRaw() ([]byte, bool) {
	if !sc.consume('"') {
		return nil, false
	}
	start := sc.i - 1
	for sc.i < len(sc.b) {
		c := sc.b[sc.i]
		switch {
		case c == '"':
			sc.i++
			return sc.b[start:sc.i], true
		case c == '\\':
			sc.i += 2
		case c < 0x20:
			return nil, false
		default:
			sc.i++
		}
	}
	return nil, false
}

// scalar reads a string, number, boolean or null; non-strings are returned
// as their literal text.
func (sc *scanner) scalar() (v string, isNull bool, ok bool) {
	switch c := sc.peek(); {
	case c == '"':
		s, ok := sc.str()
		return s, false, ok
	case c == 't':
		return "true", false, sc.literal("true")
	case c == 'f':
		return "false", false, sc.literal("false")
	case c == 'n':
		return "", true, sc.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		start := sc.i
		sc.i++
		for sc.i < len(sc.b) {
			c := sc.b[sc.i]
			if (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
				sc.i++
				continue
			}
			break
		}
		return string(sc.b[start:sc.i]), false, true
	}
	return "", false, false
}

func (sc *scanner) literal(lit string) bool {
	if bytes.HasPrefix(sc.b[sc.i:], []byte(lit)) {
		sc.i += len(lit)
		return true
	}
	return false
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 64

// skipValue skips one JSON value of any kind.
func (sc *scanner) skipValue(depth int) bool {
	if depth > maxDepth {
		return false
	}
	sc.ws()
	switch sc.peek() {
	case '{', '[':
		open := sc.b[sc.i]
		closing := byte('}')
		if open == '[' {
			closing = ']'
		}
		sc.i++
		sc.ws()
		if sc.consume(closing) {
			return true
		}
		for {
			sc.ws()
			if open == '{' {
				if _, ok := sc.strRaw(); !ok {
					return false
				}
				sc.ws()
				if !sc.consume(':') {
					return false
				}
			}
			if !sc.skipValue(depth + 1) {
				return false
			}
			sc.ws()
			if sc.consume(',') {
				continue
			}
			return sc.consume(closing)
		}
	default:
		_, _, ok := sc.scalar()
		return ok
	}
}

// hasTopLevelKey reports whether the JSON object src has member key at the
// top level (or, for a dotted key, as a nested path or a literal dotted
// member). It is how data stream writes check for @timestamp without
// decoding the document.
func hasTopLevelKey(src []byte, key string) bool {
	sc := scanner{b: src}
	sc.ws()
	if !sc.consume('{') {
		return false
	}
	sc.ws()
	if sc.consume('}') {
		return false
	}
	for {
		sc.ws()
		raw, ok := sc.strRaw()
		if !ok {
			return false
		}
		if len(raw) == len(key)+2 && string(raw[1:len(raw)-1]) == key {
			return true
		}
		sc.ws()
		if !sc.consume(':') || !sc.skipValue(0) {
			return false
		}
		sc.ws()
		if !sc.consume(',') {
			return false
		}
	}
}
