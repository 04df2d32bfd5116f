package remote

import (
	"bytes"
	"strings"
	"testing"
)

func TestPIDWriter(t *testing.T) {
	tests := []struct {
		name    string
		writes  []string
		wantOut string
		wantPID int64
	}{
		{name: "pid_line_then_output", writes: []string{"rally-pid:42\nhello\n"}, wantOut: "hello\n", wantPID: 42},
		{name: "split_across_writes", writes: []string{"rally-p", "id:4", "2\nhel", "lo"}, wantOut: "hello", wantPID: 42},
		{name: "startup_file_noise_is_dropped", writes: []string{"Welcome!\r\n", "motd\nrally-pid:7\r\n", "out"}, wantOut: "out", wantPID: 7},
		{name: "only_the_first_pid_line_counts", writes: []string{"rally-pid:7\nrally-pid:8\n"}, wantOut: "rally-pid:8\n", wantPID: 7},
		{name: "no_pid_line_holds_output_back", writes: []string{"a\nb\n"}, wantOut: "", wantPID: 0},
		{name: "no_pid_line_past_the_limit_passes_the_rest_through", writes: []string{strings.Repeat("x\n", maxPreamble/2), "y\n", "z"}, wantOut: "y\nz", wantPID: 0},
		{name: "endless_first_line_is_passed_through", writes: []string{strings.Repeat("x", maxPreamble), "yz"}, wantOut: strings.Repeat("x", maxPreamble) + "yz", wantPID: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w := &pidWriter{w: &out}
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if out.String() != tt.wantOut || w.pid.Load() != tt.wantPID {
				t.Errorf("out %.40q (%d bytes) pid %d, want %.40q (%d bytes) %d", out.String(), out.Len(), w.pid.Load(), tt.wantOut, len(tt.wantOut), tt.wantPID)
			}
		})
	}
}
