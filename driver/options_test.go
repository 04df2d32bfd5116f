package driver

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseClientOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want func(o *ClientOptions)
	}{
		{"empty gives defaults", "", func(o *ClientOptions) {}},
		{"rally key value syntax", "basic_auth_user:'u',basic_auth_password:'p',use_ssl:true,verify_certs:false,ca_certs:'/path/ca.pem',timeout:60", func(o *ClientOptions) {
			o.BasicAuthUser, o.BasicAuthPassword = "u", "p"
			o.UseSSL, o.InsecureSkipVerify, o.CACerts, o.Timeout = true, true, "/path/ca.pem", 60*time.Second
		}},
		{"fractional timeout and spaces", " timeout : 2.5 , http_compress:TRUE", func(o *ClientOptions) {
			o.Timeout, o.HTTPCompress = 2500*time.Millisecond, true
		}},
		{"api key", "api_key:'a0V2dw=='", func(o *ClientOptions) { o.APIKey = "a0V2dw==" }},
		{"api key as id and key", `{"api_key":["id","key"]}`, func(o *ClientOptions) {
			o.APIKey = Secret(base64.StdEncoding.EncodeToString([]byte("id:key")))
		}},
		{"headers as a JSON object", `headers:{"X-Trace":"on","X-Num":3}`, func(o *ClientOptions) {
			o.Headers = map[string]string{"X-Trace": "on", "X-Num": "3"}
		}},
		{"headers in key value syntax", `headers:{'X-Trace':'on'},timeout:5`, func(o *ClientOptions) {
			o.Headers, o.Timeout = map[string]string{"X-Trace": "on"}, 5*time.Second
		}},
		{"JSON object", `{"use_ssl": true, "verify_certs": false, "timeout": 120}`, func(o *ClientOptions) {
			o.UseSSL, o.InsecureSkipVerify, o.Timeout = true, true, 120*time.Second
		}},
		{"multi-cluster default", `{"default": {"timeout": 7}}`, func(o *ClientOptions) { o.Timeout = 7 * time.Second }},
		{"unknown options are kept", "max_connections:64,enable_cleanup_closed:true", func(o *ClientOptions) {
			o.Other = map[string]any{"max_connections": json.Number("64"), "enable_cleanup_closed": true}
		}},
		{"none is nil", "static_responses:none", func(o *ClientOptions) { o.Other = map[string]any{"static_responses": nil} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseClientOptions(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			want := DefaultClientOptions()
			tc.want(&want)
			want.precompute()
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %#v\nwant %#v", got.asMap(false), want.asMap(false))
			}
		})
	}
}

func TestParseClientOptionsFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "opts.json")
	os.WriteFile(path, []byte(`{"basic_auth_user":"elastic","basic_auth_password":"s3cret!","timeout":30}`), 0o600)
	o, err := ParseClientOptions(path)
	if err != nil {
		t.Fatal(err)
	}
	if o.BasicAuthUser != "elastic" || string(o.BasicAuthPassword) != "s3cret!" || o.Timeout != 30*time.Second {
		t.Fatalf("got %+v", o.asMap(false))
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("elastic:s3cret!"))
	if o.AuthorizationHeader() != want {
		t.Fatal("basic auth header not precomputed correctly")
	}
}

