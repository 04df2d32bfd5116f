package spelling

import "testing"

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"roles", "roles", 0}, {"role", "roles", 1}, {"rolse", "roles", 2},
		{"kitten", "sitting", 3}, {"", "abc", 3}, {"load-driver", "loaddriver", 1},
	} {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
	long := string(make([]byte, 65))
	if Distance(long, "x") < 1<<20 {
		t.Error("long words must be far apart")
	}
}
