package worker

import (
	"runtime"
	"strings"
	"testing"
)

func TestParseMemTotal(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr string
	}{
		{"first_line", "MemTotal:       16318480 kB\nMemFree: 1 kB\n", 16318480 * 1024, ""},
		{"later_line", "Foo: 1 kB\nMemTotal: 2048 kB\n", 2048 * 1024, ""},
		{"missing", "MemFree: 1 kB\n", 0, "no MemTotal"},
		{"not_a_number", "MemTotal: lots kB\n", 0, "not a size"},
		{"other_unit", "MemTotal: 5 MB\n", 0, "want"},
		{"negative", "MemTotal: -5 kB\n", 0, "not a size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMemTotal(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestFacts(t *testing.T) {
	f := Facts()
	if f.OS != runtime.GOOS || f.Arch != runtime.GOARCH || f.CPUs != runtime.NumCPU() || f.Hostname == "" {
		t.Errorf("facts = %+v", f)
	}
	if runtime.GOOS == "linux" && (f.Kernel == "" || f.MemoryBytes <= 0) {
		t.Errorf("on linux, kernel %q and memory %d should be known", f.Kernel, f.MemoryBytes)
	}
}
