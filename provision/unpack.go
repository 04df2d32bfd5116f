package provision

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/klauspost/compress/gzip"
)

// Unpack extracts a zip or tar.gz distribution archive into
// destDir/<top directory> and returns that directory.
//
// Every entry must lie under one top directory (as Elasticsearch and
// OpenSearch archives do); absolute names, names that climb out with "..",
// and symbolic links whose target leaves the top directory are refused, so
// an archive can write nowhere but its own install directory. Execute bits
// are kept (bin/ scripts stay runnable); every entry is made readable by
// all and writable only by its owner, so the user a node runs as can read
// the whole install while writing only where PrepareForUser allows.
// Set-user-ID, set-group-ID and sticky bits are dropped.
//
// The archive is extracted into a hidden staging directory beside the
// result and renamed into place at the end, so an interrupted or failed
// Unpack leaves no half-installed directory behind. An existing
// destDir/<top directory> is an error rather than being overwritten.
func Unpack(ctx context.Context, archivePath, destDir string) (installDir string, err error) {
	f, err := os.Open(archivePath)
	if err != nil {
		return "", fmt.Errorf("unpack %s: %w", archivePath, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("unpack %s: %w", archivePath, err)
	}
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return "", fmt.Errorf("unpack %s: read header: %w", archivePath, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("unpack %s: %w", archivePath, err)
	}
	var walk func(func(entry) error) error
	switch {
	case magic == [4]byte{'P', 'K', 3, 4}:
		zr, err := zip.NewReader(f, fi.Size())
		if err != nil {
			return "", fmt.Errorf("unpack %s: %w", archivePath, err)
		}
		walk = func(fn func(entry) error) error { return walkZip(zr, fn) }
	case magic[0] == 0x1f && magic[1] == 0x8b:
		walk = func(fn func(entry) error) error { return walkTarGz(f, fn) }
	default:
		return "", fmt.Errorf("unpack %s: unknown archive format (want zip or tar.gz)", archivePath)
	}
	installDir, err = extract(ctx, walk, destDir)
	if err != nil {
		return "", fmt.Errorf("unpack %s: %w", archivePath, err)
	}
	return installDir, nil
}

type entryKind int

const (
	kindDir entryKind = iota
	kindFile
	kindSymlink
	kindHardlink
)

// entry is one archive member, the same for zip and tar.
type entry struct {
	name string // as stored in the archive
	kind entryKind
	mode fs.FileMode
	link string // symlink target, or hard link source (an archive name)
	body io.Reader
}

func walkZip(zr *zip.Reader, fn func(entry) error) error {
	for _, zf := range zr.File {
		mode := zf.Mode()
		e := entry{name: zf.Name, mode: mode}
		switch {
		case mode.IsDir():
			e.kind = kindDir
		case mode&fs.ModeSymlink != 0:
			// Zip stores a symlink's target as the entry's content.
			rc, err := zf.Open()
			if err != nil {
				return fmt.Errorf("%s: %w", zf.Name, err)
			}
			target, err := io.ReadAll(io.LimitReader(rc, 4096))
			rc.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", zf.Name, err)
			}
			e.kind, e.link = kindSymlink, string(target)
		case mode.IsRegular():
			e.kind = kindFile
		default:
			return fmt.Errorf("%s: unsupported entry type %v", zf.Name, mode.Type())
		}
		if e.kind != kindFile {
			if err := fn(e); err != nil {
				return err
			}
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("%s: %w", zf.Name, err)
		}
		e.body = rc
		err = fn(e)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func walkTarGz(r io.Reader, fn func(entry) error) error {
	gz, err := gzip.NewReader(bufio.NewReaderSize(r, 1<<20))
	if err != nil {
		return err
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		e := entry{name: h.Name, mode: fs.FileMode(h.Mode).Perm(), link: h.Linkname}
		switch h.Typeflag {
		case tar.TypeDir:
			e.kind = kindDir
		case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // old archives still use TypeRegA
			e.kind, e.body = kindFile, tr
		case tar.TypeSymlink:
			e.kind = kindSymlink
		case tar.TypeLink:
			e.kind = kindHardlink
		case tar.TypeXGlobalHeader:
			continue
		default:
			return fmt.Errorf("%s: unsupported entry type %q", h.Name, h.Typeflag)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

// cleanName turns an archive name into a slash path relative to the
// archive root, refusing names that are absolute or climb out.
func cleanName(name string) (string, error) {
	if name == "" || path.IsAbs(name) || strings.HasPrefix(name, `\`) || strings.Contains(name, "\x00") {
		return "", fmt.Errorf("%q: absolute or empty name", name)
	}
	p := path.Clean(name)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("%q: name leaves the archive", name)
	}
	return p, nil
}

// splitTop splits a cleaned name into its top directory and the rest.
func splitTop(p string) (top, rest string) {
	top, rest, _ = strings.Cut(p, "/")
	if rest == "" {
		rest = "."
	}
	return top, rest
}

// insideTop reports whether target, read relative to the directory of
// rel (both relative to the top directory), stays inside the top directory.
func insideTop(rel, target string) bool {
	if target == "" || path.IsAbs(target) {
		return false
	}
	p := path.Join(path.Dir(rel), target)
	return p != ".." && !strings.HasPrefix(p, "../")
}

type deferredLink struct {
	rel, link string
	kind      entryKind
}

func extract(ctx context.Context, walk func(func(entry) error) error, destDir string) (string, error) {
	if err := os.MkdirAll(destDir, 0o755); err != nil {
		return "", err
	}
	stage, err := os.MkdirTemp(destDir, ".unpack-")
	if err != nil {
		return "", err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(stage)
		}
	}()
	root, err := os.OpenRoot(stage)
	if err != nil {
		return "", err
	}
	defer root.Close()

	var top string
	var dirs []string
	// Links are made after every file and directory exists, so no entry
	// is ever written through a link, and a hard link's source is there.
	var links []deferredLink
	err = walk(func(e entry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := cleanName(e.name)
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		t, rel := splitTop(p)
		if top == "" {
			top = t
		} else if t != top {
			return fmt.Errorf("%s: outside the top directory %s/ (an archive must hold one top directory)", e.name, top)
		}
		if rel == "." {
			if e.kind != kindDir {
				return fmt.Errorf("%s: the archive's top entry is not a directory", e.name)
			}
			return nil
		}
		switch e.kind {
		case kindDir:
			dirs = append(dirs, rel)
			return root.MkdirAll(rel, 0o755)
		case kindFile:
			if err := root.MkdirAll(path.Dir(rel), 0o755); err != nil {
				return err
			}
			return writeFile(root, rel, filePerm(e.mode), e.body)
		case kindSymlink:
			if !insideTop(rel, e.link) {
				return fmt.Errorf("%s: symbolic link to %q leaves the archive's top directory", e.name, e.link)
			}
			links = append(links, deferredLink{rel: rel, link: e.link, kind: kindSymlink})
		case kindHardlink:
			src, err := cleanName(e.link)
			if err != nil {
				return fmt.Errorf("%s: hard link: %w", e.name, err)
			}
			st, srcRel := splitTop(src)
			if st != top || srcRel == "." {
				return fmt.Errorf("%s: hard link to %q leaves the archive's top directory", e.name, e.link)
			}
			links = append(links, deferredLink{rel: rel, link: srcRel, kind: kindHardlink})
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if top == "" {
		return "", errors.New("archive is empty")
	}
	for _, l := range links {
		if err := root.MkdirAll(path.Dir(l.rel), 0o755); err != nil {
			return "", err
		}
		if l.kind == kindHardlink {
			err = root.Link(l.link, l.rel)
		} else {
			err = root.Symlink(l.link, l.rel)
		}
		if err != nil {
			return "", fmt.Errorf("%s/%s: %w", top, l.rel, err)
		}
	}
	if err := checkSymlinks(stage, links); err != nil {
		return "", fmt.Errorf("%s/%w", top, err)
	}
	// Directories are always 0755: the run-as user must traverse them, and
	// only the owner writes to them.
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range append(dirs, ".") {
		if err := root.Chmod(d, 0o755); err != nil {
			return "", err
		}
	}
	installDir := filepath.Join(destDir, top)
	if _, err := os.Lstat(installDir); err == nil {
		return "", fmt.Errorf("%s already exists", installDir)
	}
	if err := os.Rename(stage, installDir); err != nil {
		return "", err
	}
	done = true
	return installDir, nil
}

// checkSymlinks resolves every link made: each one passed a lexical check
// on its own, but a chain (a -> ., b -> a/..) can still leave the tree.
func checkSymlinks(stage string, links []deferredLink) error {
	realStage, err := filepath.EvalSymlinks(stage)
	if err != nil {
		return err
	}
	for _, l := range links {
		if l.kind != kindSymlink {
			continue
		}
		real, err := filepath.EvalSymlinks(filepath.Join(stage, filepath.FromSlash(l.rel)))
		if errors.Is(err, fs.ErrNotExist) {
			continue // dangling but lexically inside: harmless
		}
		if err != nil {
			return fmt.Errorf("%s: %w", l.rel, err)
		}
		if real != realStage && !strings.HasPrefix(real, realStage+string(filepath.Separator)) {
			return fmt.Errorf("%s: symbolic link to %q resolves outside the archive's top directory", l.rel, l.link)
		}
	}
	return nil
}

func writeFile(root *os.Root, rel string, perm fs.FileMode, body io.Reader) error {
	f, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", rel, err)
	}
	// The process umask may have taken bits away at creation (a umask of
	// 077 would hide the install from the run-as user): set them exactly.
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// filePerm keeps the execute bits of an archived file, makes it readable
// by everyone and writable only by its owner.
func filePerm(m fs.FileMode) fs.FileMode {
	p := m.Perm()&^0o022 | 0o444
	if p&0o100 != 0 {
		p |= 0o111
	}
	return p
}

// PrepareForUser gives the user a node runs as what it needs in an
// install made by Unpack: each of dirs (relative to installDir, or
// absolute, such as a data directory elsewhere) is created if missing and
// handed over, with everything in it, to that user and their primary
// group. Elasticsearch and OpenSearch write to config/ (the keystore), to
// logs/ and data/, and to the directory of their PID file.
//
// It also checks that the user can reach installDir at all: a parent
// directory without search permission for them (a 0700 temporary
// directory, a home directory) makes the engine fail later with a far
// less clear "access denied".
func PrepareForUser(installDir, userName string, dirs ...string) error {
	uid, gid, err := lookupIDs(userName)
	if err != nil {
		return fmt.Errorf("prepare %s for %s: %w", installDir, userName, err)
	}
	if err := checkReachable(installDir, uid, gid); err != nil {
		return fmt.Errorf("prepare %s for %s: %w", installDir, userName, err)
	}
	for _, d := range dirs {
		p := d
		if !filepath.IsAbs(p) {
			p = filepath.Join(installDir, d)
		}
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("prepare %s for %s: %w", installDir, userName, err)
		}
		// Directories made on the way stay their creator's, searchable by
		// all: the engine only writes in the leaf.
		if err := checkReachable(p, uid, gid); err != nil {
			return fmt.Errorf("prepare %s for %s: %w", installDir, userName, err)
		}
		err := filepath.WalkDir(p, func(q string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(q, uid, gid)
		})
		if err != nil {
			return fmt.Errorf("prepare %s for %s: %w", installDir, userName, err)
		}
	}
	return nil
}

// lookupIDs resolves a user name to its uid and primary gid.
func lookupIDs(name string) (uid, gid int, err error) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, err
	}
	uid, err = strconv.Atoi(u.Uid)
	if err != nil {
		return 0, 0, fmt.Errorf("user %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err = strconv.Atoi(u.Gid)
	if err != nil {
		return 0, 0, fmt.Errorf("user %s: gid %q: %w", name, u.Gid, err)
	}
	return uid, gid, nil
}

// checkReachable reports a directory on the way to dir (dir included)
// that the user cannot search. Supplementary groups are not considered:
// a node's directories should not depend on them.
func checkReachable(dir string, uid, gid int) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p := abs; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !canSearch(fi, uid, gid) {
			return fmt.Errorf("%s is not searchable by uid %d (mode %v): give it o+x or choose another directory", p, uid, fi.Mode().Perm())
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// canSearch reports whether uid (primary group gid) may search the
// directory fi describes.
func canSearch(fi fs.FileInfo, uid, gid int) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || uid == 0 {
		return true
	}
	perm := fi.Mode().Perm()
	switch {
	case int(st.Uid) == uid:
		return perm&0o100 != 0
	case int(st.Gid) == gid:
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}
