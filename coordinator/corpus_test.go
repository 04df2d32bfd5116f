package coordinator

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"rally/remote"
	"rally/remote/sshtest"
)

// TestDownRemovesPushedCorpora: in a workdir rally did not create, down
// removes the corpus pieces it pushed and their manifests, and keeps the
// corpora the worker downloaded there.
func TestDownRemovesPushedCorpora(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	client, err := remote.Dial(context.Background(), remote.Target{
		Name: "h1", Address: s.Host, Port: s.Port,
		IdentityFiles: []string{s.ClientKeyFile}, KnownHostsFile: s.KnownHostsFile,
		AgentSocket: "none", SSHConfigFile: "none",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	wd := filepath.Join(t.TempDir(), "work")
	data := filepath.Join(wd, "benchmarks", "data")
	pushed := []string{
		"c/docs.json.pieces/0-100", "c/docs.json.pieces/0-100.offset", "c/docs.json.pieces/200-300.part",
		"c/docs.json.pieces.json", "c/.docs.json.pieces.json.123.part",
	}
	kept := []string{"d/other.json", "d/other.json.offset"}
	for _, f := range append(pushed, kept...) {
		p := filepath.Join(data, filepath.FromSlash(f))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("x"), 0o644)
	}
	n, err := removeFiles(context.Background(), client, HostRecord{Name: "h1", Workdir: wd}, true)
	if err != nil {
		t.Fatal(err)
	}
	if n < len(pushed) {
		t.Errorf("removed %d files, want at least the %d pushed", n, len(pushed))
	}
	for _, f := range pushed {
		if _, err := os.Stat(filepath.Join(data, filepath.FromSlash(f))); !os.IsNotExist(err) {
			t.Errorf("%s left: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "c")); !os.IsNotExist(err) {
		t.Errorf("the emptied corpus directory is left: %v", err)
	}
	for _, f := range kept {
		if _, err := os.Stat(filepath.Join(data, filepath.FromSlash(f))); err != nil {
			t.Errorf("downloaded corpus file %s: %v", f, err)
		}
	}
}
