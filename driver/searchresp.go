package driver

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// searchResponse is the part of a search response pagination reads.
type searchResponse struct {
	// ScrollID and PitID are the top-level _scroll_id and pit_id ("" when
	// absent).
	ScrollID, PitID string
	// Total is hits.total (7.x+ {"value": n}, 6.x n); 0 when absent.
	Total int64
	// Hits counts hits.hits.
	Hits int
	// LastSort is the raw "sort" value of the last hit (nil when the last
	// hit has none), copied out of the response.
	LastSort json.RawMessage
}

var errBadSearchResponse = errors.New("not a search response")

// scanSearchResponse reads what pagination needs from a search response
// without decoding the rest: top-level keys are walked and skipped, and in
// "hits" only "total" and each hit's "sort" are looked at, so the sources
// of a page of hits cost a scan, not a decoding. It allocates only the ids
// and the last sort values it returns.
func scanSearchResponse(b []byte) (searchResponse, error) {
	var r searchResponse
	sc := jsonScanner{b: b}
	ok := sc.members(func(key []byte) (ok bool) {
		switch string(key) { // no allocation: the conversion is only compared
		case "_scroll_id":
			r.ScrollID, ok = sc.stringValue()
		case "pit_id":
			r.PitID, ok = sc.stringValue()
		case "hits":
			ok = sc.searchHits(&r)
		default:
			ok = sc.skip()
		}
		return ok
	})
	if !ok {
		return r, errBadSearchResponse
	}
	return r, nil
}

// members walks the members of the object at sc (its '{' not yet
// consumed), calling visit with each key and sc at the value; visit
// consumes the value and says whether it was well formed.
func (sc *jsonScanner) members(visit func(key []byte) bool) bool {
	if !sc.expect('{') {
		return false
	}
	for first := true; ; first = false {
		key, end, ok := sc.member(first)
		if !ok {
			return false
		}
		if end {
			return true
		}
		if !visit(key) {
			return false
		}
	}
}

// null consumes a null, which reads as the zero value wherever a response
// piece is looked at (as encoding/json reads it).
func (sc *jsonScanner) null() bool {
	sc.ws()
	return sc.literal(litNull)
}

// stringValue reads a string value, decoding escapes when there are any.
func (sc *jsonScanner) stringValue() (string, bool) {
	if sc.null() {
		return "", true
	}
	start := sc.i
	raw, ok := sc.str()
	if !ok {
		return "", false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw), true
	}
	var s string
	if json.Unmarshal(sc.b[start:sc.i], &s) != nil {
		return "", false
	}
	return s, true
}

// searchHits reads the "hits" object: total and the hits array.
func (sc *jsonScanner) searchHits(r *searchResponse) bool {
	if sc.null() {
		return true
	}
	return sc.members(func(key []byte) (ok bool) {
		switch string(key) {
		case "total":
			r.Total, ok = sc.total()
		case "hits":
			ok = sc.hitsArray(r)
		default:
			ok = sc.skip()
		}
		return ok
	})
}

// total reads hits.total as {"value": n, ...} or n.
func (sc *jsonScanner) total() (int64, bool) {
	if sc.null() {
		return 0, true
	}
	if sc.peek() != '{' {
		return sc.int64()
	}
	var n int64
	ok := sc.members(func(key []byte) (ok bool) {
		if string(key) == "value" {
			n, ok = sc.int64()
			return ok
		}
		return sc.skip()
	})
	return n, ok
}

func (sc *jsonScanner) int64() (int64, bool) {
	if sc.null() {
		return 0, true
	}
	start := sc.i
	if !sc.number() {
		return 0, false
	}
	n, err := strconv.ParseInt(string(sc.b[start:sc.i]), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(sc.b[start:sc.i]), 64)
		if ferr != nil {
			return 0, false
		}
		n = int64(f)
	}
	return n, true
}

// hitsArray counts the hits and keeps the last one's sort values.
func (sc *jsonScanner) hitsArray(r *searchResponse) bool {
	r.Hits, r.LastSort = 0, nil
	if sc.null() {
		return true
	}
	if !sc.expect('[') {
		return false
	}
	var sortAt, sortEnd int
	for {
		sc.ws()
		if sc.peek() == ']' {
			sc.i++
			break
		}
		if r.Hits > 0 && !sc.expect(',') {
			return false
		}
		r.Hits++
		sortAt, sortEnd = -1, -1
		if sc.null() {
			continue // a hit of null has no sort values
		}
		ok := sc.members(func(key []byte) bool {
			at := sc.i
			if !sc.skip() {
				return false
			}
			if string(key) == "sort" {
				sortAt, sortEnd = at, sc.i
			}
			return true
		})
		if !ok {
			return false
		}
	}
	if r.Hits > 0 && sortAt >= 0 {
		r.LastSort = bytes.Clone(sc.b[sortAt:sortEnd])
	}
	return true
}
