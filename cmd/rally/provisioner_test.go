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

// Telemetry devices go where they can act: node-start ones where nodes
// start, race ones to rally race.
func TestTelemetryFlagsGoWhereTheyAct(t *testing.T) {
	t.Setenv("RALLY_HOME", t.TempDir())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"up", "-i", "../../examples/hosts.yaml", "--telemetry", "node-stats"}, "runs during a race: give it to rally race"},
		{[]string{"up", "-i", "../../examples/hosts.yaml", "--telemetry", "jfr"}, "rally up starts none without a distribution"},
		{[]string{"up", "-i", "../../examples/hosts.yaml", "--telemetry", "jrf"}, `did you mean "jfr"?`},
		{[]string{"race", "--track-path", "../../examples/tracks/tiny", "--target-hosts", "127.0.0.1:9", "--telemetry", "gc"}, "this race starts none"},
		{[]string{"race", "--track-path", "../../examples/tracks/tiny", "--target-hosts", "127.0.0.1:9", "--telemetry-params", "node-stats-sample-interval:-1", "--telemetry", "node-stats"}, "above zero"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), tc.args, strings.NewReader(""), &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("rally %s: exit %d, stderr %q; want %q", strings.Join(tc.args, " "), code, stderr.String(), tc.want)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"list", "telemetry"}, strings.NewReader(""), &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), "node-stats     during a race  node-stats-sample-interval,node-stats-include-indices") {
		t.Errorf("list telemetry: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}
