package tokens

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// simpleEscapes are the one-character backslash escapes of Python string
// literals.
var simpleEscapes = map[byte]string{
	'\\': "\\", '\'': "'", '"': "\"", 'a': "\a", 'b': "\b", 'f': "\f",
	'n': "\n", 'r': "\r", 't': "\t", 'v': "\v", '\n': "",
}

// decodeEscapes decodes the backslash escapes of a string literal's body
// as Jinja2 does (Python's "unicode-escape" codec): \\ \' \" \a \b \f \n
// \r \t \v, \ooo (octal), \xhh, \uhhhh, \Uhhhhhhhh, and a backslash before
// a newline joins the lines. Any other backslash stays as written, and a
// backslash before a non-ASCII character stands before its \x, \u or \U
// spelling (Jinja2 encodes the text with "backslashreplace" first).
func decodeEscapes(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		c := s[i+1]
		if r, ok := simpleEscapes[c]; ok {
			b.WriteString(r)
			i += 2
			continue
		}
		switch {
		case c >= '0' && c <= '7':
			j := i + 1
			for j < len(s) && j < i+4 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			n, _ := strconv.ParseUint(s[i+1:j], 8, 32)
			b.WriteRune(rune(n))
			i = j
		case c == 'x' || c == 'u' || c == 'U':
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
			digits := s[i+2 : min(i+2+width, len(s))]
			n, err := strconv.ParseUint(digits, 16, 32)
			if len(digits) < width || err != nil || strings.ContainsAny(digits, "+-_") {
				return "", fmt.Errorf(`truncated \%c%s escape in string literal`, c, strings.Repeat("X", width))
			}
			if n > utf8.MaxRune {
				return "", fmt.Errorf(`illegal Unicode character \%c%s in string literal`, c, digits)
			}
			b.WriteRune(rune(n))
			i += 2 + width
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i+1:])
			switch {
			case r < 0x100:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r < 0x10000:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\U%08x`, r)
			}
			i += 1 + size
		default:
			b.WriteByte('\\')
			i++
		}
	}
	return b.String(), nil
}
