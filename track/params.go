package track

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParseParams parses the value of --track-params the way Rally does
// (esrally utils/opts.to_dict):
//
//   - a path ending in .json is read as a JSON object; .yaml and .yml files
//     (an addition of ours) as a YAML mapping;
//   - otherwise, text that parses as JSON must be an object
//     ('{"bulk_size": 500}');
//   - text starting with '{' that is not valid JSON is an error (Rally
//     would split it at commas);
//   - otherwise it is a comma-separated list of key:value pairs
//     ("bulk_size:500,index_settings_mode:'append',replicas:none").
//
// A key:value value is converted with Rally's rules, in order: a value
// starting with a single quote is a string (its first and last characters
// dropped); then an integer, a float, true/false (any case), none (any case,
// giving nil); anything else stays a string. Keys and values are trimmed.
// A value cannot contain ',' or ':' in this form; use JSON for those.
//
// Numbers come back as int64 or float64 whatever the form, so templates
// compare them as numbers.
func ParseParams(s string) (map[string]any, error) {
	trimmed := strings.TrimSpace(s)
	if trimmed == "" {
		return map[string]any{}, nil
	}
	lower := strings.ToLower(trimmed)
	switch {
	case strings.HasSuffix(lower, ".json"):
		return paramsFromFile(trimmed, false)
	case strings.HasSuffix(lower, ".yaml"), strings.HasSuffix(lower, ".yml"):
		return paramsFromFile(trimmed, true)
	}
	if json.Valid([]byte(trimmed)) {
		m, err := decodeParamsJSON([]byte(trimmed))
		if err != nil {
			return nil, fmt.Errorf("track params %s: %w", shorten(trimmed), err)
		}
		return m, nil
	}
	if strings.HasPrefix(trimmed, "{") {
		// Rally would go on and split broken JSON at commas; nobody means that.
		_, err := decodeParamsJSON([]byte(trimmed))
		return nil, fmt.Errorf("track params %s look like JSON but do not parse: %w", shorten(trimmed), err)
	}
	out := map[string]any{}
	for _, kv := range strings.Split(s, ",") {
		parts := strings.Split(kv, ":")
		if len(parts) != 2 {
			return nil, fmt.Errorf("track params: %q: want key:value (values with ',' or ':' need the JSON form)", strings.TrimSpace(kv))
		}
		key := strings.TrimSpace(parts[0])
		if key == "" {
			return nil, fmt.Errorf("track params: %q: empty key", strings.TrimSpace(kv))
		}
		out[key] = convertParamValue(strings.TrimSpace(parts[1]))
	}
	return out, nil
}

func shorten(s string) string {
	if len(s) > 40 {
		return strconv.Quote(s[:37] + "...")
	}
	return strconv.Quote(s)
}

func paramsFromFile(path string, isYAML bool) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("track params: %w", err)
	}
	if !isYAML {
		m, err := decodeParamsJSON(b)
		if err != nil {
			return nil, fmt.Errorf("track params file %s: %w", path, err)
		}
		return m, nil
	}
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("track params file %s: %w", path, err)
	}
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := normalizeParam(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("track params file %s: want a mapping of parameter names to values, got %s", path, describeValue(normalizeParam(v)))
	}
	return m, nil
}

func decodeParamsJSON(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("extra data after the JSON object")
	}
	m, ok := normalizeParam(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a JSON object of parameter names to values, got %s", describeValue(v))
	}
	return m, nil
}

// normalizeParam turns decoded JSON/YAML into the values templates get:
// integers as int64, other numbers as float64, maps with string keys.
func normalizeParam(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case int:
		return int64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = normalizeParam(e)
		}
		return m
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = normalizeParam(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = normalizeParam(e)
		}
		return a
	default:
		return v
	}
}

// pyIntRE and pyFloatRE accept what Python's int() and float() accept for
// plain decimal text (underscores between digits included).
var (
	pyIntRE   = regexp.MustCompile(`^[+-]?[0-9](_?[0-9])*$`)
	pyFloatRE = regexp.MustCompile(`^[+-]?(([0-9](_?[0-9])*)?\.[0-9](_?[0-9])*|[0-9](_?[0-9])*\.?)([eE][+-]?[0-9](_?[0-9])*)?$`)
	pySpecial = regexp.MustCompile(`(?i)^[+-]?(inf|infinity|nan)$`)
)

// convertParamValue is Rally's kv_to_map conversion of one value.
func convertParamValue(v string) any {
	if strings.HasPrefix(v, "'") {
		if len(v) < 2 {
			return ""
		}
		return v[1 : len(v)-1]
	}
	if pyIntRE.MatchString(v) {
		if i, err := strconv.ParseInt(strings.ReplaceAll(v, "_", ""), 10, 64); err == nil {
			return i
		}
		// Python's int has no limit; beyond int64 keep the value as a float.
		f, _ := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64)
		return f
	}
	if pyFloatRE.MatchString(v) || pySpecial.MatchString(v) {
		if f, err := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64); err == nil || math.IsInf(f, 0) {
			return f
		}
	}
	switch strings.ToLower(v) {
	case "true":
		return true
	case "false":
		return false
	case "none":
		return nil
	}
	return v
}
