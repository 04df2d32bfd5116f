package provision

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// unpackEntry is one member of an archive built for a test.
type unpackEntry struct {
	name string
	mode fs.FileMode // type bits say dir or symlink
	body string      // file content, or the link target
	hard bool        // a tar hard link to body
}

func unpackZip(t *testing.T, entries []unpackEntry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		if e.hard {
			t.Fatal("zip has no hard links")
		}
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(e.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if !e.mode.IsDir() {
			if _, err := w.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeArchive(t, "dist.zip", buf.Bytes())
}

func unpackTarGz(t *testing.T, entries []unpackEntry) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: int64(e.mode.Perm()), Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		switch {
		case e.hard:
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, e.body, 0
		case e.mode.IsDir():
			h.Typeflag, h.Size = tar.TypeDir, 0
		case e.mode&fs.ModeSymlink != 0:
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.body, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return writeArchive(t, "dist.tar.gz", buf.Bytes())
}

func writeArchive(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var unpackFormats = []struct {
	name  string
	build func(*testing.T, []unpackEntry) string
}{
	{"zip", unpackZip},
	{"tar.gz", unpackTarGz},
}

// distEntries looks like a distribution: a top directory, scripts, a
// private config file, implied directories and a link inside.
func distEntries() []unpackEntry {
	return []unpackEntry{
		{name: "es-1.0/", mode: fs.ModeDir | 0o755},
		{name: "es-1.0/bin/", mode: fs.ModeDir | 0o755},
		{name: "es-1.0/bin/elasticsearch", mode: 0o755, body: "#!/bin/sh\n"},
		{name: "es-1.0/config/jvm.options", mode: 0o600, body: "-Xms1g\n"},
		{name: "es-1.0/config/private/", mode: fs.ModeDir | 0o700},
		{name: "es-1.0/lib/server.jar", mode: 0o664, body: "jar"},
		{name: "es-1.0/modules/netty/netty.jar", mode: 0o644, body: "netty"},
		{name: "es-1.0/lib/current.jar", mode: fs.ModeSymlink | 0o777, body: "server.jar"},
		{name: "es-1.0/modules/lib", mode: fs.ModeSymlink | 0o777, body: "../lib"},
	}
}

// assertNothingLeft checks that a failed Unpack left destDir empty.
func assertNothingLeft(t *testing.T, destDir string) {
	t.Helper()
	ents, err := os.ReadDir(destDir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left behind in %s: %s", destDir, e.Name())
	}
}

func TestUnpack(t *testing.T) {
	for _, f := range unpackFormats {
		t.Run(f.name, func(t *testing.T) {
			t.Run("extracts_into_the_top_directory_keeping_modes_and_links", func(t *testing.T) {
				archive := f.build(t, distEntries())
				dest := filepath.Join(t.TempDir(), "dest")
				got, err := Unpack(t.Context(), archive, dest)
				if err != nil {
					t.Fatal(err)
				}
				if want := filepath.Join(dest, "es-1.0"); got != want {
					t.Fatalf("install dir %s, want %s", got, want)
				}
				modes := map[string]fs.FileMode{
					".":                       fs.ModeDir | 0o755,
					"bin/elasticsearch":       0o755,
					"config/jvm.options":      0o644, // readable by the run-as user
					"config/private":          fs.ModeDir | 0o755,
					"lib/server.jar":          0o644, // writable by the owner only
					"modules":                 fs.ModeDir | 0o755,
					"modules/netty/netty.jar": 0o644,
				}
				for rel, want := range modes {
					fi, err := os.Lstat(filepath.Join(got, rel))
					if err != nil {
						t.Error(err)
						continue
					}
					if fi.Mode() != want {
						t.Errorf("%s: mode %v, want %v", rel, fi.Mode(), want)
					}
				}
				for link, target := range map[string]string{"lib/current.jar": "server.jar", "modules/lib": "../lib"} {
					if got, err := os.Readlink(filepath.Join(got, link)); err != nil || got != target {
						t.Errorf("%s: link to %q (%v), want %q", link, got, err, target)
					}
				}
				if b, err := os.ReadFile(filepath.Join(got, "modules/lib/current.jar")); err != nil || string(b) != "jar" {
					t.Errorf("reading through the links: %q, %v", b, err)
				}
				if ents, _ := os.ReadDir(dest); len(ents) != 1 {
					t.Errorf("%s holds %d entries, want only the install", dest, len(ents))
				}
			})
			refused := []struct {
				name    string
				entries []unpackEntry
				want    string
			}{
				{"absolute_name", []unpackEntry{{name: "/tmp/rally-evil", mode: 0o644}}, "absolute"},
				{"name_climbing_out", []unpackEntry{{name: "es-1.0/../../evil", mode: 0o644}}, "leaves the archive"},
				{"two_top_directories", []unpackEntry{{name: "a/x", mode: 0o644}, {name: "b/y", mode: 0o644}}, "one top directory"},
				{"file_at_the_top", []unpackEntry{{name: "README", mode: 0o644}}, "not a directory"},
				{"absolute_symlink", []unpackEntry{{name: "es-1.0/passwd", mode: fs.ModeSymlink | 0o777, body: "/etc/passwd"}}, "leaves the archive's top directory"},
				{"symlink_climbing_out", []unpackEntry{{name: "es-1.0/lib/up", mode: fs.ModeSymlink | 0o777, body: "../../etc"}}, "leaves the archive's top directory"},
				{"symlink_chain_climbing_out", []unpackEntry{
					{name: "es-1.0/self", mode: fs.ModeSymlink | 0o777, body: "."},
					{name: "es-1.0/up", mode: fs.ModeSymlink | 0o777, body: "self/.."},
				}, "resolves outside"},
			}
			for _, c := range refused {
				t.Run("refuses_"+c.name, func(t *testing.T) {
					dest := t.TempDir()
					_, err := Unpack(t.Context(), f.build(t, c.entries), dest)
					if err == nil || !strings.Contains(err.Error(), c.want) {
						t.Fatalf("Unpack = %v, want an error with %q", err, c.want)
					}
					assertNothingLeft(t, dest)
				})
			}
			t.Run("does_not_overwrite_an_existing_install", func(t *testing.T) {
				archive := f.build(t, distEntries())
				dest := t.TempDir()
				first, err := Unpack(t.Context(), archive, dest)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(first, "marker"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
				if _, err := Unpack(t.Context(), archive, dest); err == nil || !strings.Contains(err.Error(), "already exists") {
					t.Fatalf("second Unpack = %v, want already exists", err)
				}
				if _, err := os.Stat(filepath.Join(first, "marker")); err != nil {
					t.Errorf("first install touched: %v", err)
				}
				if ents, _ := os.ReadDir(dest); len(ents) != 1 {
					t.Errorf("%s holds %d entries, want only the first install", dest, len(ents))
				}
			})
			t.Run("stops_when_cancelled", func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				dest := t.TempDir()
				if _, err := Unpack(ctx, f.build(t, distEntries()), dest); err == nil {
					t.Fatal("Unpack succeeded with a cancelled context")
				}
				assertNothingLeft(t, dest)
			})
		})
	}
	t.Run("tar.gz/refuses_a_hard_link_out", func(t *testing.T) {
		dest := t.TempDir()
		archive := unpackTarGz(t, []unpackEntry{{name: "es-1.0/passwd", hard: true, body: "/etc/passwd"}})
		if _, err := Unpack(t.Context(), archive, dest); err == nil {
			t.Fatal("Unpack followed a hard link to /etc/passwd")
		}
		assertNothingLeft(t, dest)
	})
	t.Run("tar.gz/keeps_a_hard_link_inside", func(t *testing.T) {
		archive := unpackTarGz(t, append(distEntries(), unpackEntry{name: "es-1.0/lib/copy.jar", hard: true, body: "es-1.0/lib/server.jar"}))
		got, err := Unpack(t.Context(), archive, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		a, _ := os.Stat(filepath.Join(got, "lib/server.jar"))
		b, _ := os.Stat(filepath.Join(got, "lib/copy.jar"))
		if a == nil || b == nil || !os.SameFile(a, b) {
			t.Error("lib/copy.jar is not a hard link to lib/server.jar")
		}
	})
	t.Run("refuses_what_is_not_an_archive", func(t *testing.T) {
		dest := t.TempDir()
		p := writeArchive(t, "notes.txt", []byte("just text, not an archive"))
		if _, err := Unpack(t.Context(), p, dest); err == nil || !strings.Contains(err.Error(), "unknown archive format") {
			t.Fatalf("Unpack = %v, want unknown archive format", err)
		}
		assertNothingLeft(t, dest)
	})
	t.Run("modes_do_not_depend_on_the_umask", func(t *testing.T) {
		// Not parallel: the umask is the process's.
		old := syscall.Umask(0o077)
		defer syscall.Umask(old)
		got, err := Unpack(t.Context(), unpackTarGz(t, distEntries()), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		for rel, want := range map[string]fs.FileMode{"bin/elasticsearch": 0o755, "lib/server.jar": 0o644, "bin": fs.ModeDir | 0o755} {
			if fi, err := os.Stat(filepath.Join(got, rel)); err != nil || fi.Mode() != want {
				t.Errorf("%s: %v (%v), want %v", rel, fi.Mode(), err, want)
			}
		}
	})
}

func TestUnpackPrepareForUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("handing directories to another user needs root")
	}
	runAs := requireNodeUser(t)
	u, err := user.Lookup(runAs)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	owner := func(p string) int {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		return int(fi.Sys().(*syscall.Stat_t).Uid)
	}

	t.Run("hands_over_the_named_directories_only", func(t *testing.T) {
		base := searchableTempDir(t)
		install, err := Unpack(t.Context(), unpackZip(t, distEntries()), filepath.Join(base, "install"))
		if err != nil {
			t.Fatal(err)
		}
		data := filepath.Join(base, "data", "n1")
		if err := PrepareForUser(install, runAs, "config", "logs", data); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"config", "config/jvm.options", "config/private", "logs", data} {
			if !filepath.IsAbs(p) {
				p = filepath.Join(install, p)
			}
			if got := owner(p); got != uid {
				t.Errorf("%s owned by uid %d, want %d (%s)", p, got, uid, runAs)
			}
		}
		for _, p := range []string{".", "bin", "bin/elasticsearch", "lib/server.jar"} {
			if got := owner(filepath.Join(install, p)); got != 0 {
				t.Errorf("%s owned by uid %d, want root's", p, got)
			}
		}
	})
	t.Run("names_a_parent_the_user_cannot_search", func(t *testing.T) {
		private := t.TempDir() // 0700, root's
		install, err := Unpack(t.Context(), unpackZip(t, distEntries()), private)
		if err != nil {
			t.Fatal(err)
		}
		err = PrepareForUser(install, runAs, "logs")
		if err == nil || !strings.Contains(err.Error(), "not searchable") {
			t.Fatalf("PrepareForUser = %v, want a parent that is not searchable", err)
		}
	})
	t.Run("unknown_user", func(t *testing.T) {
		if err := PrepareForUser(t.TempDir(), "rally-no-such-user", "logs"); err == nil {
			t.Fatal("PrepareForUser accepted an unknown user")
		}
	})
}
