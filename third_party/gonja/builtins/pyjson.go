package builtins

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// pythonJSON writes value as Jinja2's tojson filter does: Python's
// json.dumps(value, sort_keys=True) (ensure_ascii, ", " and ": " between
// items, or "," and newlines when indent is not nil; floats as Python's
// repr, so 1.0 stays 1.0), then "<", ">", "&" and "'" escaped as \u003c,
// \u003e, \u0026 and \u0027 (markupsafe's htmlsafe_json_dumps).
func pythonJSON(value any, indent *string) (string, error) {
	e := &pyJSONEncoder{indent: indent}
	if err := e.encode(value, 0); err != nil {
		return "", err
	}
	return strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`, "'", `\u0027`).Replace(e.b.String()), nil
}

type pyJSONEncoder struct {
	b      strings.Builder
	indent *string
}

func (e *pyJSONEncoder) encode(value any, depth int) error {
	switch v := value.(type) {
	case nil:
		e.b.WriteString("null")
		return nil
	case *exec.Value:
		if v.IsError() {
			return fmt.Errorf("%s", v.Error())
		}
		return e.encode(v.Interface(), depth)
	case *exec.Dict:
		keys := make([]any, len(v.Pairs))
		values := make([]any, len(v.Pairs))
		for i, pair := range v.Pairs {
			keys[i], values[i] = pair.Key.Interface(), pair.Value
		}
		return e.object(keys, values, depth)
	case exec.Dict:
		return e.encode(&v, depth)
	case stdjson.Number:
		e.b.WriteString(v.String())
		return nil
	case stdjson.Marshaler:
		return e.marshaled(v, depth)
	}
	rv := reflect.ValueOf(value)
	switch rv.Kind() {
	case reflect.Bool:
		e.b.WriteString(strconv.FormatBool(rv.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.b.WriteString(strconv.FormatInt(rv.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.b.WriteString(strconv.FormatUint(rv.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		e.b.WriteString(pythonFloatJSON(rv.Float()))
	case reflect.String:
		writePythonJSONString(&e.b, rv.String())
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			e.b.WriteString("[]")
			return nil
		}
		return e.array(rv, depth)
	case reflect.Map:
		keys := make([]any, 0, rv.Len())
		values := make([]any, 0, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			keys = append(keys, it.Key().Interface())
			values = append(values, it.Value().Interface())
		}
		return e.object(keys, values, depth)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			e.b.WriteString("null")
			return nil
		}
		return e.marshaled(value, depth)
	default:
		return e.marshaled(value, depth)
	}
	return nil
}

// marshaled encodes what only encoding/json knows how to write (a
// json.Marshaler, a struct) by decoding its JSON and encoding that.
func (e *pyJSONEncoder) marshaled(value any, depth int) error {
	raw, err := stdjson.Marshal(value)
	if err != nil {
		return fmt.Errorf("object of type %T is not JSON serializable: %w", value, err)
	}
	dec := stdjson.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var decoded any
	if err := dec.Decode(&decoded); err != nil {
		return err
	}
	return e.encode(decoded, depth)
}

func (e *pyJSONEncoder) newline(depth int) {
	e.b.WriteByte('\n')
	e.b.WriteString(strings.Repeat(*e.indent, depth))
}

func (e *pyJSONEncoder) separator(depth int) {
	if e.indent == nil {
		e.b.WriteString(", ")
		return
	}
	e.b.WriteByte(',')
	e.newline(depth)
}

func (e *pyJSONEncoder) array(rv reflect.Value, depth int) error {
	if rv.Len() == 0 {
		e.b.WriteString("[]")
		return nil
	}
	e.b.WriteByte('[')
	if e.indent != nil {
		e.newline(depth + 1)
	}
	for i := 0; i < rv.Len(); i++ {
		if i > 0 {
			e.separator(depth + 1)
		}
		if err := e.encode(rv.Index(i).Interface(), depth+1); err != nil {
			return err
		}
	}
	if e.indent != nil {
		e.newline(depth)
	}
	e.b.WriteByte(']')
	return nil
}

// object writes the pairs sorted by key, as sort_keys=True does: strings
// by code point, numbers by value; keys of other types or of mixed types
// fail as they do in Python. Non-string keys are written as Python's json
// converts them (1 -> "1", True -> "true", None -> "null").
func (e *pyJSONEncoder) object(keys, values []any, depth int) error {
	if len(keys) == 0 {
		e.b.WriteString("{}")
		return nil
	}
	type item struct {
		name  string
		num   float64
		value any
	}
	items := make([]item, len(keys))
	strs, nums := 0, 0
	for i, k := range keys {
		if kv, ok := k.(*exec.Value); ok {
			k = kv.Interface()
		}
		items[i].value = values[i]
		rk := reflect.ValueOf(k)
		switch {
		case k == nil:
			items[i].name = "null"
			nums++
		case rk.Kind() == reflect.String:
			items[i].name = rk.String()
			strs++
		case rk.Kind() == reflect.Bool:
			items[i].name = strconv.FormatBool(rk.Bool())
			items[i].num = map[bool]float64{false: 0, true: 1}[rk.Bool()]
			nums++
		case rk.CanInt():
			items[i].name = strconv.FormatInt(rk.Int(), 10)
			items[i].num = float64(rk.Int())
			nums++
		case rk.CanUint():
			items[i].name = strconv.FormatUint(rk.Uint(), 10)
			items[i].num = float64(rk.Uint())
			nums++
		case rk.CanFloat():
			items[i].name = pythonFloatJSON(rk.Float())
			items[i].num = rk.Float()
			nums++
		default:
			return fmt.Errorf("keys must be str, int, float, bool or None, not %T", k)
		}
	}
	if strs > 0 && nums > 0 {
		return fmt.Errorf("cannot sort the keys of a dict with both string and non-string keys")
	}
	sort.SliceStable(items, func(i, j int) bool {
		if strs > 0 {
			return items[i].name < items[j].name
		}
		return items[i].num < items[j].num
	})
	e.b.WriteByte('{')
	if e.indent != nil {
		e.newline(depth + 1)
	}
	for i, it := range items {
		if i > 0 {
			e.separator(depth + 1)
		}
		writePythonJSONString(&e.b, it.name)
		e.b.WriteString(": ")
		if err := e.encode(it.value, depth+1); err != nil {
			return err
		}
	}
	if e.indent != nil {
		e.newline(depth)
	}
	e.b.WriteByte('}')
	return nil
}

// pythonFloatJSON formats f as Python's float.__repr__ (the shortest
// digits that read back as f; positional notation for exponents from -4
// to 15, else d.ddde+XX), with json's NaN, Infinity and -Infinity.
func pythonFloatJSON(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	mantissa, exp, _ := strings.Cut(s, "e")
	digits := strings.Replace(mantissa, ".", "", 1)
	e, _ := strconv.Atoi(exp)
	point := e + 1 // digits before the decimal point
	switch {
	case point > 16 || point < -3:
		if len(digits) > 1 {
			digits = digits[:1] + "." + digits[1:]
		}
		expSign := "+"
		if e < 0 {
			expSign, e = "-", -e
		}
		return fmt.Sprintf("%s%se%s%02d", sign, digits, expSign, e)
	case point <= 0:
		return sign + "0." + strings.Repeat("0", -point) + digits
	case point >= len(digits):
		return sign + digits + strings.Repeat("0", point-len(digits)) + ".0"
	default:
		return sign + digits[:point] + "." + digits[point:]
	}
}

// writePythonJSONString writes s as json.dumps does with ensure_ascii:
// every character outside printable ASCII as \uXXXX (a surrogate pair
// beyond the BMP).
func writePythonJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r >= 0x20 && r < 0x7f:
				b.WriteRune(r)
			case r > 0xffff:
				r -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			case r == utf8.RuneError:
				b.WriteString(`\ufffd`)
			default:
				fmt.Fprintf(b, `\u%04x`, r)
			}
		}
	}
	b.WriteByte('"')
}
