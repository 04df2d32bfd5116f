// Package e2e drives the real rally binary (built with CGO_ENABLED=0) as a
// user would, against a lab of real SSH test hosts, and asserts the end
// state on every host: processes, listeners and files.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rally/control"
)

// rallyBin and labBin are the binaries under test, built once.
var rallyBin, labBin, estargetBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rally-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rallyBin = filepath.Join(dir, "rally")
	labBin = filepath.Join(dir, "rally-lab")
	estargetBin = filepath.Join(dir, "estarget")
	for bin, pkg := range map[string]string{rallyBin: "rally/cmd/rally", labBin: "rally/cmd/rally-lab", estargetBin: "rally/cmd/estarget"} {
		// As a release is built: static, symbols stripped (what up pushes).
		build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build", pkg+":", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// user is one person at a terminal: their own RALLY_HOME.
type user struct {
	t    testing.TB
	home string
}

func newUser(t testing.TB) *user {
	return &user{t: t, home: t.TempDir()}
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// rally runs the binary with args and waits (at most 3 minutes).
func (u *user) rally(args ...string) result {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, rallyBin, args...)
	cmd.Env = append(os.Environ(), "RALLY_HOME="+u.home, "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		u.t.Fatalf("rally %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// must runs rally and fails the test unless it exits 0.
func (u *user) must(args ...string) result {
	u.t.Helper()
	r := u.rally(args...)
	if r.code != 0 {
		u.t.Fatalf("rally %s: %s", strings.Join(args, " "), r)
	}
	return r
}

func (u *user) status() control.Status {
	u.t.Helper()
	r := u.must("status", "--json")
	var st control.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		u.t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	return st
}

// eventually polls cond every 100 ms until it holds or max passes.
func eventually(t testing.TB, max time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(max)
	last := ""
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s: %s", what, max, last)
}
