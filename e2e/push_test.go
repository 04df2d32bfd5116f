package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rally/lab"
)

// TestUpPushesTheWorkerCompressed: up sends each host the worker build
// gzip-compressed (what crosses the wire is the cached .gz, well under the
// build's size), the host ends up with the very build this machine has
// (sha256sum on the host equals the local checksum) under its
// content-addressed name, nothing else in bin, and the worker runs it.
func TestUpPushesTheWorkerCompressed(t *testing.T) {
	l := lab.Require(t, 2)
	u := newUser(t)
	sum := localSHA256(t, rallyBin)
	st, err := os.Stat(rallyBin)
	if err != nil {
		t.Fatal(err)
	}

	u.must("up", "--detach", "-i", l.InventoryFile())
	t.Cleanup(func() { u.rally("down") })
	status := u.status()

	packed, err := os.Stat(filepath.Join(u.home, "cache", "bin", "rally-"+sum+".gz"))
	if err != nil {
		t.Fatalf("compressed build not in the cache: %v", err)
	}
	if packed.Size() > st.Size()*6/10 {
		t.Errorf("compressed build %d bytes for a %d-byte build", packed.Size(), st.Size())
	}
	if status.Uploads != 2 || status.UploadedBytes != 2*packed.Size() {
		t.Errorf("uploads %d of %d bytes, want 2 of the compressed %d each", status.Uploads, status.UploadedBytes, packed.Size())
	}
	name := "rally-" + sum[:16]
	for _, h := range status.Hosts {
		if !h.Uploaded || h.UploadTotal != packed.Size() || h.Binary != "/root/.rally/bin/"+name {
			t.Errorf("%s: uploaded=%v total %d binary %s; want the compressed %d bytes to /root/.rally/bin/%s", h.Name, h.Uploaded, h.UploadTotal, h.Binary, packed.Size(), name)
		}
	}
	for _, h := range l.Hosts() {
		out, err := l.Exec(context.Background(), h.Name, "sh", "-c", "cd /root/.rally/bin && ls -A && sha256sum "+name+" && stat -c %a "+name)
		if err != nil {
			t.Fatalf("%s: %v: %s", h.Name, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 3 || lines[0] != name || lines[1] != sum+"  "+name || lines[2] != "755" {
			t.Errorf("%s: bin holds, checksum, mode:\n%s\nwant only %s, checksum %s, mode 755", h.Name, out, name, sum)
		}
		hs := inspect(t, l, h.Name)
		if len(hs.workers) != 1 || !strings.HasPrefix(hs.workers[0], "/root/.rally/bin/"+name+" worker ") {
			t.Errorf("%s: workers %q, want one running /root/.rally/bin/%s", h.Name, hs.workers, name)
		}
	}
}

func localSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
