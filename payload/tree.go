package payload

import (
	"github.com/pkg/sftp"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"

	"rally/remote"
)

// TreeResult says where a pushed directory is on the host.
type TreeResult struct {
	// RemoteDir is the absolute directory on the host.
	RemoteDir string
	Uploaded  bool
	Files     int
	Bytes     int64
}

// PushTree makes sure the host has a copy of the local directory dir (a
// track with its files) at <workdir>/<kind>/<base name>-<checksum>: the
// checksum covers every file's relative path and content, so a host that
// already has this exact tree gets nothing, and a changed tree lands beside
// the old one. The copy is written under a temporary name and renamed into
// place once complete. Only regular files and directories are copied.
func PushTree(ctx context.Context, c *remote.Client, dir, workdir, kind string) (TreeResult, error) {
	return PushTreeExcept(ctx, c, dir, workdir, kind, nil)
}

// PushTreeExcept is PushTree leaving out the files skip names (by their
// path relative to dir, slash-separated): a track without its documents
// files, which reach the hosts by other ways. A nil skip leaves out
// nothing.
func PushTreeExcept(ctx context.Context, c *remote.Client, dir, workdir, kind string, skip func(rel string) bool) (TreeResult, error) {
	host := c.Target().Name
	fail := func(format string, args ...any) (TreeResult, error) {
		return TreeResult{}, fmt.Errorf("%s: push %s: "+format, append([]any{host, dir}, args...)...)
	}
	files, sum, _, err := hashTree(dir, skip)
	if err != nil {
		return fail("%w", err)
	}
	sc, err := c.SFTP()
	if err != nil {
		return fail("%w", err)
	}
	wd, err := resolveWorkdir(sc, workdir)
	if err != nil {
		return fail("%w", err)
	}
	parent := path.Join(wd, kind)
	final := path.Join(parent, filepath.Base(dir)+"-"+sum[:16])
	res := TreeResult{RemoteDir: final, Files: len(files)}
	if st, err := sc.Stat(final); err == nil && st.IsDir() {
		return res, nil
	}
	tmp := final + ".tmp-" + randomHex(4)
	cleanup := func() { _, _ = c.Run(context.Background(), "rm -rf -- "+remote.ShellQuote(tmp), nil) }
	// What is sent is hashed as it is read, in hashTree's form: a file
	// changed since the tree was hashed makes the copy's name a lie, so
	// the copy is dropped instead of published.
	sent := sha256.New()
	for _, rel := range files {
		if err := ctx.Err(); err != nil {
			cleanup()
			return fail("%w", err)
		}
		dst := path.Join(tmp, filepath.ToSlash(rel))
		if err := sc.MkdirAll(path.Dir(dst)); err != nil {
			cleanup()
			return fail("create %s: %w", path.Dir(dst), err)
		}
		fmt.Fprintf(sent, "%s\x00", filepath.ToSlash(rel))
		n, err := copyFile(sc, filepath.Join(dir, rel), dst, sent)
		if err != nil {
			cleanup()
			return fail("%s: %w", rel, err)
		}
		fmt.Fprintf(sent, "\x00%d\x00", n)
		res.Bytes += n
	}
	if got := hex.EncodeToString(sent.Sum(nil)); got != sum {
		cleanup()
		return fail("the files changed while they were sent (checksum %s…, want %s…); try again", got[:16], sum[:16])
	}
	if len(files) == 0 {
		if err := sc.MkdirAll(tmp); err != nil {
			return fail("%w", err)
		}
	}
	if err := sc.Rename(tmp, final); err != nil {
		cleanup()
		if st, serr := sc.Stat(final); serr == nil && st.IsDir() {
			return res, nil // another push won the race
		}
		return fail("rename into place: %w", err)
	}
	res.Uploaded = true
	return res, nil
}

// copyFile uploads one local file with concurrent SFTP writes; every byte
// read also goes to hash.
func copyFile(sc *sftp.Client, src, dst string, hash io.Writer) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return 0, err
	}
	out, err := sc.Create(dst)
	if err != nil {
		return 0, err
	}
	n, err := out.ReadFrom(&progressReader{ctx: context.Background(), r: io.TeeReader(in, hash), total: st.Size()})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// hashTree lists the regular files under dir (sorted, relative) that skip
// does not name, and their combined checksum.
func hashTree(dir string, skip func(rel string) bool) ([]string, string, int64, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			if skip != nil && skip(filepath.ToSlash(rel)) {
				return nil
			}
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, "", 0, err
	}
	sort.Strings(files)
	h := sha256.New()
	var size int64
	for _, rel := range files {
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		f, err := os.Open(filepath.Join(dir, rel))
		if err != nil {
			return nil, "", 0, err
		}
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, "", 0, err
		}
		fmt.Fprintf(h, "\x00%d\x00", n)
		size += n
	}
	return files, hex.EncodeToString(h.Sum(nil)), size, nil
}
