package estarget

import "testing"

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
