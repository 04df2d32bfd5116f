package payload

import (
	"strings"
	"testing"
)

func TestParseUname(t *testing.T) {
	tests := []struct {
		in      string
		want    Platform
		wantErr string
	}{
		{in: "Linux x86_64\n", want: Platform{"linux", "amd64"}},
		{in: "Linux aarch64", want: Platform{"linux", "arm64"}},
		{in: "Linux arm64", want: Platform{"linux", "arm64"}},
		{in: "  Linux   x86_64  ", want: Platform{"linux", "amd64"}},
		{in: "Darwin arm64", wantErr: `unsupported platform "Darwin arm64": rally workers run on Linux x86_64 (amd64) and aarch64 (arm64)`},
		{in: "Linux armv7l", wantErr: `unsupported platform "Linux armv7l"`},
		{in: "Linux riscv64", wantErr: `unsupported platform "Linux riscv64"`},
		{in: "FreeBSD amd64", wantErr: `unsupported platform "FreeBSD amd64"`},
		{in: "", wantErr: "unexpected `uname -sm` output"},
		{in: "Linux", wantErr: "unexpected `uname -sm` output"},
		{in: "Linux x86_64 extra", wantErr: "unexpected `uname -sm` output"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseUname(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseUname(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseUname(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
	if s := (Platform{"linux", "arm64"}).String(); s != "linux/arm64" {
		t.Errorf("String() = %q", s)
	}
}

func FuzzParseUname(f *testing.F) {
	for _, s := range []string{"Linux x86_64", "Linux aarch64\n", "Darwin arm64", "", " \t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseUname(s)
		if err != nil {
			return
		}
		if p.String() != "linux/amd64" && p.String() != "linux/arm64" {
			t.Fatalf("ParseUname(%q) = %v: not a supported platform", s, p)
		}
	})
}
