package payload

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// Build is one worker binary on this machine.
type Build struct {
	Platform Platform
	// Path is the local file.
	Path string
	// SHA256 is the file's checksum, lowercase hex.
	SHA256 string
	// Size is the file's size in bytes.
	Size int64
	// Symbols is true when the build carries a symbol table or debug
	// information (built without -ldflags='-s -w'): it still runs, but
	// every host it is pushed to gets about a third more bytes.
	Symbols bool
}

// RemoteName is the build's content-addressed file name on hosts:
// "rally-" and the first 16 hex characters of its SHA-256.
func (b Build) RemoteName() string {
	sum := b.SHA256
	if len(sum) > 16 {
		sum = sum[:16]
	}
	return "rally-" + sum
}

// Finder locates static worker builds.
type Finder struct {
	// Self is the running executable (os.Executable()).
	Self string
	// CacheDir holds builds for other platforms (~/.rally/cache/bin).
	CacheDir string
}

// elfMachines maps Go architectures to ELF machine types.
var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64,
	"arm64": elf.EM_AARCH64,
}

// BuildName is the file name of a build for p: "rally-linux-arm64".
func BuildName(p Platform) string { return "rally-" + p.OS + "-" + p.Arch }

// Find returns a static build for p: the running executable when p is the
// platform it was built for and it is statically linked; otherwise
// rally-<os>-<arch> next to it, then in CacheDir. Every candidate is checked
// to be a static ELF executable for p's machine. Checksums are cached per
// path, modification time and size, so finding the same build for many
// hosts hashes it once.
func (f Finder) Find(p Platform) (Build, error) {
	if _, ok := elfMachines[p.Arch]; !ok || p.OS != "linux" {
		return Build{}, fmt.Errorf("no rally build for %s: workers run on linux/amd64 and linux/arm64", p)
	}
	var looked []string
	try := func(path string) (Build, bool) {
		symbols, err := checkStatic(path, p)
		if err == nil {
			b, herr := describe(path, p)
			if herr == nil {
				b.Symbols = symbols
				return b, true
			}
			err = herr
		}
		if errors.Is(err, fs.ErrNotExist) {
			looked = append(looked, path)
		} else {
			looked = append(looked, fmt.Sprintf("%s (%v)", path, err))
		}
		return Build{}, false
	}

	if f.Self != "" && p == (Platform{OS: runtime.GOOS, Arch: runtime.GOARCH}) {
		if b, ok := try(f.Self); ok {
			return b, nil
		}
	}
	name := BuildName(p)
	var candidates []string
	if f.Self != "" {
		candidates = append(candidates, filepath.Join(filepath.Dir(f.Self), name))
	}
	if f.CacheDir != "" {
		candidates = append(candidates, filepath.Join(f.CacheDir, name))
	}
	for _, path := range candidates {
		if b, ok := try(path); ok {
			return b, nil
		}
	}
	out := filepath.Join(f.CacheDir, name)
	if f.CacheDir == "" {
		out = name
	}
	return Build{}, fmt.Errorf("no static rally build for %s: looked for %s (build one with: CGO_ENABLED=0 GOOS=%s GOARCH=%s go build -trimpath -ldflags='-s -w' -o %s ./cmd/rally)",
		p, joinAnd(looked), p.OS, p.Arch, out)
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return "nothing (no executable path and no cache directory)"
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// checkStatic verifies that path is an ELF executable for p's machine with
// no program interpreter (PT_INTERP), i.e. statically linked, and tells
// whether it carries symbols or debug information.
func checkStatic(path string, p Platform) (symbols bool, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	if !st.Mode().IsRegular() {
		return false, errors.New("not a regular file")
	}
	ef, err := elf.Open(path)
	if err != nil {
		return false, errors.New("not an ELF executable")
	}
	defer ef.Close()
	if want := elfMachines[p.Arch]; ef.Machine != want {
		return false, fmt.Errorf("built for %s, not %s", machineName(ef.Machine), machineName(want))
	}
	if ef.Type != elf.ET_EXEC && ef.Type != elf.ET_DYN {
		return false, fmt.Errorf("not an executable (ELF type %s)", ef.Type)
	}
	for _, prog := range ef.Progs {
		if prog.Type == elf.PT_INTERP {
			return false, errors.New("dynamically linked; build with CGO_ENABLED=0")
		}
	}
	for _, s := range ef.Sections {
		if s.Type == elf.SHT_SYMTAB || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			return true, nil
		}
	}
	return false, nil
}

func machineName(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_AARCH64:
		return "arm64"
	}
	return m.String()
}

// describe returns path's Build, hashing it unless the cache already
// knows this path at this modification time and size.
func describe(path string, p Platform) (Build, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Build{}, err
	}
	key := sumKey{path: path, mtime: st.ModTime().UnixNano(), size: st.Size()}
	sum, err := sums.get(key)
	if err != nil {
		return Build{}, err
	}
	return Build{Platform: p, Path: path, SHA256: sum, Size: st.Size()}, nil
}

type sumKey struct {
	path  string
	mtime int64 // UnixNano
	size  int64
}

type sumEntry struct {
	once sync.Once
	sum  string
	err  error
}

// sumCache hashes each (path, mtime, size) once, even when many hosts ask
// at the same moment.
type sumCache struct {
	mu      sync.Mutex
	entries map[sumKey]*sumEntry
	hashed  atomic.Int64 // files hashed, for tests
}

var sums = &sumCache{entries: map[sumKey]*sumEntry{}}

func (c *sumCache) get(k sumKey) (string, error) {
	c.mu.Lock()
	e, ok := c.entries[k]
	if !ok {
		e = &sumEntry{}
		c.entries[k] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		c.hashed.Add(1)
		e.sum, e.err = FileSHA256(k.path)
	})
	if e.err != nil {
		// Do not remember failures: the next caller tries again.
		c.mu.Lock()
		if c.entries[k] == e {
			delete(c.entries, k)
		}
		c.mu.Unlock()
	}
	return e.sum, e.err
}

// FileSHA256 is the hex SHA-256 of a file's content: the checksum that
// names a worker build.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("checksum %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
