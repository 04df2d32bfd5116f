package payload

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
)

// PackLevel is the gzip level builds are compressed with. Measured on a
// stripped 20 MiB rally build (klauspost/compress, one core): level 1 gives
// 44.9% of the size in 0.14 s, 6 gives 40.0% in 0.28 s, 7 gives 39.4% in
// 0.42 s and 9 gives 39.0% in 2.4 s. A build is compressed once and cached,
// and every host of a cold bring-up gets the bytes, so 7 is the last level
// before the time jumps for next to nothing. GNU gzip decompresses all of
// them at the same speed (about 0.15 s for the 20 MiB).
const PackLevel = 7

// keepPacks is how many compressed builds the cache keeps; older ones are
// removed when a new one is written (a rebuilt binary makes a new one).
const keepPacks = 8

// Packed is a worker build compressed for the wire.
type Packed struct {
	// Build is the uncompressed build: what the host must end up with.
	Build Build
	// Path is the gzip file in the cache.
	Path string
	// Size is the gzip file's size: the bytes a push sends.
	Size int64
}

// Packer compresses worker builds with gzip, once per build: each one is
// kept in its directory as rally-<sha256>.gz (the uncompressed build's
// checksum), so later bring-ups reuse it. A cached file is trusted when it is a gzip
// stream of the build's size (its trailer says so); the host checks the
// decompressed bytes against the build's checksum in any case, and a push
// that fails that check removes the cached file (Discard), so the next
// push compresses the build again. Compressing is checked as it happens:
// the bytes compressed must have the build's checksum. It is safe for
// concurrent use: many hosts asking at once compress a build once.
type Packer struct {
	dir string

	mu      sync.Mutex
	entries map[string]*packEntry // by build checksum

	compressed atomic.Int64 // builds compressed (not found in the cache), for tests
}

type packEntry struct {
	once sync.Once
	p    Packed
	err  error
}

// NewPacker returns a Packer that caches in dir (created when needed).
func NewPacker(dir string) *Packer {
	return &Packer{dir: dir, entries: map[string]*packEntry{}}
}

// PackName is the cache's file name for the build with checksum sum.
func PackName(sum string) string { return "rally-" + sum + ".gz" }

// Pack returns b compressed, from the cache or compressed now.
func (p *Packer) Pack(b Build) (Packed, error) {
	if p == nil || p.dir == "" {
		return Packed{}, errors.New("compress worker build: no cache directory")
	}
	p.mu.Lock()
	e, ok := p.entries[b.SHA256]
	if !ok {
		e = &packEntry{}
		p.entries[b.SHA256] = e
	}
	p.mu.Unlock()
	e.once.Do(func() { e.p, e.err = p.pack(b) })
	if e.err != nil {
		// Do not remember failures: the next host tries again.
		p.mu.Lock()
		if p.entries[b.SHA256] == e {
			delete(p.entries, b.SHA256)
		}
		p.mu.Unlock()
		return Packed{}, e.err
	}
	return e.p, nil
}

// Discard forgets b's compressed file and removes it from the cache: a
// host found that it does not give b back.
func (p *Packer) Discard(b Build) {
	if p == nil || p.dir == "" {
		return
	}
	p.mu.Lock()
	delete(p.entries, b.SHA256)
	p.mu.Unlock()
	os.Remove(filepath.Join(p.dir, PackName(b.SHA256)))
}

func (p *Packer) pack(b Build) (Packed, error) {
	path := filepath.Join(p.dir, PackName(b.SHA256))
	if size, err := checkPacked(path, b); err == nil {
		return Packed{Build: b, Path: path, Size: size}, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		// Not a gzip file of the build: written again below.
		os.Remove(path)
	}
	size, err := compressBuild(b, path)
	if err != nil {
		return Packed{}, fmt.Errorf("compress worker build %s: %w", b.Path, err)
	}
	p.compressed.Add(1)
	prunePacks(p.dir, path)
	return Packed{Build: b, Path: path, Size: size}, nil
}

// checkPacked tells the size of the cached file at path if it looks like
// b gzip-compressed: the gzip magic at its start, and b's size (modulo
// 2^32, as gzip keeps it) in its trailer. That catches a file cut short or
// one of another build without reading it all; decompressing 20 MiB here
// for every bring-up would cost more than the host's own check.
func checkPacked(path string, b Build) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	const header, trailer = 10, 8
	if st.Size() < header+trailer {
		return 0, fmt.Errorf("%s: too short for gzip (%d bytes)", path, st.Size())
	}
	var head [3]byte
	var tail [trailer]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := f.ReadAt(tail[:], st.Size()-trailer); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if head != [3]byte{0x1f, 0x8b, 8} {
		return 0, fmt.Errorf("%s: not a gzip file", path)
	}
	if isize := binary.LittleEndian.Uint32(tail[4:]); isize != uint32(b.Size) {
		return 0, fmt.Errorf("%s: holds %d bytes (modulo 2^32), want %d", path, isize, b.Size)
	}
	return st.Size(), nil
}

// compressBuild writes b gzip-compressed to path (through a temporary
// file and a rename, so a reader never sees half a file), checking on the
// way that the build still has the checksum it was found with.
func compressBuild(b Build, path string) (int64, error) {
	src, err := os.Open(b.Path)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".rally-*.gz.tmp")
	if err != nil {
		return 0, err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	zw, err := gzip.NewWriterLevel(tmp, PackLevel)
	if err != nil {
		return 0, err
	}
	h := sha256.New()
	n, err := io.Copy(zw, io.TeeReader(src, h))
	if err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != b.Size || got != b.SHA256 {
		return 0, fmt.Errorf("the build changed since it was checksummed: now %d bytes with checksum %s, was %d with %s", n, abbrev(got), b.Size, abbrev(b.SHA256))
	}
	st, err := tmp.Stat()
	if err != nil {
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, err
	}
	done = true
	return st.Size(), nil
}

// prunePacks removes all but the keepPacks newest compressed builds in
// dir, never keep itself. Failures are ignored: the cache only grows.
func prunePacks(dir, keep string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type pack struct {
		path  string
		mtime int64
	}
	var packs []pack
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, "rally-") || !strings.HasSuffix(name, ".gz") {
			continue
		}
		path := filepath.Join(dir, name)
		if path == keep {
			continue
		}
		if info, err := e.Info(); err == nil {
			packs = append(packs, pack{path, info.ModTime().UnixNano()})
		}
	}
	if len(packs) < keepPacks {
		return // with keep, at most keepPacks
	}
	slices.SortFunc(packs, func(a, b pack) int { return cmp.Compare(b.mtime, a.mtime) }) // newest first
	for _, old := range packs[keepPacks-1:] {
		os.Remove(old.path)
	}
}