func TestParseClientOptionsErrors(t *testing.T) {
	const secret = "hunter2-very-secret"
	for _, tc := range []struct{ name, in, want string }{
		{"no colon", "timeout", "want key:value"},
		{"bad timeout", "timeout:'soon'", `"timeout"`},
		{"negative timeout", "timeout:-1", `"timeout"`},
		{"bool wanted", "use_ssl:maybe", `"use_ssl"`},
		{"user without password", "basic_auth_user:'u'", "go together"},
		{"both auth kinds", "basic_auth_user:'u',basic_auth_password:'" + secret + "',api_key:'" + secret + "'", "not both"},
		{"password of wrong type", "basic_auth_password:{'a':'" + secret + "'},basic_auth_user:'u'", `"basic_auth_password"`},
		{"unterminated quote", "basic_auth_password:'" + secret, "quote"},
		{"bad JSON", `{"timeout": }`, "JSON"},
		{"missing file", "/nonexistent/opts.json", "no such file"},
		{"header with newline", `headers:{"X":"a\nb"}`, `"headers"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseClientOptions(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %s", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestClientOptionsNeverShowSecrets(t *testing.T) {
	const pw, key, tok = "pw-Secret-123", "key-Secret-456", "tok-Secret-789"
	o, err := ParseClientOptions(`{"basic_auth_user":"u","basic_auth_password":"` + pw + `","headers":{"Authorization-Extra":"` + tok + `","X-Plain":"visible"},"my_token":"` + tok + `"}`)
	if err != nil {
		t.Fatal(err)
	}
	o2, err := ParseClientOptions("api_key:'" + key + "'")
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []ClientOptions{o, o2} {
		red, _ := json.Marshal(opts.Redacted())
		direct, _ := json.Marshal(opts)
		structJSON, _ := json.Marshal(struct{ O ClientOptions }{opts})
		for _, s := range []string{opts.String(), fmt.Sprint(opts), fmt.Sprintf("%v %+v %#v %s", opts, opts, opts, opts), string(red), string(direct), string(structJSON), fmt.Sprint(opts.BasicAuthPassword, opts.APIKey)} {
			for _, secret := range []string{pw, key, tok} {
				if strings.Contains(s, secret) {
					t.Fatalf("%q shows a secret", s)
				}
			}
		}
	}
	if !strings.Contains(o.String(), "visible") || !strings.Contains(o.String(), "basic_auth_password:'*****'") {
		t.Fatalf("String() = %s, want plain headers shown and the password masked", o.String())
	}
	// Spec carries the secrets to a worker and parses back to the same options.
	spec, err := o.Spec()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseClientOptions(spec)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, o) {
		t.Fatalf("Spec round trip: got %v want %v", back.asMap(false), o.asMap(false))
	}
}

// FuzzParseClientOptions checks that no input panics, that accepted options
// survive a Spec round trip, and that their redacted forms hide the
// password and API key.
func FuzzParseClientOptions(f *testing.F) {
	for _, s := range []string{
		"basic_auth_user:'u',basic_auth_password:'p',use_ssl:true,verify_certs:false",
		"timeout:60,headers:{'a':'b'}",
		`{"api_key":["id","key"],"timeout":1.5}`,
		`{"default":{"use_ssl":true}}`,
		"x:{y:{z:[1,2]}}",
		"a:'b,c',d:\"e\"",
		"k:1e3,m:none,n:-0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.HasSuffix(strings.TrimSpace(s), ".json") {
			return // would read a file
		}
		o, err := ParseClientOptions(s)
		if err != nil {
			return
		}
		spec, err := o.Spec()
		if err != nil {
			t.Fatalf("Spec: %v", err)
		}
		back, err := ParseClientOptions(spec)
		if err != nil {
			t.Fatalf("Spec %s does not parse back: %v", spec, err)
		}
		if back.Timeout != o.Timeout || back.BasicAuthPassword != o.BasicAuthPassword || back.APIKey != o.APIKey || back.AuthorizationHeader() != o.AuthorizationHeader() {
			t.Fatalf("round trip changed the options: %v vs %v", back.asMap(false), o.asMap(false))
		}
		red := o.Redacted()
		if o.BasicAuthPassword != "" && red["basic_auth_password"] != redactedValue {
			t.Fatal("password not redacted")
		}
		if o.APIKey != "" && red["api_key"] != redactedValue {
			t.Fatal("api key not redacted")
		}
		if len(o.BasicAuthPassword) >= 8 && strings.Contains(o.String(), string(o.BasicAuthPassword)) && !strings.Contains(o.BasicAuthUser, string(o.BasicAuthPassword)) {
			t.Fatalf("String shows the password")
		}
	})
}

func TestParseTargetHosts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Target
	}{
		{"127.0.0.1:9200,10.0.0.2:9200", []Target{{"http", "127.0.0.1:9200", ""}, {"http", "10.0.0.2:9200", ""}}},
		{"es-node", []Target{{"http", "es-node:9200", ""}}},
		{"[::1]:9201", []Target{{"http", "[::1]:9201", ""}}},
		{"[::1]", []Target{{"http", "[::1]:9200", ""}}},
		{"http://proxy:8080/es", []Target{{"http", "proxy:8080", "/es"}}},
		{"http://proxy:8080/es/", []Target{{"http", "proxy:8080", "/es"}}},
		{"https://node1:9243, https://node2", []Target{{"https", "node1:9243", ""}, {"https", "node2:9200", ""}}},
		{`["a:1","b:2"]`, []Target{{"http", "a:1", ""}, {"http", "b:2", ""}}},
		{`{"default":["a:1"],"remote":["b:2"]}`, []Target{{"http", "a:1", ""}}},
		{`{"default":"a:1,b:2"}`, []Target{{"http", "a:1", ""}, {"http", "b:2", ""}}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTargetHosts(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "a:0", "a:99999", "a:x", "ftp://a:1", "http://u:secretpw@a:1", "a:1,,b:2", "http://a:1/?q=1", "a b:1", `{"other":["a"]}`} {
		t.Run("rejects "+bad, func(t *testing.T) {
			_, err := ParseTargetHosts(bad)
			if err == nil {
				t.Fatalf("%q accepted", bad)
			}
			if strings.Contains(err.Error(), "secretpw") {
				t.Fatalf("error leaks credentials: %v", err)
			}
		})
	}
}
