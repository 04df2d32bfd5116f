package driver

import (
	"bytes"
	"errors"
	"strconv"
)

// bulkResult is what the driver needs from a _bulk response.
type bulkResult struct {
	// Errors is the response's top-level "errors" flag.
	Errors bool
	// Items and Failed count the items and the failed ones (status > 299 or
	// _shards.failed > 0); both stay zero when Errors is false, because the
	// items are then not read at all.
	Items, Failed int
	// FirstStatus and FirstReason describe the first failed item.
	FirstStatus int
	FirstReason string
}

var errBadBulkResponse = errors.New("not a bulk response")

// scanBulkResponse reads a _bulk response without decoding it: it walks the
// top-level keys, skipping values, until it finds "errors". When that is
// false (the normal case) it stops there, a few bytes into a response that
// may be megabytes long. Only when it is true does it walk "items" to count
// and describe the failures. It allocates only to describe a failure.
func scanBulkResponse(b []byte) (bulkResult, error) {
	var res bulkResult
	sc := jsonScanner{b: b}
	if !sc.expect('{') {
		return res, errBadBulkResponse
	}
	itemsAt, haveErrors := -1, false
	for first := true; ; first = false {
		key, end, ok := sc.member(first)
		if !ok {
			return res, errBadBulkResponse
		}
		if end {
			break
		}
		switch {
		case string(key) == "errors":
			v, ok := sc.literalBool()
			if !ok {
				return res, errBadBulkResponse
			}
			haveErrors, res.Errors = true, v
			if !v {
				return res, nil
			}
			if itemsAt >= 0 {
				sc.i = itemsAt
				return res, sc.items(&res)
			}
		case string(key) == "items" && haveErrors:
			return res, sc.items(&res)
		case string(key) == "items":
			itemsAt = sc.i
			if !sc.skip() {
				return res, errBadBulkResponse
			}
		default:
			if !sc.skip() {
				return res, errBadBulkResponse
			}
		}
	}
	if !haveErrors {
		return res, errBadBulkResponse
	}
	return res, nil
}

// items walks the items array: [{"<action>": {"status": n, "error": ...,
// "_shards": {"failed": n}, ...}}, ...].
func (sc *jsonScanner) items(res *bulkResult) error {
	if !sc.expect('[') {
		return errBadBulkResponse
	}
	for first := true; ; first = false {
		sc.ws()
		if sc.peek() == ']' {
			sc.i++
			return nil
		}
		if !first && !sc.expect(',') {
			return errBadBulkResponse
		}
		if !sc.expect('{') {
			return errBadBulkResponse
		}
		for firstAction := true; ; firstAction = false {
			_, end, ok := sc.member(firstAction)
			if !ok {
				return errBadBulkResponse
			}
			if end {
				break
			}
			if err := sc.item(res); err != nil {
				return err
			}
		}
	}
}

// item reads one action's result object.
func (sc *jsonScanner) item(res *bulkResult) error {
	if !sc.expect('{') {
		return errBadBulkResponse
	}
	status, shardsFailed := 0, 0
	var reason []byte
	for first := true; ; first = false {
		key, end, ok := sc.member(first)
		if !ok {
			return errBadBulkResponse
		}
		if end {
			break
		}
		switch string(key) {
		case "status":
			n, ok := sc.integer()
			if !ok {
				return errBadBulkResponse
			}
			status = n
		case "error":
			r, ok := sc.errorReason()
			if !ok {
				return errBadBulkResponse
			}
			reason = r
		case "_shards":
			n, ok := sc.shardsFailed()
			if !ok {
				return errBadBulkResponse
			}
			shardsFailed = n
		default:
			if !sc.skip() {
				return errBadBulkResponse
			}
		}
	}
	res.Items++
	if status > 299 || shardsFailed > 0 {
		res.Failed++
		if res.Failed == 1 {
			res.FirstStatus = status
			res.FirstReason = string(reason)
		}
	}
	return nil
}

// errorReason reads an item's "error": an object whose "reason" is kept, or
// a plain string.
func (sc *jsonScanner) errorReason() ([]byte, bool) {
	switch sc.peek() {
	case '"':
		return sc.str()
	case '{':
	default:
		return nil, sc.skip()
	}
	sc.i++
	var reason []byte
	for first := true; ; first = false {
		key, end, ok := sc.member(first)
		if !ok {
			return nil, false
		}
		if end {
			return reason, true
		}
		if string(key) == "reason" && sc.peek() == '"' {
			if reason, ok = sc.str(); !ok {
				return nil, false
			}
			continue
		}
		if !sc.skip() {
			return nil, false
		}
	}
}

// shardsFailed reads "_shards" and returns its "failed" count.
func (sc *jsonScanner) shardsFailed() (int, bool) {
	if sc.peek() != '{' {
		return 0, sc.skip()
	}
	sc.i++
	failed := 0
	for first := true; ; first = false {
		key, end, ok := sc.member(first)
		if !ok {
			return 0, false
		}
		if end {
			return failed, true
		}
		if string(key) == "failed" {
			if failed, ok = sc.integer(); !ok {
				return 0, false
			}
			continue
		}
		if !sc.skip() {
			return 0, false
		}
	}
}

