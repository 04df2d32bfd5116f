package payload

import (
	"bytes"
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

	"github.com/klauspost/compress/gzip"

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
	return writeBuild(t, data)
}

// textBuild is a build that compresses as a program does, to about half:
// random bytes written as hex.
func textBuild(t testing.TB, size int) Build {
	t.Helper()
	raw := make([]byte, size/2+1)
	rand.Read(raw)
	return writeBuild(t, []byte(hex.EncodeToString(raw)[:size]))
}

func writeBuild(t testing.TB, data []byte) Build {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rally-linux-amd64")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return Build{Platform: native, Path: path, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}
}

// gzipBytes compresses data as a gzip stream.
func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
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

	t.Run("first_push_sends_the_build_compressed_second_sends_nothing", func(t *testing.T) {
		b := textBuild(t, 3<<20+123)
		pk := NewPacker(t.TempDir())
		workdir := t.TempDir()
		var calls int
		var last [2]int64
		res, err := Push(ctx, c, b, pk, workdir, func(sent, total int64) { calls++; last = [2]int64{sent, total} })
		if err != nil {
			t.Fatal(err)
		}
		packed, err := pk.Pack(b)
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(workdir, "bin", b.RemoteName())
		if res != (PushResult{RemotePath: want, Uploaded: true, Bytes: packed.Size}) {
			t.Errorf("first Push = %+v, want upload of %d compressed bytes to %s", res, packed.Size, want)
		}
		if packed.Size > b.Size*6/10 {
			t.Errorf("sent %d bytes for a build of %d: not compressed", packed.Size, b.Size)
		}
		if calls == 0 || last != [2]int64{packed.Size, packed.Size} {
			t.Errorf("progress: %d calls, last %v; want the last at %d of %d", calls, last, packed.Size, packed.Size)
		}
		st, err := os.Stat(want)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o755 || st.Size() != b.Size || fileSum(t, want) != b.SHA256 {
			t.Errorf("remote file mode %v, %d bytes, checksum %s; want 0755, %d bytes and %s", st.Mode().Perm(), st.Size(), fileSum(t, want), b.Size, b.SHA256)
		}
		if names := binEntries(t, workdir); len(names) != 1 {
			t.Errorf("bin holds %v, want only %s", names, b.RemoteName())
		}

		old := time.Now().Add(-time.Hour).Truncate(time.Second)
		if err := os.Chtimes(want, old, old); err != nil {
			t.Fatal(err)
		}
		calls = 0
		fresh := NewPacker(t.TempDir()) // compresses nothing if nothing is sent
		res, err = Push(ctx, c, b, fresh, workdir, func(int64, int64) { calls++ })
		if err != nil {
			t.Fatal(err)
		}
		if res != (PushResult{RemotePath: want}) || calls != 0 {
			t.Errorf("second Push = %+v with %d progress calls, want no upload", res, calls)
		}
		if n := fresh.compressed.Load(); n != 0 {
			t.Errorf("second Push compressed the build %d times, want 0: the host has it", n)
		}
		if st, _ := os.Stat(want); !st.ModTime().Equal(old) {
			t.Errorf("second Push rewrote the file: mtime %v, want %v", st.ModTime(), old)
		}
	})

	t.Run("corrupted_compressed_stream_fails_and_leaves_no_file", func(t *testing.T) {
		b := textBuild(t, 1<<20)
		pk := NewPacker(t.TempDir())
		packed, err := pk.Pack(b)
		if err != nil {
			t.Fatal(err)
		}
		// Damage the cached file after the Packer checked it: as if the
		// bytes were changed on the way.
		gz, err := os.ReadFile(packed.Path)
		if err != nil {
			t.Fatal(err)
		}
		for i := len(gz) / 2; i < len(gz)/2+64; i++ {
			gz[i] ^= 0x5a
		}
		if err := os.WriteFile(packed.Path, gz, 0o644); err != nil {
			t.Fatal(err)
		}
		workdir := t.TempDir()
		_, err = Push(ctx, c, b, pk, workdir, nil)
		prefix := "h1: upload worker: decompress on the host (gzip -dc): gzip: "
		if err == nil || !strings.HasPrefix(err.Error(), prefix) {
			t.Fatalf("err = %v\nwant it to start with %q", err, prefix)
		}
		if names := binEntries(t, workdir); len(names) != 0 {
			t.Errorf("bin holds %v after a failed upload, want nothing", names)
		}
		// The damaged file left the cache: the next push compresses the
		// build again and succeeds.
		if _, err := os.Stat(packed.Path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("damaged compressed build still cached: %v", err)
		}
		res, err := Push(ctx, c, b, pk, workdir, nil)
		if err != nil || !res.Uploaded || fileSum(t, res.RemotePath) != b.SHA256 {
			t.Errorf("push after the failure: %+v, %v", res, err)
		}
	})

	t.Run("checksum_mismatch_fails_and_leaves_no_file", func(t *testing.T) {
		b := textBuild(t, 1<<20)
		pk := NewPacker(t.TempDir())
		packed, err := pk.Pack(b)
		if err != nil {
			t.Fatal(err)
		}
		// A valid gzip stream of other bytes, as long as the right one (a
		// comment in its header fills it up): the host decompresses it
		// fine, and only the checksum tells.
		other := []byte("another build")
		gz := gzipBytes(t, other)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Comment = strings.Repeat("x", int(packed.Size)-len(gz)-1) // and its NUL
		zw.Write(other)
		if err := zw.Close(); err != nil || int64(buf.Len()) != packed.Size {
			t.Fatalf("padded gzip: %d bytes (%v), want %d", buf.Len(), err, packed.Size)
		}
		if err := os.WriteFile(packed.Path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		otherSum := sha256.Sum256(other)
		workdir := t.TempDir()
		_, err = Push(ctx, c, b, pk, workdir, nil)
		want := "h1: upload worker: checksum mismatch: got " + hex.EncodeToString(otherSum[:8]) + "…, want " + b.SHA256[:16] + "…" +
			" (the compressed build was dropped from the cache: the next push compresses it again)"
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
		res, err := Push(ctx, c, b, NewPacker(t.TempDir()), workdir, nil)
		if err != nil || !res.Uploaded {
			t.Fatalf("Push = %+v, %v; want an upload over the truncated file", res, err)
		}
		if fileSum(t, final) != b.SHA256 {
			t.Error("truncated file not replaced")
		}
		if names := binEntries(t, workdir); len(names) != 1 {
			t.Errorf("bin holds %v, want only %s", names, b.RemoteName())
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
		pk := NewPacker(t.TempDir())
		res, err := Push(ctx, c, b, pk, "~/"+rel, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(dir, "bin", b.RemoteName()); res.RemotePath != want {
			t.Errorf("RemotePath = %s, want %s", res.RemotePath, want)
		}
		if _, err := Push(ctx, c, b, pk, "~someone/x", nil); err == nil || !strings.Contains(err.Error(), "~user") {
			t.Errorf("~user workdir: err = %v", err)
		}
	})

	t.Run("cancelled_push_leaves_no_file", func(t *testing.T) {
		b := randomBuild(t, 4<<20)
		workdir := t.TempDir()
		cctx, cancel := context.WithCancel(ctx)
		_, err := Push(cctx, c, b, NewPacker(t.TempDir()), workdir, func(sent, total int64) {
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

func TestPushFile(t *testing.T) {
	c := connect(t)
	ctx := context.Background()
	t.Run("sent_as_it_is_checked_and_kept", func(t *testing.T) {
		b := textBuild(t, 100<<10)
		f := File{Path: b.Path, SHA256: b.SHA256, Size: b.Size}
		workdir := t.TempDir()
		res, err := PushFile(ctx, c, f, workdir, "distributions", nil)
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(workdir, "distributions", b.SHA256[:16]+"-rally-linux-amd64")
		if res != (PushResult{RemotePath: want, Uploaded: true, Bytes: b.Size}) {
			t.Errorf("PushFile = %+v, want %d bytes to %s", res, b.Size, want)
		}
		if st, err := os.Stat(want); err != nil || st.Mode().Perm() != 0o644 || fileSum(t, want) != b.SHA256 {
			t.Errorf("remote file: %v, %v", st, err)
		}
	})
	t.Run("checksum_mismatch_leaves_no_file", func(t *testing.T) {
		b := randomBuild(t, 64<<10)
		good := b.SHA256
		f := File{Path: b.Path, SHA256: strings.Repeat("0", 64), Size: b.Size}
		workdir := t.TempDir()
		_, err := PushFile(ctx, c, f, workdir, "distributions", nil)
		want := "h1: push rally-linux-amd64: checksum mismatch: got " + good[:16] + "…, want 0000000000000000…"
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v\nwant %s", err, want)
		}
		entries, _ := os.ReadDir(filepath.Join(workdir, "distributions"))
		if len(entries) != 0 {
			t.Errorf("%d files left after a failed push", len(entries))
		}
	})
}

// BenchmarkPush uploads a 20 MiB build (hex text: it compresses to about
// half, as a program does) over a loopback sshd, compressed once before
// the timer starts; decompression, checksum on the host and rename
// included. MB/s is the end-to-end rate in uncompressed bytes.
func BenchmarkPush(b *testing.B) {
	c := connect(b)
	build := textBuild(b, 20<<20)
	pk := NewPacker(b.TempDir())
	if _, err := pk.Pack(build); err != nil {
		b.Fatal(err)
	}
	workdir := b.TempDir()
	final := filepath.Join(workdir, "bin", build.RemoteName())
	ctx := context.Background()
	b.SetBytes(build.Size)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		os.Remove(final)
		b.StartTimer()
		res, err := Push(ctx, c, build, pk, workdir, nil)
		if err != nil || !res.Uploaded {
			b.Fatalf("Push = %+v, %v", res, err)
		}
	}
}
