package payload

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/pkg/sftp"

	"rally/remote"
)

// PushResult says where the build is on the host and what it took.
type PushResult struct {
	// RemotePath is the absolute path of the binary on the host.
	RemotePath string
	// Uploaded is false when the host already had the build.
	Uploaded bool
	// Bytes is the number of bytes sent (0 when nothing was uploaded).
	Bytes int64
}

// Push makes sure the host has build b at <workdir>/bin/<b.RemoteName()>.
// workdir is absolute, or relative to the SSH user's home ("~/.rally" or
// ".rally"). A file already there with the right size is trusted (the
// name is its checksum) and nothing is sent. Otherwise the build is written
// to a temporary name in the same directory with concurrent SFTP writes,
// made executable, checksummed on the host with sha256sum and renamed into
// place; any failure removes the temporary file. progress, if not nil, is
// called as bytes are read for sending, one call at a time but not
// necessarily from Push's goroutine.
func Push(ctx context.Context, c *remote.Client, b Build, workdir string, progress func(sent, total int64)) (PushResult, error) {
	return push(ctx, c, File{Path: b.Path, SHA256: b.SHA256, Size: b.Size}, workdir, "bin", b.RemoteName(), 0o755, "upload worker", progress)
}

// File is a local file to push, with its checksum.
type File struct {
	Path   string
	SHA256 string // lowercase hex
	Size   int64
}

// HashFile reads a local file's size and SHA-256.
func HashFile(p string) (File, error) {
	f, err := os.Open(p)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", p, err)
	}
	return File{Path: p, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// PushFile makes sure the host has f at <workdir>/<kind>/<sha256[:16]>-<base
// name>, as Push does for builds: content-addressed, so a host that has it
// gets nothing; checked with sha256sum on the host before it is renamed
// into place. A distribution archive goes this way.
func PushFile(ctx context.Context, c *remote.Client, f File, workdir, kind string, progress func(sent, total int64)) (PushResult, error) {
	sum := f.SHA256
	if len(sum) > 16 {
		sum = sum[:16]
	}
	return push(ctx, c, f, workdir, kind, sum+"-"+filepath.Base(f.Path), 0o644, "push "+filepath.Base(f.Path), progress)
}

func push(ctx context.Context, c *remote.Client, b File, workdir, kind, name string, mode os.FileMode, what string, progress func(sent, total int64)) (PushResult, error) {
	host := c.Target().Name
	fail := func(format string, args ...any) (PushResult, error) {
		return PushResult{}, fmt.Errorf("%s: %s: "+format, append([]any{host, what}, args...)...)
	}
	sc, err := c.SFTP()
	if err != nil {
		return fail("%w", err)
	}
	dir, err := resolveWorkdir(sc, workdir)
	if err != nil {
		return fail("%w", err)
	}
	bin := path.Join(dir, kind)
	final := path.Join(bin, name)
	if st, err := sc.Stat(final); err == nil && st.Mode().IsRegular() && st.Size() == b.Size {
		return PushResult{RemotePath: final}, nil
	}

	if err := sc.MkdirAll(bin); err != nil {
		return fail("create %s: %w", bin, err)
	}
	local, err := os.Open(b.Path)
	if err != nil {
		return fail("%w", err)
	}
	defer local.Close()
	tmp := path.Join(bin, "."+name+".tmp-"+randomHex(6))
	f, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fail("create %s: %w", tmp, err)
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
			sc.Remove(tmp)
		}
	}()

	src := &progressReader{ctx: ctx, r: local, total: b.Size, progress: progress}
	n, err := f.ReadFrom(src)
	if err != nil {
		return fail("write %s: %w", tmp, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fail("chmod %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fail("close %s: %w", tmp, err)
	}

	res, err := c.Run(ctx, "sha256sum "+remote.ShellQuote(tmp), nil)
	if err != nil {
		return fail("verify: %w", err)
	}
	if res.ExitStatus != 0 {
		return fail("verify: sha256sum exited with status %d: %s", res.ExitStatus, strings.TrimSpace(string(res.Stderr)))
	}
	got, _, _ := strings.Cut(strings.TrimSpace(string(res.Stdout)), " ")
	if !strings.EqualFold(got, b.SHA256) {
		return fail("checksum mismatch: got %s, want %s", abbrev(got), abbrev(b.SHA256))
	}

	if err := rename(sc, tmp, final); err != nil {
		return fail("rename %s to %s: %w", tmp, final, err)
	}
	keep = true
	return PushResult{RemotePath: final, Uploaded: true, Bytes: n}, nil
}

// resolveWorkdir makes workdir absolute against the SFTP server's starting
// directory, which is the user's home.
func resolveWorkdir(sc *sftp.Client, workdir string) (string, error) {
	if workdir == "" {
		return "", errors.New("no remote work directory")
	}
	if path.IsAbs(workdir) {
		return path.Clean(workdir), nil
	}
	rel := workdir
	switch {
	case rel == "~":
		rel = "."
	case strings.HasPrefix(rel, "~/"):
		rel = rel[2:]
	case strings.HasPrefix(rel, "~"):
		return "", fmt.Errorf("work directory %q: only ~ (the SSH user's home) is supported, not ~user", workdir)
	}
	home, err := sc.Getwd()
	if err != nil {
		return "", fmt.Errorf("find home directory: %w", err)
	}
	return path.Join(home, rel), nil
}

// rename replaces newname atomically when the server supports
// posix-rename@openssh.com; plain SFTP rename fails if newname exists.
func rename(sc *sftp.Client, oldname, newname string) error {
	if _, ok := sc.HasExtension("posix-rename@openssh.com"); ok {
		return sc.PosixRename(oldname, newname)
	}
	sc.Remove(newname)
	return sc.Rename(oldname, newname)
}

// progressReader reports progress and stops at ctx's end. Size lets
// sftp.File.ReadFrom choose concurrent writes.
type progressReader struct {
	ctx      context.Context
	r        io.Reader
	sent     int64
	total    int64
	progress func(sent, total int64)
}

func (p *progressReader) Size() int64 { return p.total }

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.r.Read(b)
	if n > 0 {
		p.sent += int64(n)
		if p.progress != nil {
			p.progress(p.sent, p.total)
		}
	}
	return n, err
}

func abbrev(sum string) string {
	if len(sum) > 16 {
		return sum[:16] + "…"
	}
	if sum == "" {
		return "(nothing)"
	}
	return sum
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
