package payload

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// native is the platform this test runs on; foreign is the other
// supported one.
var (
	native  = Platform{OS: runtime.GOOS, Arch: runtime.GOARCH}
	foreign = map[string]Platform{"amd64": {"linux", "arm64"}, "arm64": {"linux", "amd64"}}[runtime.GOARCH]
)

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestFind(t *testing.T) {
	if runtime.GOOS != "linux" || elfMachines[runtime.GOARCH] == 0 {
		t.Fatalf("tests need linux/amd64 or linux/arm64, not %s", native)
	}
	m := func(p Platform) elf.Machine { return elfMachines[p.Arch] }

	type file struct {
		name    string // relative to the test's root: "bin/rally", "cache/rally-linux-arm64"
		machine elf.Machine
		dynamic bool
		garbage bool
	}
	tests := []struct {
		name     string
		files    []file
		want     Platform
		wantPath string // "" when an error is expected
		wantErr  []string
	}{
		{
			name:     "static_self_serves_its_own_platform",
			files:    []file{{name: "bin/rally", machine: m(native)}, {name: "bin/" + BuildName(native), machine: m(native)}},
			want:     native,
			wantPath: "bin/rally",
		},
		{
			name:     "dynamic_self_falls_back_to_the_file_beside_it",
			files:    []file{{name: "bin/rally", machine: m(native), dynamic: true}, {name: "bin/" + BuildName(native), machine: m(native)}},
			want:     native,
			wantPath: "bin/" + BuildName(native),
		},
		{
			name:     "foreign_platform_beside_self",
			files:    []file{{name: "bin/rally", machine: m(native)}, {name: "bin/" + BuildName(foreign), machine: m(foreign)}},
			want:     foreign,
			wantPath: "bin/" + BuildName(foreign),
		},
		{
			name:     "foreign_platform_from_cache",
			files:    []file{{name: "bin/rally", machine: m(native)}, {name: "cache/" + BuildName(foreign), machine: m(foreign)}},
			want:     foreign,
			wantPath: "cache/" + BuildName(foreign),
		},
		{
			name: "wrong_machine_beside_self_is_skipped_for_the_cache",
			files: []file{{name: "bin/rally", machine: m(native)}, {name: "bin/" + BuildName(foreign), machine: m(native)},
				{name: "cache/" + BuildName(foreign), machine: m(foreign)}},
			want:     foreign,
			wantPath: "cache/" + BuildName(foreign),
		},
		{
			name:  "none_found_says_where_it_looked_and_how_to_build",
			files: []file{{name: "bin/rally", machine: m(native)}},
			want:  foreign,
			wantErr: []string{
				"no static rally build for " + foreign.String() + ": looked for ROOT/bin/" + BuildName(foreign) + " and ROOT/cache/" + BuildName(foreign) +
					" (build one with: CGO_ENABLED=0 GOOS=linux GOARCH=" + foreign.Arch + " go build -trimpath -ldflags='-s -w' -o ROOT/cache/" + BuildName(foreign) + " ./cmd/rally)",
			},
		},
		{
			name: "unusable_candidates_are_explained",
			files: []file{{name: "bin/rally", machine: m(native), dynamic: true}, {name: "bin/" + BuildName(native), machine: m(foreign)},
				{name: "cache/" + BuildName(native), garbage: true}},
			want: native,
			wantErr: []string{
				"ROOT/bin/rally (dynamically linked; build with CGO_ENABLED=0)",
				"ROOT/bin/" + BuildName(native) + " (built for " + foreign.Arch + ", not " + native.Arch + ")",
				"ROOT/cache/" + BuildName(native) + " (not an ELF executable)",
			},
		},
		{
			name:    "unsupported_platform",
			want:    Platform{"linux", "riscv64"},
			wantErr: []string{"no rally build for linux/riscv64"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			os.Mkdir(filepath.Join(root, "bin"), 0o755)
			os.Mkdir(filepath.Join(root, "cache"), 0o755)
			for _, f := range tt.files {
				path := filepath.Join(root, f.name)
				if f.garbage {
					if err := os.WriteFile(path, []byte("#!/bin/sh\necho not elf\n"), 0o755); err != nil {
						t.Fatal(err)
					}
					continue
				}
				writeELF(t, path, f.machine, f.dynamic, f.name)
			}
			finder := Finder{Self: filepath.Join(root, "bin/rally"), CacheDir: filepath.Join(root, "cache")}
			b, err := finder.Find(tt.want)
			if tt.wantPath == "" {
				if err == nil {
					t.Fatalf("Find = %+v, want an error", b)
				}
				for _, w := range tt.wantErr {
					if w = strings.ReplaceAll(w, "ROOT", root); !strings.Contains(err.Error(), w) {
						t.Errorf("error %q\nlacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(root, tt.wantPath)
			st, _ := os.Stat(path)
			if b.Path != path || b.Platform != tt.want || b.SHA256 != fileSum(t, path) || b.Size != st.Size() {
				t.Errorf("Find = %+v, want %s with its checksum and size %d", b, path, st.Size())
			}
			if b.RemoteName() != "rally-"+b.SHA256[:16] {
				t.Errorf("RemoteName() = %s", b.RemoteName())
			}
		})
	}
}

func TestFindHashesOncePerVersionOfAFile(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "rally")
	writeELF(t, self, elfMachines[native.Arch], false, "v1")
	finder := Finder{Self: self}

	before := sums.hashed.Load()
	var wg sync.WaitGroup
	builds := make([]Build, 50)
	for i := range builds {
		wg.Go(func() {
			b, err := finder.Find(native)
			if err != nil {
				t.Error(err)
			}
			builds[i] = b
		})
	}
	wg.Wait()
	if n := sums.hashed.Load() - before; n != 1 {
		t.Errorf("50 concurrent finds hashed %d times, want 1", n)
	}
	for _, b := range builds {
		if b != builds[0] {
			t.Fatalf("finds disagree: %+v vs %+v", b, builds[0])
		}
	}

	// A rebuilt file (new content, new mtime) is hashed again.
	writeELF(t, self, elfMachines[native.Arch], false, "v2, longer")
	later := time.Now().Add(time.Second)
	os.Chtimes(self, later, later)
	b, err := finder.Find(native)
	if err != nil {
		t.Fatal(err)
	}
	if n := sums.hashed.Load() - before; n != 2 {
		t.Errorf("rebuilt file: hashed %d times in all, want 2", n)
	}
	if b.SHA256 != fileSum(t, self) || b.SHA256 == builds[0].SHA256 {
		t.Errorf("stale checksum after rebuild: %s", b.SHA256)
	}
}
