package estarget

import (
	"math"
	"strconv"
	"sync"
	"unicode/utf8"
)

// enc appends JSON to a byte slice without reflection. It tracks only whether
// the next value needs a comma, which is all JSON needs: a key or a value
// after a value gets one, the first member after '{' or '[' does not.
type enc struct {
	b     []byte
	comma bool
}

var encPool = sync.Pool{New: func() any { return &enc{b: make([]byte, 0, 4096)} }}

func getEnc() *enc {
	e := encPool.Get().(*enc)
	e.b = e.b[:0]
	e.comma = false
	return e
}

func putEnc(e *enc) {
	if cap(e.b) > 1<<20 { // do not keep huge search responses around
		return
	}
	encPool.Put(e)
}

func (e *enc) sep() {
	if e.comma {
		e.b = append(e.b, ',')
	}
}

func (e *enc) obj() {
	e.sep()
	e.b = append(e.b, '{')
	e.comma = false
}

func (e *enc) end() {
	e.b = append(e.b, '}')
	e.comma = true
}

func (e *enc) arr() {
	e.sep()
	e.b = append(e.b, '[')
	e.comma = false
}

func (e *enc) endArr() {
	e.b = append(e.b, ']')
	e.comma = true
}

func (e *enc) key(k string) {
	e.sep()
	e.b = appendQuoted(e.b, k)
	e.b = append(e.b, ':')
	e.comma = false
}

func (e *enc) str(v string) {
	e.sep()
	e.b = appendQuoted(e.b, v)
	e.comma = true
}

func (e *enc) int(v int64) {
	e.sep()
	e.b = strconv.AppendInt(e.b, v, 10)
	e.comma = true
}

func (e *enc) float(v float64) {
	e.sep()
	e.b = appendFloat(e.b, v)
	e.comma = true
}

func (e *enc) boolean(v bool) {
	e.sep()
	e.b = strconv.AppendBool(e.b, v)
	e.comma = true
}

func (e *enc) null() {
	e.sep()
	e.b = append(e.b, "null"...)
	e.comma = true
}

// raw appends an already encoded JSON value.
func (e *enc) raw(v []byte) {
	e.sep()
	e.b = append(e.b, v...)
	e.comma = true
}

func (e *enc) kobj(k string)               { e.key(k); e.obj() }
func (e *enc) karr(k string)               { e.key(k); e.arr() }
func (e *enc) kstr(k, v string)            { e.key(k); e.str(v) }
func (e *enc) kint(k string, v int64)      { e.key(k); e.int(v) }
func (e *enc) kfloat(k string, v float64)  { e.key(k); e.float(v) }
func (e *enc) kbool(k string, v bool)      { e.key(k); e.boolean(v) }
func (e *enc) kraw(k string, v []byte)     { e.key(k); e.raw(v) }
func (e *enc) knull(k string)              { e.key(k); e.null() }
func (e *enc) kshards(k string, total int) { e.kobj(k); e.shardCounts(total); e.end() }

// shardCounts writes the members of a _shards object for a fully successful
// operation on total shard copies (and of the node APIs' _nodes object).
func (e *enc) shardCounts(total int) {
	e.kint("total", int64(total))
	e.kint("successful", int64(total))
	e.kint("failed", 0)
}

// kshardsSkipped writes a _shards object the way search-type APIs do, with
// "skipped" (always 0) before "failed".
func (e *enc) kshardsSkipped(k string, total int) {
	e.kobj(k)
	e.kint("total", int64(total))
	e.kint("successful", int64(total))
	e.kint("skipped", 0)
	e.kint("failed", 0)
	e.end()
}

// zeros writes a member of value 0 for every key, for the statistics the
// target does not model.
func (e *enc) zeros(keys ...string) {
	for _, k := range keys {
		e.kint(k, 0)
	}
}

// kzeros writes "k":{...} holding only zeros (see zeros).
func (e *enc) kzeros(k string, keys ...string) { e.kobj(k); e.zeros(keys...); e.end() }

// appendFloat writes v the way Elasticsearch's Jackson output does for
// doubles: integral values keep a ".0", NaN and infinities become null.
func appendFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
		return append(b, ".0"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

const hexDigits = "0123456789abcdef"

// appendQuoted appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
