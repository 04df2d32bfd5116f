package payload

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPushTree: a track directory lands content-addressed on the host, a
// second push of the same tree sends nothing, a changed tree lands beside it.
func TestPushTree(t *testing.T) {
	c := connect(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "mytrack")
	os.MkdirAll(filepath.Join(dir, "operations"), 0o755)
	os.WriteFile(filepath.Join(dir, "track.json"), []byte(`{"version": 2}`), 0o644)
	os.WriteFile(filepath.Join(dir, "operations", "default.json"), []byte(`{"name": "x"}`), 0o644)
	workdir := t.TempDir()

	first, err := PushTree(ctx, c, dir, workdir, "tracks")
	if err != nil {
		t.Fatal(err)
	}
	if !first.Uploaded || first.Files != 2 || !strings.HasPrefix(filepath.Base(first.RemoteDir), "mytrack-") {
		t.Fatalf("first push: %+v", first)
	}
	got, err := os.ReadFile(filepath.Join(first.RemoteDir, "operations", "default.json"))
	if err != nil || string(got) != `{"name": "x"}` {
		t.Fatalf("pushed file: %q, %v", got, err)
	}
	again, err := PushTree(ctx, c, dir, workdir, "tracks")
	if err != nil || again.Uploaded || again.Bytes != 0 || again.RemoteDir != first.RemoteDir {
		t.Errorf("second push: %+v, %v; want nothing sent", again, err)
	}
	os.WriteFile(filepath.Join(dir, "track.json"), []byte(`{"version": 2, "description": "changed"}`), 0o644)
	changed, err := PushTree(ctx, c, dir, workdir, "tracks")
	if err != nil || !changed.Uploaded || changed.RemoteDir == first.RemoteDir {
		t.Errorf("changed tree: %+v, %v; want a new directory", changed, err)
	}
	entries, _ := os.ReadDir(filepath.Join(workdir, "tracks"))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary copy left: %s", e.Name())
		}
	}
}
