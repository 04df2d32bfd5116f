package payload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/pkg/sftp"
	"golang.org/x/sync/errgroup"

	"rally/remote"
)

// Range is a byte range of a local source that a host must hold as a file
// of its own (a corpus piece, its offset table).
type Range struct {
	// Src holds the bytes: Size of them from Offset.
	Src    io.ReaderAt
	Offset int64
	Size   int64
	// SHA256 is the checksum of the range's bytes (lowercase hex).
	SHA256 string
	// Remote is where the host keeps it, relative to the workdir and
	// slash-separated.
	Remote string
}

// RangesOptions tune PushRanges.
type RangesOptions struct {
	// Writes is how many files are written at once (default 4); each
	// write keeps up to 32 SFTP packets of 32 KiB in flight.
	Writes int
	// Exclusive are directories (relative to the workdir) that hold only
	// these ranges: any other file in them (an earlier push for other
	// ranges, a partial file of one) is removed.
	Exclusive []string
	// Progress, if not nil, is called as the push goes on, one call at a
	// time but not necessarily from PushRanges's goroutine.
	Progress func(RangesProgress)
}

// RangesPhase is what a push to one host is doing.
type RangesPhase string

// The phases of PushRanges, in order.
const (
	RangesCheck RangesPhase = "check" // the host's copies are checksummed
	RangesSend  RangesPhase = "send"
	RangesDone  RangesPhase = "done"
)

// RangesProgress is how far a push to one host got.
type RangesProgress struct {
	Phase RangesPhase
	// Sent is the bytes sent so far; ToSend what the host lacked when the
	// push began (a resumed file counts its rest only), plus what is sent
	// again when a resumed file did not check out.
	Sent, ToSend int64
}

// RangesResult says what a push did on one host.
type RangesResult struct {
	Files int   // ranges held by the host
	Bytes int64 // their total size
	Sent  int64 // bytes sent
	// Skipped were there and intact; Resumed were partly there and
	// continued; Replaced were there with a wrong checksum and sent anew.
	Skipped, Resumed, Replaced int
}

// rangeChunk is the unit of a range's upload: each chunk is written whole
// (its packets concurrently) before the next starts, so a cut leaves every
// byte before the last chunk begun written, and a resumed upload goes on
// from that chunk.
const rangeChunk = 1 << 20

