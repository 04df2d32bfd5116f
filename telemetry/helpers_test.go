package telemetry

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// fixtureProc is the fake procRoot the fixture tests read.
const fixtureProc = "testdata/proc"

// requireLinux skips a test of the readers off Linux, where they refuse to
// run (the parsers are tested everywhere).
func requireLinux(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("reading /proc is Linux-only, this is %s", runtime.GOOS)
	}
}

// copyProc copies the fixture procRoot to a temporary directory that a test
// may change between samples.
func copyProc(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(fixtureProc)); err != nil {
		t.Fatal(err)
	}
	// CopyFS makes files read-only to nobody in particular; tests rewrite
	// them.
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chmod(path, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// editStat rewrites fields of <root>/<pid>/stat, numbered as proc(5) numbers
// them (3 is the state).
func editStat(t *testing.T, root string, pid int, fields map[int]uint64) {
	t.Helper()
	path := filepath.Join(root, strconv.Itoa(pid), "stat")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	end := bytes.LastIndexByte(b, ')')
	rest := bytes.Fields(b[end+1:])
	for n, v := range fields {
		rest[n-3] = []byte(strconv.FormatUint(v, 10))
	}
	out := append(append(b[:end+1:end+1], ' '), bytes.Join(rest, []byte(" "))...)
	if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeFile replaces <root>/<name> with content.
func writeFile(t *testing.T, root, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