// jsonScanner is a minimal, allocation-free JSON tokenizer over a byte
// slice: it can skip any value and read strings (raw, escapes left in),
// integers and booleans. Every method checks bounds; malformed input makes
// it report false, never panic.
type jsonScanner struct {
	b []byte
	i int
}

func (sc *jsonScanner) ws() {
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// member reads the next member's key and colon in an object whose '{' is
// consumed (first says whether it is the first member, else a ',' comes
// before it) and leaves sc at the value. end reports the object's '}'
// instead, consumed; ok is false on malformed input.
func (sc *jsonScanner) member(first bool) (key []byte, end, ok bool) {
	sc.ws()
	if sc.peek() == '}' {
		sc.i++
		return nil, true, true
	}
	if !first && !sc.expect(',') {
		return nil, false, false
	}
	if key, ok = sc.str(); !ok || !sc.expect(':') {
		return nil, false, false
	}
	sc.ws()
	return key, false, true
}

func (sc *jsonScanner) peek() byte {
	if sc.i < len(sc.b) {
		return sc.b[sc.i]
	}
	return 0
}

// expect skips whitespace and consumes c.
func (sc *jsonScanner) expect(c byte) bool {
	sc.ws()
	if sc.i < len(sc.b) && sc.b[sc.i] == c {
		sc.i++
		return true
	}
	return false
}

// str reads a string and returns its raw content (escapes not decoded).
func (sc *jsonScanner) str() ([]byte, bool) {
	sc.ws()
	if sc.peek() != '"' {
		return nil, false
	}
	start := sc.i + 1
	for j := start; j < len(sc.b); j++ {
		switch c := sc.b[j]; {
		case c == '\\':
			j++
		case c == '"':
			sc.i = j + 1
			return sc.b[start:j], true
		case c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// integer reads a number and returns it as an int (fractions truncated).
func (sc *jsonScanner) integer() (int, bool) {
	start := sc.i
	if !sc.number() {
		return 0, false
	}
	num := sc.b[start:sc.i]
	n := 0
	simple := len(num) > 0 && len(num) < 10
	for _, c := range num {
		if c < '0' || c > '9' {
			simple = false
			break
		}
		n = n*10 + int(c-'0')
	}
	if simple {
		return n, true
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || f > 1e9 || f < -1e9 {
		return 0, false
	}
	return int(f), true
}

// number consumes a JSON number.
func (sc *jsonScanner) number() bool {
	j := sc.i
	if j < len(sc.b) && sc.b[j] == '-' {
		j++
	}
	digits := func() int {
		n := 0
		for j < len(sc.b) && sc.b[j] >= '0' && sc.b[j] <= '9' {
			j++
			n++
		}
		return n
	}
	if digits() == 0 {
		return false
	}
	if j < len(sc.b) && sc.b[j] == '.' {
		j++
		if digits() == 0 {
			return false
		}
	}
	if j < len(sc.b) && (sc.b[j] == 'e' || sc.b[j] == 'E') {
		j++
		if j < len(sc.b) && (sc.b[j] == '+' || sc.b[j] == '-') {
			j++
		}
		if digits() == 0 {
			return false
		}
	}
	sc.i = j
	return true
}

var (
	litTrue  = []byte("true")
	litFalse = []byte("false")
	litNull  = []byte("null")
)

func (sc *jsonScanner) literal(l []byte) bool {
	if bytes.HasPrefix(sc.b[sc.i:], l) {
		sc.i += len(l)
		return true
	}
	return false
}

func (sc *jsonScanner) literalBool() (value, ok bool) {
	switch {
	case sc.literal(litTrue):
		return true, true
	case sc.literal(litFalse):
		return false, true
	}
	return false, false
}

// skip consumes any one value. Nesting is tracked with a counter, not
// recursion, so deep input cannot exhaust the stack.
func (sc *jsonScanner) skip() bool {
	sc.ws()
	switch c := sc.peek(); {
	case c == '"':
		_, ok := sc.str()
		return ok
	case c == '-' || (c >= '0' && c <= '9'):
		return sc.number()
	case c == 't':
		return sc.literal(litTrue)
	case c == 'f':
		return sc.literal(litFalse)
	case c == 'n':
		return sc.literal(litNull)
	case c != '{' && c != '[':
		return false
	}
	// A container: scan to its matching end, validating only structure.
	depth := 0
	for sc.i < len(sc.b) {
		switch c := sc.b[sc.i]; c {
		case '{', '[':
			depth++
			sc.i++
		case '}', ']':
			depth--
			sc.i++
			if depth == 0 {
				return true
			}
		case '"':
			if _, ok := sc.str(); !ok {
				return false
			}
		default:
			sc.i++
		}
	}
	return false
}