// PushRanges makes sure the host holds each range as the file
// <workdir>/<Remote> with exactly its bytes. A file already there is
// checksummed on the host (sha256sum) and kept when intact, replaced when
// not. A missing one is written to <Remote>.part and, when the push is
// cut, the next push continues that file from where it stopped; the whole
// file is checksummed on the host before it is renamed into place (a
// resumed one that does not match is sent again from its start). Up to
// opts.Writes files are written at once.
func PushRanges(ctx context.Context, c *remote.Client, workdir string, ranges []Range, opts RangesOptions) (RangesResult, error) {
	host := c.Target().Name
	res := RangesResult{Files: len(ranges)}
	fail := func(format string, args ...any) (RangesResult, error) {
		return res, fmt.Errorf("%s: push corpus: "+format, append([]any{host}, args...)...)
	}
	for _, r := range ranges {
		if err := checkRel(r.Remote); err != nil {
			return fail("%w", err)
		}
		res.Bytes += r.Size
	}
	for _, d := range opts.Exclusive {
		if err := checkRel(d); err != nil {
			return fail("%w", err)
		}
	}
	sc, err := c.SFTP()
	if err != nil {
		return fail("%w", err)
	}
	wd, err := resolveWorkdir(sc, workdir)
	if err != nil {
		return fail("%w", err)
	}
	report := func(p RangesProgress) {
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	report(RangesProgress{Phase: RangesCheck})

	// What the host has: intact files are kept, corrupt ones removed,
	// partial ones continued.
	var present []int
	for i, r := range ranges {
		st, err := sc.Stat(path.Join(wd, r.Remote))
		switch {
		case err != nil:
		case st.Mode().IsRegular() && st.Size() == r.Size:
			present = append(present, i)
		default:
			res.Replaced++ // the wrong size: the new one is renamed over it
		}
	}
	sums, err := remoteSums(ctx, c, wd, ranges, present)
	if err != nil {
		return fail("%w", err)
	}
	keep := map[string]bool{}
	var todo []int
	var toSend int64
	for i, r := range ranges {
		final := path.Join(wd, r.Remote)
		keep[final], keep[final+".part"] = true, true
		if got, ok := sums[i]; ok {
			if strings.EqualFold(got, r.SHA256) {
				res.Skipped++
				continue
			}
			res.Replaced++
			if err := sc.Remove(final); err != nil {
				return fail("remove corrupt %s: %w", final, err)
			}
		}
		todo = append(todo, i)
		toSend += r.Size - resumeAt(sc, final+".part", r.Size)
	}
	for _, d := range opts.Exclusive {
		if err := prune(sc, path.Join(wd, d), keep); err != nil {
			return fail("%w", err)
		}
	}

	var mu sync.Mutex
	sent := int64(0)
	progress := func(n, more int64) {
		mu.Lock()
		defer mu.Unlock()
		sent, toSend = sent+n, toSend+more
		report(RangesProgress{Phase: RangesSend, Sent: sent, ToSend: toSend})
	}
	writes := opts.Writes
	if writes <= 0 {
		writes = 4
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(writes)
	for _, i := range todo {
		r := ranges[i]
		g.Go(func() error {
			resumed, err := sendRange(gctx, c, sc, path.Join(wd, r.Remote), r, progress)
			if resumed {
				mu.Lock()
				res.Resumed++
				mu.Unlock()
			}
			return err
		})
	}
	err = g.Wait()
	res.Sent = sent
	if err != nil {
		return fail("%w", err)
	}
	report(RangesProgress{Phase: RangesDone, Sent: sent, ToSend: toSend})
	return res, nil
}

// checkRel refuses a remote path that is absolute or leaves the workdir.
func checkRel(rel string) error {
	if rel == "" || path.IsAbs(rel) || path.Clean(rel) != rel || rel == ".." || strings.HasPrefix(rel, "../") {
		return fmt.Errorf("remote path %q: want a clean path inside the workdir", rel)
	}
	return nil
}

// resumeAt is where an upload to part continues: the start of the last
// chunk begun, since only that one may have holes; 0 when there is no part
// file or it is longer than the range.
func resumeAt(sc *sftp.Client, part string, size int64) int64 {
	st, err := sc.Stat(part)
	if err != nil || !st.Mode().IsRegular() || st.Size() <= 0 || st.Size() > size {
		return 0
	}
	return (st.Size() - 1) / rangeChunk * rangeChunk
}

// sendRange uploads r to final via final.part, continuing a part file an
// earlier push left, checks the whole file's checksum on the host and
// renames it into place. A resumed file that does not check out is sent
// again from its start; a fresh one that does not is an error.
func sendRange(ctx context.Context, c *remote.Client, sc *sftp.Client, final string, r Range, progress func(sent, more int64)) (resumed bool, err error) {
	part := final + ".part"
	if err := sc.MkdirAll(path.Dir(final)); err != nil {
		return false, fmt.Errorf("create %s: %w", path.Dir(final), err)
	}
	from := resumeAt(sc, part, r.Size)
	resumed = from > 0
	for {
		if err := writeRange(ctx, sc, part, r, from, progress); err != nil {
			return resumed, err
		}
		got, err := remoteSum(ctx, c, part)
		if err != nil {
			return resumed, err
		}
		if strings.EqualFold(got, r.SHA256) {
			break
		}
		if from == 0 {
			sc.Remove(part)
			return resumed, fmt.Errorf("%s: checksum mismatch after upload: got %s, want %s", final, abbrev(got), abbrev(r.SHA256))
		}
		// What the cut left was not what it seemed: start over, and
		// there is that much more to send.
		progress(0, r.Size)
		from = 0
	}
	if err := rename(sc, part, final); err != nil {
		return resumed, fmt.Errorf("rename %s into place: %w", part, err)
	}
	return resumed, nil
}

// writeRange writes r's bytes from offset from on into part, chunk by
// chunk, and cuts the file to r's size.
func writeRange(ctx context.Context, sc *sftp.Client, part string, r Range, from int64, progress func(sent, more int64)) error {
	flags := os.O_WRONLY | os.O_CREATE
	if from == 0 {
		flags |= os.O_TRUNC
	}
	f, err := sc.OpenFile(part, flags)
	if err != nil {
		return fmt.Errorf("open %s: %w", part, err)
	}
	buf := make([]byte, rangeChunk)
	for pos := from; pos < r.Size; {
		if err := ctx.Err(); err != nil {
			f.Close()
			return err
		}
		n := min(int64(len(buf)), r.Size-pos)
		if _, err := r.Src.ReadAt(buf[:n], r.Offset+pos); err != nil && !(errors.Is(err, io.EOF) && n > 0) {
			f.Close()
			return fmt.Errorf("read local bytes for %s: %w", part, err)
		}
		if _, err := f.WriteAt(buf[:n], pos); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", part, err)
		}
		pos += n
		progress(n, 0)
	}
	if err := f.Truncate(r.Size); err != nil {
		f.Close()
		return fmt.Errorf("truncate %s: %w", part, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", part, err)
	}
	return nil
}

// remoteSum is the SHA-256 of one file on the host.
func remoteSum(ctx context.Context, c *remote.Client, file string) (string, error) {
	res, err := c.Run(ctx, "sha256sum -- "+remote.ShellQuote(file), nil)
	if err != nil {
		return "", fmt.Errorf("verify %s: %w", file, err)
	}
	if res.ExitStatus != 0 {
		return "", fmt.Errorf("verify %s: sha256sum exited with status %d: %s", file, res.ExitStatus, strings.TrimSpace(string(res.Stderr)))
	}
	got, _, _ := strings.Cut(strings.TrimSpace(string(res.Stdout)), " ")
	return got, nil
}

// remoteSums checksums the files of ranges[i] for i in which on the host,
// a few hundred per command, and returns their sums by index.
func remoteSums(ctx context.Context, c *remote.Client, wd string, ranges []Range, which []int) (map[int]string, error) {
	out := map[int]string{}
	const batch = 200
	for len(which) > 0 {
		n := min(len(which), batch)
		cmd := "cd " + remote.ShellQuote(wd) + " && sha256sum --"
		byName := map[string]int{}
		for _, i := range which[:n] {
			cmd += " " + remote.ShellQuote(ranges[i].Remote)
			byName[ranges[i].Remote] = i
		}
		which = which[n:]
		res, err := c.Run(ctx, cmd, nil)
		if err != nil {
			return nil, fmt.Errorf("checksum the host's copies: %w", err)
		}
		if res.ExitStatus != 0 {
			return nil, fmt.Errorf("checksum the host's copies: sha256sum exited with status %d: %s", res.ExitStatus, strings.TrimSpace(string(res.Stderr)))
		}
		for _, line := range strings.Split(string(res.Stdout), "\n") {
			sum, name, ok := strings.Cut(line, "  ")
			if i, known := byName[name]; ok && known {
				out[i] = sum
			}
		}
	}
	return out, nil
}

// prune removes the files in dir that keep does not name.
func prune(sc *sftp.Client, dir string, keep map[string]bool) error {
	entries, err := sc.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range entries {
		p := path.Join(dir, e.Name())
		if e.Mode().IsRegular() && !keep[p] {
			if err := sc.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove %s: %w", p, err)
			}
		}
	}
	return nil
}
