package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSSHServerAddress(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1 51234 10.0.0.13 22": "10.0.0.13",
		"fe80::1 51234 fe80::2 22":    "fe80::2",
		"":                            "",
		"10.0.0.1 51234":              "",
	} {
		if got := sshServerAddress(in); got != want {
			t.Errorf("sshServerAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

// A request with an unknown field is refused, naming it: a coordinator and
// a worker of different builds must not half-understand each other.
func TestProvisionerRefusesUnknownFields(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"provisioner", "prepare"}, strings.NewReader(`{"cluster":"c","nodez":2}`), &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), `unknown field "nodez"`) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
