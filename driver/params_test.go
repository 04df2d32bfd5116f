package driver

import (
	"fmt"
	"testing"
)

// Every getter gives its default for an absent or null parameter, and
// names the key in its error.
func TestParamGetters(t *testing.T) {
	p := params(jsonParams(t, `{"s":"x","n":"2.5","num":7,"list":["a","b"],"one":"a","obj":{"k":1},"t":"TRUE","null":null,"bad":{"x":1},"badlist":["a",1],"body":{"q":1},"text":"raw"}`))
	for _, tc := range []struct {
		name    string
		get     func() (any, error)
		want    string
		wantErr string
	}{
		{"str", func() (any, error) { return p.str("s", "d") }, "x", ""},
		{"str of a number", func() (any, error) { return p.str("num", "d") }, "7", ""},
		{"str absent", func() (any, error) { return p.str("nope", "d") }, "d", ""},
		{"str null", func() (any, error) { return p.str("null", "d") }, "d", ""},
		{"str of an object", func() (any, error) { return p.str("bad", "d") }, "", `parameter "bad": want a string`},
		{"strList of a list", func() (any, error) { return p.strList("list") }, "[a b]", ""},
		{"strList of a string", func() (any, error) { return p.strList("one") }, "[a]", ""},
		{"strList absent", func() (any, error) { return p.strList("nope") }, "[]", ""},
		{"strList with a number", func() (any, error) { return p.strList("badlist") }, "", `parameter "badlist": want a list of strings`},
		{"strList of an object", func() (any, error) { return p.strList("bad") }, "", `parameter "bad": want a string or a list of strings`},
		{"float of a string", func() (any, error) { return p.float("n", 1) }, "2.5", ""},
		{"float absent", func() (any, error) { return p.float("nope", 1) }, "1", ""},
		{"float of text", func() (any, error) { return p.float("s", 1) }, "", `parameter "s": want a number`},
		{"int", func() (any, error) { return p.int("num", 1) }, "7", ""},
		{"int of a fraction", func() (any, error) { return p.int("n", 1) }, "", `parameter "n": want an integer`},
		{"bool of a string", func() (any, error) { return p.bool("t", false) }, "true", ""},
		{"bool null", func() (any, error) { return p.bool("null", true) }, "true", ""},
		{"bool of text", func() (any, error) { return p.bool("s", false) }, "", `parameter "s": want true or false`},
		{"object", func() (any, error) { return p.object("obj") }, "map[k:1]", ""},
		{"object absent", func() (any, error) { return p.object("nope") }, "map[]", ""},
		{"object of a string", func() (any, error) { return p.object("s") }, "", `parameter "s": want an object`},
		{"jsonBody of an object", func() (any, error) { b, err := p.jsonBody("body"); return string(b), err }, `{"q":1}`, ""},
		{"jsonBody of text is sent as is", func() (any, error) { b, err := p.jsonBody("text"); return string(b), err }, "raw", ""},
		{"jsonBody absent", func() (any, error) { b, err := p.jsonBody("nope"); return b == nil, err }, "true", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.get()
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != tc.want {
				t.Fatalf("got %v (%v), want %s", got, err, tc.want)
			}
		})
	}
}
