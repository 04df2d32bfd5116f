package payload

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFinishWithoutGzipOnTheHost(t *testing.T) {
	c := connect(t)
	b := textBuild(t, 10<<10)
	dir := t.TempDir()
	sent := filepath.Join(dir, ".rally-x.tmp-1.gz")
	orig, _ := os.ReadFile(b.Path)
	if err := os.WriteFile(sent, gzipBytes(t, orig), 0o644); err != nil {
		t.Fatal(err)
	}
	a := finishArgs{sent: sent, tmp: filepath.Join(dir, ".rally-x.tmp-1"), final: filepath.Join(dir, "rally-x"), sum: b.SHA256, mode: 0o755, gzip: true}
	// A PATH with the host's other tools but no gzip: what a host without
	// it does.
	bin := t.TempDir()
	for _, tool := range []string{"rm", "sha256sum", "chmod", "mv"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := c.Run(context.Background(), "PATH="+bin+"\n"+a.command(), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = a.outcome(res)
	want := "gzip not found on the host (PATH " + bin + "): rally sends its worker gzip-compressed; install gzip there"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("left on the host: %s", strings.Join(names, ", "))
	}
}
