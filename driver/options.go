package driver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout is the request timeout when the client options give none
// (Rally's and the Elasticsearch Python client's default).
const DefaultTimeout = 60 * time.Second

// redactedValue replaces every secret in anything printed or stored.
const redactedValue = "*****"

// Secret is a credential. Its String, GoString and MarshalJSON never show
// the value, so it cannot leak through fmt, logs or JSON by accident; the
// driver reads it with string(s) only where it builds a header.
type Secret string

// String returns "*****" for a set secret and "" for an empty one.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redactedValue
}

// GoString redacts like String, so %#v does not leak either.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// MarshalJSON encodes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// ClientOptions are Rally's --client-options, parsed once and typed.
type ClientOptions struct {
	// Timeout is the default request timeout ("timeout", seconds).
	Timeout time.Duration
	// UseSSL makes plain host:port targets https ("use_ssl").
	UseSSL bool
	// InsecureSkipVerify is "verify_certs": false: the server certificate
	// is not checked. The zero value verifies, so options built by hand are
	// safe.
	InsecureSkipVerify bool
	// CACerts is a PEM file of CAs to trust ("ca_certs").
	CACerts string
	// ClientCert and ClientKey are PEM files for TLS client authentication
	// ("client_cert", "client_key").
	ClientCert, ClientKey string
	// BasicAuthUser and BasicAuthPassword enable HTTP basic authentication.
	BasicAuthUser     string
	BasicAuthPassword Secret
	// APIKey is sent as "Authorization: ApiKey <key>" ("api_key": the
	// encoded key, or a JSON array [id, api_key]).
	APIKey Secret
	// HTTPCompress asks for gzip responses and gzips request bodies
	// ("http_compress"); off by default so the driver measures the cluster,
	// not its own compression.
	HTTPCompress bool
	// Headers are sent with every request ("headers").
	Headers map[string]string
	// Other holds options the driver does not use (kept for the report).
	Other map[string]any

	// authHeader is the precomputed Authorization value ("" when none).
	authHeader string
}

// DefaultClientOptions are the options when none are given.
func DefaultClientOptions() ClientOptions {
	return ClientOptions{Timeout: DefaultTimeout}
}

// ParseClientOptions parses Rally's client options: a comma-separated list
// of key:value pairs (strings in single quotes, numbers, true/false, none,
// and {...} objects for "headers"), a JSON object, or the path of a JSON
// file. Rally's multi-cluster form {"default": {...}} selects the default
// cluster. Errors name the key but never repeat a value.
func ParseClientOptions(s string) (ClientOptions, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultClientOptions(), nil
	}
	var m map[string]any
	var err error
	switch {
	case strings.HasSuffix(s, ".json") && !strings.ContainsAny(s, "{,"):
		data, rerr := os.ReadFile(s)
		if rerr != nil {
			return ClientOptions{}, fmt.Errorf("client options: %w", rerr)
		}
		m, err = decodeJSONObject(data)
		if err != nil {
			return ClientOptions{}, fmt.Errorf("client options: %s: %w", s, err)
		}
	case s[0] == '{':
		m, err = decodeJSONObject([]byte(s))
		if err != nil {
			return ClientOptions{}, fmt.Errorf("client options: %w", err)
		}
	default:
		m, err = parseKVList(s)
		if err != nil {
			return ClientOptions{}, fmt.Errorf("client options: %w", err)
		}
	}
	if d, ok := m["default"].(map[string]any); ok && len(m) == 1 {
		m = d
	}
	return clientOptionsFromMap(m)
}

// decodeJSONObject decodes a JSON object keeping numbers exact.
func decodeJSONObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("not a JSON object: trailing data")
	}
	if m == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}

// parseKVList parses "k:v,k2:'v2',h:{a:'b'}" (Rally's syntax, extended with
// quoting and nested objects).
func parseKVList(s string) (map[string]any, error) {
	items, err := splitTopLevel(s, ',')
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, len(items))
	for i, item := range items {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("item %d: want key:value", i+1)
		}
		k = unquoteKey(k)
		val, err := parseKVValue(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", k, err)
		}
		m[k] = val
	}
	return m, nil
}

// splitTopLevel splits on sep outside quotes and braces/brackets.
func splitTopLevel(s string, sep byte) ([]string, error) {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced %q", c)
			}
		case c == sep && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote")
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced braces")
	}
	return append(out, s[start:]), nil
}

