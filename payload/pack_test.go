package payload

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// gunzipFile returns the decompressed content of a gzip file.
func gunzipFile(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestPacker(t *testing.T) {
	t.Run("many_hosts_at_once_compress_a_build_once_into_the_cache", func(t *testing.T) {
		b := textBuild(t, 1<<20)
		dir := t.TempDir()
		pk := NewPacker(dir)
		packs := make([]Packed, 20)
		var wg sync.WaitGroup
		for i := range packs {
			wg.Go(func() {
				p, err := pk.Pack(b)
				if err != nil {
					t.Error(err)
				}
				packs[i] = p
			})
		}
		wg.Wait()
		if n := pk.compressed.Load(); n != 1 {
			t.Errorf("20 concurrent packs compressed %d times, want 1", n)
		}
		want := filepath.Join(dir, PackName(b.SHA256))
		st, err := os.Stat(want)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range packs {
			if p != (Packed{Build: b, Path: want, Size: st.Size()}) {
				t.Fatalf("Pack = %+v, want %s of %d bytes", p, want, st.Size())
			}
		}
		orig, _ := os.ReadFile(b.Path)
		if !bytes.Equal(gunzipFile(t, want), orig) {
			t.Error("the cached file does not decompress to the build")
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("cache holds %d files, want 1 (no temporary file left)", len(entries))
		}
	})

	t.Run("a_later_coordinator_reuses_the_cached_file", func(t *testing.T) {
		b := textBuild(t, 256<<10)
		dir := t.TempDir()
		first, err := NewPacker(dir).Pack(b)
		if err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour).Truncate(time.Second)
		os.Chtimes(first.Path, old, old)
		later := NewPacker(dir)
		p, err := later.Pack(b)
		if err != nil {
			t.Fatal(err)
		}
		if p != first || later.compressed.Load() != 0 {
			t.Errorf("second Packer: %+v after %d compressions, want the cached %+v and none", p, later.compressed.Load(), first)
		}
		if st, _ := os.Stat(p.Path); !st.ModTime().Equal(old) {
			t.Errorf("cached file rewritten: mtime %v", st.ModTime())
		}
	})

	t.Run("a_cached_file_that_is_not_the_build_compressed_is_written_again", func(t *testing.T) {
		for name, content := range map[string][]byte{
			"not_gzip":        []byte("not gzip at all, but long enough"),
			"other_bytes":     gzipBytes(t, []byte("another build")),
			"truncated":       nil, // filled below
			"empty_file_left": {},
		} {
			t.Run(name, func(t *testing.T) {
				b := textBuild(t, 128<<10)
				dir := t.TempDir()
				path := filepath.Join(dir, PackName(b.SHA256))
				if name == "truncated" {
					orig, _ := os.ReadFile(b.Path)
					gz := gzipBytes(t, orig)
					content = gz[:len(gz)/2]
				}
				if err := os.WriteFile(path, content, 0o644); err != nil {
					t.Fatal(err)
				}
				pk := NewPacker(dir)
				p, err := pk.Pack(b)
				if err != nil {
					t.Fatal(err)
				}
				orig, _ := os.ReadFile(b.Path)
				if pk.compressed.Load() != 1 || !bytes.Equal(gunzipFile(t, p.Path), orig) {
					t.Errorf("damaged cache file not replaced by the build compressed (%d compressions)", pk.compressed.Load())
				}
			})
		}
	})

	t.Run("discard_removes_the_cached_file", func(t *testing.T) {
		b := textBuild(t, 64<<10)
		pk := NewPacker(t.TempDir())
		p, err := pk.Pack(b)
		if err != nil {
			t.Fatal(err)
		}
		pk.Discard(b)
		if _, err := os.Stat(p.Path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after Discard: %v", err)
		}
		if _, err := pk.Pack(b); err != nil || pk.compressed.Load() != 2 {
			t.Errorf("Pack after Discard: %v, %d compressions in all, want 2", err, pk.compressed.Load())
		}
	})

	t.Run("a_build_changed_since_it_was_checksummed_is_refused", func(t *testing.T) {
		b := textBuild(t, 64<<10)
		if err := os.WriteFile(b.Path, []byte("rebuilt meanwhile"), 0o755); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		_, err := NewPacker(dir).Pack(b)
		want := "compress worker build " + b.Path + ": the build changed since it was checksummed: now 17 bytes"
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("err = %v\nwant it to start with %q", err, want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("cache holds %d files after a refused build, want none", len(entries))
		}
	})

	t.Run("no_cache_directory_is_an_error", func(t *testing.T) {
		if _, err := NewPacker("").Pack(textBuild(t, 10)); err == nil {
			t.Error("Pack without a cache directory succeeded")
		}
	})

	t.Run("the_cache_keeps_the_newest_builds", func(t *testing.T) {
		dir := t.TempDir()
		base := time.Now().Add(-time.Hour)
		for i := range keepPacks + 3 {
			path := filepath.Join(dir, PackName(fmt.Sprintf("%064d", i)))
			os.WriteFile(path, []byte("old"), 0o644)
			at := base.Add(time.Duration(i) * time.Minute)
			os.Chtimes(path, at, at)
		}
		other := filepath.Join(dir, "rally-linux-arm64") // a build, not a pack
		os.WriteFile(other, []byte("elf"), 0o755)
		b := textBuild(t, 1000)
		p, err := NewPacker(dir).Pack(b)
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			left = append(left, e.Name())
		}
		want := []string{filepath.Base(other), filepath.Base(p.Path)}
		for i := 3 + 1; i < keepPacks+3; i++ { // the keepPacks-1 newest old ones
			want = append(want, PackName(fmt.Sprintf("%064d", i)))
		}
		if !sameSet(left, want) {
			t.Errorf("cache holds %q\nwant %q", left, want)
		}
	})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// BenchmarkPack compresses a 20 MiB build that compresses to about half
// (a fresh cache each time): the cost of the first bring-up of a build.
func BenchmarkPack(b *testing.B) {
	build := textBuild(b, 20<<20)
	b.SetBytes(build.Size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewPacker(b.TempDir()).Pack(build); err != nil {
			b.Fatal(err)
		}
	}
}
