package estarget

import (
	"fmt"
	"testing"
)

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		p, s     string
		question bool
		want     bool
	}{
		{"*", "", false, true},
		{"logs-*", "logs-2024", false, true},
		{"logs-*", "log", false, false},
		{"*-app-*", "logs-app-1", false, true},
		{"a*b*c", "axxbyyc", false, true},
		{"a*b*c", "axxbyy", false, false},
		{"http://*/x", "http://host/path/x", false, true},
		{"a?c", "abc", true, true},
		{"a?c", "abc", false, false},
		{"a?c", "a?c", false, true},
		{"**a", "bba", false, true},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.p, tt.s, tt.question); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q, %v) = %v, want %v", tt.p, tt.s, tt.question, got, tt.want)
		}
	}
}

func TestWalkLeavesGivesDottedPaths(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want map[string]any
	}{
		{"scalar_at_top", 3.0, map[string]any{"": 3.0}},
		{"nested", map[string]any{"index": map[string]any{"number_of_shards": 2.0, "sort": map[string]any{"field": "a"}}},
			map[string]any{"index.number_of_shards": 2.0, "index.sort.field": "a"}},
		{"dotted_keys_and_nulls", map[string]any{"a.b": nil, "c": map[string]any{"d": []any{1.0}}},
			map[string]any{"a.b": nil, "c.d": []any{1.0}}},
		{"empty_object_has_no_leaves", map[string]any{"a": map[string]any{}}, map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]any{}
			walkLeaves("", tt.in, func(p string, v any) { got[p] = v })
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
