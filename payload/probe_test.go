package payload

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProbeHost(t *testing.T) {
	c := connect(t)
	ctx := context.Background()
	sc, err := c.SFTP()
	if err != nil {
		t.Fatal(err)
	}
	home, err := sc.Getwd() // the sshd runs here, as this user
	if err != nil {
		t.Fatal(err)
	}

	t.Run("makes_a_missing_workdir_with_the_marker_and_tells_the_platform", func(t *testing.T) {
		wd := filepath.Join(t.TempDir(), "a b", ".rally") // a space: quoting
		p, err := ProbeHost(ctx, c, ProbeOptions{Workdir: wd, Marker: ".made"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Platform != native || p.Workdir != wd || !p.Created || len(p.Builds) != 0 || p.Root != (os.Geteuid() == 0) {
			t.Errorf("ProbeHost = %+v, want %v, %s created, no builds, root %v", p, native, wd, os.Geteuid() == 0)
		}
		for _, f := range []string{".made", "bin"} {
			if _, err := os.Stat(filepath.Join(wd, f)); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	})

	t.Run("lists_the_builds_of_an_existing_workdir", func(t *testing.T) {
		wd := t.TempDir()
		b := randomBuild(t, 5000)
		if _, err := Push(ctx, c, b, NewPacker(t.TempDir()), wd, nil); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(wd, "bin")
		os.WriteFile(filepath.Join(bin, "rally-0123456789abcdef"), []byte("short"), 0o755)
		os.Symlink(filepath.Join(bin, b.RemoteName()), filepath.Join(bin, "rally-link"))
		os.WriteFile(filepath.Join(bin, "rally-x\nuid 0"), []byte("!"), 0o755) // not taken for a uid line
		p, err := ProbeHost(ctx, c, ProbeOptions{Workdir: wd, Marker: ".made"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Created {
			t.Error("existing workdir reported as created")
		}
		if _, err := os.Stat(filepath.Join(wd, ".made")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("marker left in a workdir the probe did not make: %v", err)
		}
		if !p.Has(b) || p.BuildPath(b) != filepath.Join(bin, b.RemoteName()) {
			t.Errorf("probe %+v: lacks %s or has the wrong path %s", p, b.RemoteName(), p.BuildPath(b))
		}
		if size, ok := p.Builds["rally-0123456789abcdef"]; !ok || size != 5 {
			t.Errorf("builds %v: want rally-0123456789abcdef with 5 bytes", p.Builds)
		}
		if _, ok := p.Builds["rally-link"]; ok {
			t.Errorf("builds %v: a symbolic link is not a build", p.Builds)
		}
		if p.Root != (os.Geteuid() == 0) {
			t.Errorf("root = %v, want %v", p.Root, os.Geteuid() == 0)
		}
		other := b
		other.Size++
		if p.Has(other) {
			t.Error("Has: a file of another size counts as the build")
		}
	})

	t.Run("tilde_is_the_users_home", func(t *testing.T) {
		dir := t.TempDir()
		rel, err := filepath.Rel(home, dir)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ProbeHost(ctx, c, ProbeOptions{Workdir: "~/" + rel + "/wd", Marker: ".made"})
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(dir, "wd"); p.Workdir != want || !p.Created {
			t.Errorf("workdir %s (created %v), want %s created", p.Workdir, p.Created, want)
		}
	})

	t.Run("root_is_refused_before_anything_is_made", func(t *testing.T) {
		wd := filepath.Join(t.TempDir(), "wd")
		_, err := ProbeHost(ctx, c, ProbeOptions{Workdir: wd, Marker: ".made", RefuseRoot: true})
		if os.Geteuid() != 0 {
			if err != nil {
				t.Fatalf("not root: %v", err)
			}
			return
		}
		if !errors.Is(err, ErrRoot) || !strings.HasPrefix(err.Error(), "h1: ") {
			t.Fatalf("err = %v, want h1: %v", err, ErrRoot)
		}
		if _, err := os.Stat(wd); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("workdir made for a refused host: %v", err)
		}
	})

	t.Run("bad_workdirs_are_refused_naming_the_host", func(t *testing.T) {
		for _, wd := range []string{"relative/dir", "~someone/x"} {
			if _, err := ProbeHost(ctx, c, ProbeOptions{Workdir: wd, Marker: ".made"}); err == nil || !strings.HasPrefix(err.Error(), "h1: workdir: ") {
				t.Errorf("workdir %q: err = %v", wd, err)
			}
		}
	})

	t.Run("a_workdir_that_cannot_be_made_names_the_reason", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		os.WriteFile(file, nil, 0o644)
		_, err := ProbeHost(ctx, c, ProbeOptions{Workdir: filepath.Join(file, "wd"), Marker: ".made"})
		if err == nil || !strings.HasPrefix(err.Error(), "h1: workdir: mkdir: ") {
			t.Errorf("err = %v, want mkdir's own words", err)
		}
	})
}

func TestParseProbe(t *testing.T) {
	good := "platform Linux aarch64\nuid 1000\nhome /home/u\ncreated 0\nbuild 20738210 rally-cafc698d7498c075\nbuild    12 rally-spaced name\n"
	p, home, err := parseProbe(good)
	if err != nil {
		t.Fatal(err)
	}
	if p.Platform != (Platform{"linux", "arm64"}) || p.Root || p.Created || home != "/home/u" ||
		p.Builds["rally-cafc698d7498c075"] != 20738210 || p.Builds["rally-spaced name"] != 12 {
		t.Errorf("parseProbe = %+v, %q", p, home)
	}
	for name, out := range map[string]string{
		"incomplete":       "platform Linux x86_64\nuid 0\n",
		"unknown_platform": "platform Darwin arm64\nuid 0\nhome /\ncreated 1\n",
		"bad_uid":          "platform Linux x86_64\nuid root\nhome /\ncreated 1\n",
		"bad_build":        "platform Linux x86_64\nuid 0\nhome /\ncreated 1\nbuild many rally-x\n",
	} {
		if _, _, err := parseProbe(out); err == nil {
			t.Errorf("%s: no error for %q", name, out)
		}
	}
}

func FuzzParseProbe(f *testing.F) {
	f.Add("platform Linux x86_64\nuid 0\nhome /root\ncreated 1\nbuild 5 rally-x\n")
	f.Add("platform Linux aarch64\nuid 1000\nhome /home/u\ncreated 0\n")
	f.Fuzz(func(t *testing.T, out string) {
		p, _, err := parseProbe(out)
		if err == nil && (p.Platform.OS != "linux" || p.Builds == nil) {
			t.Errorf("parseProbe(%q) = %+v without an error", out, p)
		}
	})
}
