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
	// Bytes is the number of bytes sent (0 when nothing was uploaded):
	// for a worker build, its compressed size.
	Bytes int64
}

// Push makes sure the host has build b at <workdir>/bin/<b.RemoteName()>.
// workdir is absolute, or relative to the SSH user's home ("~/.rally" or
// ".rally"). A file already there with the right size is trusted (the
// name is its checksum, and it got there only through the check below):
// nothing is compressed or sent. Otherwise the build goes gzip-compressed
// (pk compresses each build once and caches it) to a temporary name in the
// same directory, with concurrent SFTP writes; one command on the host then
// decompresses it with gzip -dc (gzip is on every Linux host), checks the
// result with sha256sum against b's checksum, makes it executable and
// renames it into place. Any failure removes both temporary files. progress,
// if not nil, is called as compressed bytes are read for sending, one call
// at a time but not necessarily from Push's goroutine.
func Push(ctx context.Context, c *remote.Client, b Build, pk *Packer, workdir string, progress func(sent, total int64)) (PushResult, error) {
	res, err := push(ctx, c, upload{
		want: File{Path: b.Path, SHA256: b.SHA256, Size: b.Size},
		send: func() (File, error) {
			p, err := pk.Pack(b)
			if err != nil {
				return File{}, err
			}
			return File{Path: p.Path, Size: p.Size}, nil
		},
		gzip: true,
		kind: "bin", name: b.RemoteName(), mode: 0o755, what: "upload worker",
	}, workdir, progress)
	if wrong := (*wrongBytesError)(nil); errors.As(err, &wrong) {
		// Whatever spoiled the bytes, the next push starts from a build
		// compressed afresh.
		pk.Discard(b)
		err = fmt.Errorf("%w (the compressed build was dropped from the cache: the next push compresses it again)", err)
	}
	return res, err
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
// into place. It goes as it is, not compressed: a distribution archive
// goes this way, compressed already.
func PushFile(ctx context.Context, c *remote.Client, f File, workdir, kind string, progress func(sent, total int64)) (PushResult, error) {
	sum := f.SHA256
	if len(sum) > 16 {
		sum = sum[:16]
	}
	return push(ctx, c, upload{
		want: f,
		send: func() (File, error) { return f, nil },
		kind: kind, name: sum + "-" + filepath.Base(f.Path), mode: 0o644, what: "push " + filepath.Base(f.Path),
	}, workdir, progress)
}

// upload is one content-addressed file for push.
type upload struct {
	// want is what the host must end up with: its checksum and size.
	want File
	// send gives the local file whose bytes go over the wire: want itself,
	// or want gzip-compressed (gzip set). It is called only when the host
	// lacks the file.
	send func() (File, error)
	gzip bool
	// kind is the directory under the workdir, name the file's name there.
	kind, name string
	mode       os.FileMode
	what       string // for errors: "upload worker"
}

func push(ctx context.Context, c *remote.Client, u upload, workdir string, progress func(sent, total int64)) (PushResult, error) {
	host := c.Target().Name
	fail := func(format string, args ...any) (PushResult, error) {
		return PushResult{}, fmt.Errorf("%s: %s: "+format, append([]any{host, u.what}, args...)...)
	}
	sc, err := c.SFTP()
	if err != nil {
		return fail("%w", err)
	}
	dir, err := resolveWorkdir(sc, workdir)
	if err != nil {
		return fail("%w", err)
	}
	bin := path.Join(dir, u.kind)
	final := path.Join(bin, u.name)
	if st, err := sc.Stat(final); err == nil && st.Mode().IsRegular() && st.Size() == u.want.Size {
		return PushResult{RemotePath: final}, nil
	}

	send, err := u.send()
	if err != nil {
		return fail("%w", err)
	}
	if err := sc.MkdirAll(bin); err != nil {
		return fail("create %s: %w", bin, err)
	}
	local, err := os.Open(send.Path)
	if err != nil {
		return fail("%w", err)
	}
	defer local.Close()
	tmp := path.Join(bin, "."+u.name+".tmp-"+randomHex(6))
	sent := tmp
	if u.gzip {
		sent += ".gz"
	}
	f, err := sc.OpenFile(sent, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fail("create %s: %w", sent, err)
	}
	finished := false
	defer func() {
		if !finished {
			// Best effort: the finishing command removes both itself unless
			// it was killed.
			f.Close()
			sc.Remove(sent)
			sc.Remove(tmp)
		}
	}()

	src := &progressReader{ctx: ctx, r: local, total: send.Size, progress: progress}
	n, err := f.ReadFrom(src)
	if err != nil {
		return fail("write %s: %w", sent, err)
	}
	if n != send.Size {
		return fail("write %s: sent %d bytes of %d: %s changed meanwhile", sent, n, send.Size, send.Path)
	}
	if err := f.Close(); err != nil {
		return fail("close %s: %w", sent, err)
	}
	if err := finish(ctx, c, finishArgs{sent: sent, tmp: tmp, final: final, sum: u.want.SHA256, mode: u.mode, gzip: u.gzip}); err != nil {
		return fail("%w", err)
	}
	finished = true
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
