package payload

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rally/remote"
	"rally/remote/sshtest"
)

// connect starts an sshd on loopback and dials it as host "h1".
func connect(t testing.TB) *remote.Client {
	t.Helper()
	s := sshtest.Start(t, sshtest.Options{})
	c, err := remote.Dial(context.Background(), remote.Target{
		Name: "h1", Address: s.Host, Port: s.Port,
		IdentityFiles: []string{s.ClientKeyFile}, KnownHostsFile: s.KnownHostsFile,
		AgentSocket: "none", SSHConfigFile: "none",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// randomBuild writes size random bytes to a local file and describes it.
func randomBuild(t testing.TB, size int) Build {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "rally-linux-amd64")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return Build{Platform: native, Path: path, SHA256: hex.EncodeToString(sum[:]), Size: int64(size)}
}

// binEntries lists the names in dir/bin (the sshd runs on this machine).
func binEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "bin"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestPush(t *testing.T) {
	c := connect(t)
	ctx := context.Background()

	t.Run("first_push_uploads_second_uploads_nothing", func(t *testing.T) {
		b := randomBuild(t, 3<<20+123)
		workdir := t.TempDir()
		var calls int
		var last [2]int64
		res, err := Push(ctx, c, b, workdir, func(sent, total int64) { calls++; last = [2]int64{sent, total} })
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(workdir, "bin", b.RemoteName())
		if res != (PushResult{RemotePath: want, Uploaded: true, Bytes: b.Size}) {
			t.Errorf("first Push = %+v, want upload of %d bytes to %s", res, b.Size, want)
		}
		if calls == 0 || last != [2]int64{b.Size, b.Size} {
			t.Errorf("progress: %d calls, last %v; want the last at %d of %d", calls, last, b.Size, b.Size)
		}
		st, err := os.Stat(want)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o755 || fileSum(t, want) != b.SHA256 {
			t.Errorf("remote file mode %v checksum %s; want 0755 and %s", st.Mode().Perm(), fileSum(t, want), b.SHA256)
		}
		if names := binEntries(t, workdir); len(names) != 1 {
			t.Errorf("bin holds %v, want only %s", names, b.RemoteName())
		}

		old := time.Now().Add(-time.Hour).Truncate(time.Second)
		if err := os.Chtimes(want, old, old); err != nil {
			t.Fatal(err)
		}
		calls = 0
		res, err = Push(ctx, c, b, workdir, func(int64, int64) { calls++ })
		if err != nil {
			t.Fatal(err)
		}
		if res != (PushResult{RemotePath: want}) || calls != 0 {
			t.Errorf("second Push = %+v with %d progress calls, want no upload", res, calls)
		}
		if st, _ := os.Stat(want); !st.ModTime().Equal(old) {
			t.Errorf("second Push rewrote the file: mtime %v, want %v", st.ModTime(), old)
		}
	})

	t.Run("checksum_mismatch_leaves_no_file", func(t *testing.T) {
		b := randomBuild(t, 1<<20)
		good := b.SHA256
		b.SHA256 = strings.Repeat("0", 64) // as if the bytes were corrupted on the way
		workdir := t.TempDir()
		_, err := Push(ctx, c, b, workdir, nil)
		want := "h1: upload worker: checksum mismatch: got " + good[:16] + "…, want 0000000000000000…"
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v\nwant %s", err, want)
		}
		if names := binEntries(t, workdir); len(names) != 0 {
			t.Errorf("bin holds %v after a failed upload, want nothing", names)
		}
	})

	t.Run("wrong_size_file_is_replaced", func(t *testing.T) {
		b := randomBuild(t, 256<<10)
		workdir := t.TempDir()
		final := filepath.Join(workdir, "bin", b.RemoteName())
		os.MkdirAll(filepath.Dir(final), 0o755)
		if err := os.WriteFile(final, []byte("truncated"), 0o755); err != nil {
			t.Fatal(err)
		}
		res, err := Push(ctx, c, b, workdir, nil)
		if err != nil || !res.Uploaded {
			t.Fatalf("Push = %+v, %v; want an upload over the truncated file", res, err)
		}
		if fileSum(t, final) != b.SHA256 {
			t.Error("truncated file not replaced")
		}
	})

	t.Run("tilde_workdir_is_the_users_home", func(t *testing.T) {
		sc, err := c.SFTP()
		if err != nil {
			t.Fatal(err)
		}
		home, err := sc.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		rel, err := filepath.Rel(home, dir)
		if err != nil {
			t.Fatal(err)
		}
		b := randomBuild(t, 1000)
		res, err := Push(ctx, c, b, "~/"+rel, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(dir, "bin", b.RemoteName()); res.RemotePath != want {
			t.Errorf("RemotePath = %s, want %s", res.RemotePath, want)
		}
		if _, err := Push(ctx, c, b, "~someone/x", nil); err == nil || !strings.Contains(err.Error(), "~user") {
			t.Errorf("~user workdir: err = %v", err)
		}
	})

	t.Run("cancelled_push_leaves_no_file", func(t *testing.T) {
		b := randomBuild(t, 4<<20)
		workdir := t.TempDir()
		cctx, cancel := context.WithCancel(ctx)
		_, err := Push(cctx, c, b, workdir, func(sent, total int64) {
			if sent > total/4 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if names := binEntries(t, workdir); len(names) != 0 {
			t.Errorf("bin holds %v after a cancelled upload", names)
		}
	})
}

func TestDetectPlatform(t *testing.T) {
	c := connect(t)
	p, err := DetectPlatform(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if p != native {
		t.Errorf("DetectPlatform = %v, want %v (the sshd runs here)", p, native)
	}
}

// BenchmarkPush uploads a 20 MiB build over a loopback sshd, checksum on
// the host and rename included; MB/s is the end-to-end rate.
func BenchmarkPush(b *testing.B) {
	c := connect(b)
	build := randomBuild(b, 20<<20)
	workdir := b.TempDir()
	final := filepath.Join(workdir, "bin", build.RemoteName())
	ctx := context.Background()
	b.SetBytes(build.Size)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		os.Remove(final)
		b.StartTimer()
		res, err := Push(ctx, c, build, workdir, nil)
		if err != nil || !res.Uploaded {
			b.Fatalf("Push = %+v, %v", res, err)
		}
	}
}