func unquoteKey(k string) string {
	if len(k) >= 2 && (k[0] == '\'' || k[0] == '"') && k[len(k)-1] == k[0] {
		return k[1 : len(k)-1]
	}
	return k
}

// parseKVValue converts one value as Rally does: quoted string, int, float,
// bool, none, else a bare string; plus JSON or key:value objects in braces.
func parseKVValue(v string) (any, error) {
	if v == "" {
		return "", nil
	}
	switch v[0] {
	case '\'':
		if len(v) < 2 || v[len(v)-1] != '\'' {
			return nil, fmt.Errorf("unterminated quote")
		}
		return v[1 : len(v)-1], nil
	case '"':
		var str string
		if err := json.Unmarshal([]byte(v), &str); err != nil {
			return nil, fmt.Errorf("bad double-quoted string")
		}
		return str, nil
	case '{':
		if m, err := decodeJSONObject([]byte(v)); err == nil {
			return m, nil
		}
		if v[len(v)-1] != '}' {
			return nil, fmt.Errorf("unterminated object")
		}
		return parseKVList(v[1 : len(v)-1])
	case '[':
		var arr []any
		if err := json.Unmarshal([]byte(v), &arr); err != nil {
			return nil, fmt.Errorf("bad JSON array")
		}
		return arr, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return json.Number(strconv.FormatInt(n, 10)), nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		// Normalised: ParseFloat accepts forms JSON does not (".5", "0x1p3").
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "none", "null":
		return nil, nil
	}
	return v, nil
}

// clientOptionsFromMap types the known keys and keeps the rest.
func clientOptionsFromMap(m map[string]any) (ClientOptions, error) {
	o := DefaultClientOptions()
	for k, v := range m {
		var err error
		switch k {
		case "timeout":
			var secs float64
			secs, err = optFloat(v)
			if err == nil && (secs <= 0 || secs > 7*24*3600) {
				err = fmt.Errorf("want seconds in (0, 604800]")
			}
			o.Timeout = time.Duration(secs * float64(time.Second))
		case "use_ssl":
			o.UseSSL, err = toBool(v)
		case "verify_certs":
			var verify bool
			verify, err = toBool(v)
			o.InsecureSkipVerify = !verify
		case "ca_certs":
			o.CACerts, err = optString(v)
		case "client_cert":
			o.ClientCert, err = optString(v)
		case "client_key":
			o.ClientKey, err = optString(v)
		case "basic_auth_user":
			o.BasicAuthUser, err = optString(v)
		case "basic_auth_password":
			var p string
			p, err = optString(v)
			o.BasicAuthPassword = Secret(p)
		case "api_key":
			var key string
			key, err = optAPIKey(v)
			o.APIKey = Secret(key)
		case "http_compress":
			o.HTTPCompress, err = toBool(v)
		case "headers":
			o.Headers, err = optHeaders(v)
		default:
			if o.Other == nil {
				o.Other = map[string]any{}
			}
			o.Other[k] = v
		}
		if err != nil {
			return ClientOptions{}, fmt.Errorf("client option %q: %w", k, err)
		}
	}
	if (o.BasicAuthUser != "") != (o.BasicAuthPassword != "") {
		return ClientOptions{}, fmt.Errorf("client options: basic_auth_user and basic_auth_password go together")
	}
	if o.BasicAuthUser != "" && o.APIKey != "" {
		return ClientOptions{}, fmt.Errorf("client options: give either basic_auth_user/basic_auth_password or api_key, not both")
	}
	if (o.ClientCert != "") != (o.ClientKey != "") {
		return ClientOptions{}, fmt.Errorf("client options: client_cert and client_key go together")
	}
	o.precompute()
	return o, nil
}

// precompute builds the Authorization header once.
func (o *ClientOptions) precompute() {
	switch {
	case o.BasicAuthUser != "":
		o.authHeader = "Basic " + base64.StdEncoding.EncodeToString([]byte(o.BasicAuthUser+":"+string(o.BasicAuthPassword)))
	case o.APIKey != "":
		o.authHeader = "ApiKey " + string(o.APIKey)
	default:
		o.authHeader = ""
	}
}

// AuthorizationHeader returns the precomputed Authorization value, or "".
// It is a credential: never print it.
func (o *ClientOptions) AuthorizationHeader() string {
	if o.authHeader == "" && (o.BasicAuthUser != "" || o.APIKey != "") {
		o.precompute()
	}
	return o.authHeader
}

func optString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("want a string")
	}
	return s, nil
}

