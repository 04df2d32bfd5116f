package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// SkipEnv is the environment variable that turns Require's failure into a
// skip when set to "skip".
const SkipEnv = "RALLY_LAB"

// tools are the programs a lab runs, with the package that provides them.
var tools = []struct{ name, pkg string }{
	{"ip", "iproute2"},
	{sshdPath, "openssh-server"},
	{"ssh-keygen", "openssh-client"},
	{"unshare", "util-linux"},
	{"nsenter", "util-linux"},
	{"setpriv", "util-linux"},
	{"mount", "mount"},
	{"hostname", "hostname"},
	{"/bin/sh", "dash or bash"},
}

// Check reports whether this machine can run a lab: it must run as root and
// have every program a lab uses. The error names everything missing.
func Check() error {
	var missing []string
	if uid := os.Geteuid(); uid != 0 {
		missing = append(missing, fmt.Sprintf("root (running as uid %d; namespaces, bridges and sshd need it)", uid))
	}
	for _, t := range tools {
		if _, err := exec.LookPath(t.name); err != nil {
			missing = append(missing, fmt.Sprintf("%s (package %s)", t.name, t.pkg))
		}
	}
	if len(missing) > 0 {
		return errors.New("lab cannot run here: missing " + strings.Join(missing, ", "))
	}
	return nil
}

// Require starts a lab of n hosts for a test and closes it when the test
// ends (logging each host's sshd log first if the test failed). If the lab
// cannot run here, the test fails with a message naming what is missing,
// or is skipped with that message when RALLY_LAB=skip is set.
func Require(t testing.TB, n int) *Lab {
	t.Helper()
	return RequireOptions(t, Options{Hosts: n})
}

// RequireOptions is Require for a lab with more options (opts.Dir is the
// test's temporary directory).
func RequireOptions(t testing.TB, opts Options) *Lab {
	t.Helper()
	cannot := func(err error) {
		t.Helper()
		if os.Getenv(SkipEnv) == "skip" {
			t.Skipf("%v (skipped because %s=skip)", err, SkipEnv)
		}
		t.Fatalf("%v (set %s=skip to skip tests that need the lab)", err, SkipEnv)
	}
	if err := Check(); err != nil {
		cannot(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts.Dir = t.TempDir()
	l, err := Start(ctx, opts)
	if err != nil {
		cannot(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, h := range l.Hosts() {
				t.Logf("lab %s: %s log: %s", l.RunID(), h.Name, l.logTail(h.Name))
			}
		}
		if err := l.Close(); err != nil {
			t.Errorf("close lab: %v", err)
		}
	})
	return l
}