func optFloat(v any) (float64, error) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			return 0, fmt.Errorf("want a number")
		}
		return f, nil
	case float64:
		return n, nil
	case string:
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return 0, fmt.Errorf("want a number")
		}
		return f, nil
	}
	return 0, fmt.Errorf("want a number")
}

// optAPIKey accepts the encoded key or [id, api_key] (encoded here as the
// Elasticsearch clients do).
func optAPIKey(v any) (string, error) {
	switch k := v.(type) {
	case string:
		if k == "" {
			return "", fmt.Errorf("empty")
		}
		return k, nil
	case []any:
		if len(k) == 2 {
			id, ok1 := k[0].(string)
			key, ok2 := k[1].(string)
			if ok1 && ok2 && id != "" && key != "" {
				return base64.StdEncoding.EncodeToString([]byte(id + ":" + key)), nil
			}
		}
	}
	return "", fmt.Errorf("want the encoded key or [id, api_key]")
}

func optHeaders(v any) (map[string]string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want an object of header names to string values")
	}
	h := make(map[string]string, len(m))
	for name, val := range m {
		s, ok := val.(string)
		if !ok {
			if n, isNum := val.(json.Number); isNum {
				s = n.String()
			} else {
				return nil, fmt.Errorf("header %q: want a string value", name)
			}
		}
		if name == "" || strings.ContainsAny(name, " :\r\n") || strings.ContainsAny(s, "\r\n") {
			return nil, fmt.Errorf("header %q: bad name or value", name)
		}
		h[name] = s
	}
	return h, nil
}

// secretName reports whether an option or header name looks like it holds
// a credential, so its value is redacted.
func secretName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"auth", "password", "passwd", "secret", "token", "key", "cookie", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Redacted returns the options as Rally-named keys with every secret
// replaced by "*****": the form for race.json, logs and status output.
func (o ClientOptions) Redacted() map[string]any {
	m := o.asMap(true)
	return m
}

// asMap returns the options by Rally's names; redact hides secrets.
func (o ClientOptions) asMap(redact bool) map[string]any {
	m := map[string]any{}
	for k, v := range o.Other {
		if redact && secretName(k) {
			m[k] = redactedValue
		} else {
			m[k] = v
		}
	}
	m["timeout"] = o.Timeout.Seconds()
	if o.UseSSL {
		m["use_ssl"] = true
	}
	m["verify_certs"] = !o.InsecureSkipVerify
	if o.CACerts != "" {
		m["ca_certs"] = o.CACerts
	}
	if o.ClientCert != "" {
		m["client_cert"] = o.ClientCert
		m["client_key"] = o.ClientKey
	}
	if o.BasicAuthUser != "" {
		m["basic_auth_user"] = o.BasicAuthUser
		m["basic_auth_password"] = secretValue(string(o.BasicAuthPassword), redact)
	}
	if o.APIKey != "" {
		m["api_key"] = secretValue(string(o.APIKey), redact)
	}
	if o.HTTPCompress {
		m["http_compress"] = true
	}
	if len(o.Headers) > 0 {
		h := make(map[string]any, len(o.Headers))
		for k, v := range o.Headers {
			if redact && secretName(k) {
				h[k] = redactedValue
			} else {
				h[k] = v
			}
		}
		m["headers"] = h
	}
	return m
}

func secretValue(v string, redact bool) string {
	if redact {
		return redactedValue
	}
	return v
}

// String renders the redacted options in Rally's key:value syntax, keys
// sorted.
func (o ClientOptions) String() string {
	m := o.Redacted()
	keys := slices.Sorted(maps.Keys(m))
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte(':')
		switch v := m[k].(type) {
		case string:
			b.WriteString("'" + v + "'")
		case map[string]any:
			j, _ := json.Marshal(v)
			b.Write(j)
		default:
			j, _ := json.Marshal(v)
			b.Write(j)
		}
	}
	return b.String()
}

// GoString redacts like String.
func (o ClientOptions) GoString() string { return "driver.ClientOptions{" + o.String() + "}" }

// MarshalJSON encodes the redacted form, so options written into race.json
// or any status document never carry secrets.
func (o ClientOptions) MarshalJSON() ([]byte, error) { return json.Marshal(o.Redacted()) }

// Spec returns the options as a JSON object WITH secrets, which
// ParseClientOptions reads back. It exists only to hand the options to a
// worker over an authenticated, encrypted link; never print or store it.
func (o ClientOptions) Spec() (string, error) {
	j, err := json.Marshal(o.asMap(false))
	if err != nil {
		return "", fmt.Errorf("client options: encode: %w", err)
	}
	return string(j), nil
}
