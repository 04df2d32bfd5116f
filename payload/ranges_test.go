package payload

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// rangesOf cuts data into ranges of the given sizes, landing under dir.
func rangesOf(data []byte, dir string, sizes ...int64) []Range {
	var out []Range
	var off int64
	for i, n := range sizes {
		sum := sha256.Sum256(data[off : off+n])
		out = append(out, Range{Src: bytes.NewReader(data), Offset: off, Size: n, SHA256: hex.EncodeToString(sum[:]),
			Remote: filepath.ToSlash(filepath.Join(dir, string(rune('a'+i))))})
		off += n
	}
	return out
}

// checkLanded fails unless every range is on the host (the sshd runs on
// this machine) with exactly its bytes, and no partial file is left.
func checkLanded(t *testing.T, workdir string, data []byte, ranges []Range) {
	t.Helper()
	for _, r := range ranges {
		got, err := os.ReadFile(filepath.Join(workdir, r.Remote))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data[r.Offset:r.Offset+r.Size]) {
			t.Errorf("%s: %d bytes on the host, not the range's", r.Remote, len(got))
		}
		if _, err := os.Stat(filepath.Join(workdir, r.Remote+".part")); !os.IsNotExist(err) {
			t.Errorf("%s.part left behind: %v", r.Remote, err)
		}
	}
}

// TestPushRanges: the first push sends every byte, several files at once;
// the second sends nothing; a copy with a wrong checksum is replaced; a
// partial file a cut push left is continued from its last chunk, and sent
// again whole when what it holds is not the range's start; files an
// earlier push left in the pushed directory are removed.
func TestPushRanges(t *testing.T) {
	c := connect(t)
	ctx := context.Background()
	workdir := t.TempDir()
	data := make([]byte, 9<<20+12345)
	rand.Read(data)
	sizes := []int64{4<<20 + 100, 3 << 20, 2<<20 + 12245, 0}
	ranges := rangesOf(data, "benchmarks/data/c/f.pieces", sizes...)
	stale := filepath.Join(workdir, "benchmarks/data/c/f.pieces/0-10")
	os.MkdirAll(filepath.Dir(stale), 0o755)
	os.WriteFile(stale, []byte("old"), 0o644)
	opts := RangesOptions{Writes: 2, Exclusive: []string{"benchmarks/data/c/f.pieces"}}
	var mu sync.Mutex
	var phases []RangesPhase
	opts.Progress = func(p RangesProgress) {
		mu.Lock()
		defer mu.Unlock()
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
		if p.Sent > p.ToSend {
			t.Errorf("progress: sent %d of %d", p.Sent, p.ToSend)
		}
	}
	var total int64
	for _, n := range sizes {
		total += n
	}

	t.Run("first_push_sends_everything", func(t *testing.T) {
		res, err := PushRanges(ctx, c, workdir, ranges, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Sent != total || res.Bytes != total || res.Files != len(ranges) || res.Skipped != 0 {
			t.Errorf("first push: %+v, want %d bytes sent", res, total)
		}
		checkLanded(t, workdir, data, ranges)
		if _, err := os.Stat(stale); !os.IsNotExist(err) {
			t.Errorf("stale piece kept: %v", err)
		}
		if want := []RangesPhase{RangesCheck, RangesSend, RangesDone}; !slices.Equal(phases, want) {
			t.Errorf("phases %v, want %v", phases, want)
		}
	})
	t.Run("second_push_sends_nothing", func(t *testing.T) {
		res, err := PushRanges(ctx, c, workdir, ranges, opts)
		if err != nil || res.Sent != 0 || res.Skipped != len(ranges) {
			t.Errorf("second push: %+v, %v; want nothing sent", res, err)
		}
	})
	t.Run("corrupt_copy_is_replaced", func(t *testing.T) {
		p := filepath.Join(workdir, ranges[1].Remote)
		b, _ := os.ReadFile(p)
		b[len(b)/2] ^= 0xff
		os.WriteFile(p, b, 0o644)
		res, err := PushRanges(ctx, c, workdir, ranges, opts)
		if err != nil || res.Replaced != 1 || res.Sent != ranges[1].Size || res.Skipped != len(ranges)-1 {
			t.Errorf("push over a corrupt copy: %+v, %v; want it alone replaced", res, err)
		}
		checkLanded(t, workdir, data, ranges)
	})
	t.Run("cut_push_resumes", func(t *testing.T) {
		r := ranges[0]
		p := filepath.Join(workdir, r.Remote)
		os.Remove(p)
		// A cut after 2.5 MiB: the last chunk begun (the third) may have
		// holes, so the push goes on from 2 MiB.
		os.WriteFile(p+".part", data[r.Offset:r.Offset+5<<19], 0o644)
		res, err := PushRanges(ctx, c, workdir, ranges, opts)
		if err != nil || res.Resumed != 1 || res.Sent != r.Size-2<<20 {
			t.Errorf("resumed push: %+v, %v; want %d bytes sent", res, err, r.Size-2<<20)
		}
		checkLanded(t, workdir, data, ranges)
	})
	t.Run("partial_file_that_does_not_check_out_is_sent_again", func(t *testing.T) {
		r := ranges[0]
		p := filepath.Join(workdir, r.Remote)
		os.Remove(p)
		junk := make([]byte, 3<<20)
		os.WriteFile(p+".part", junk, 0o644)
		res, err := PushRanges(ctx, c, workdir, ranges, opts)
		if err != nil || res.Sent != (r.Size-2<<20)+r.Size {
			t.Errorf("push over a bad partial file: %+v, %v; want the rest, then all of it", res, err)
		}
		checkLanded(t, workdir, data, ranges)
	})
	t.Run("paths_outside_the_workdir_are_refused", func(t *testing.T) {
		bad := []Range{{Src: bytes.NewReader(data), Size: 1, Remote: "../escape"}}
		if _, err := PushRanges(ctx, c, workdir, bad, RangesOptions{}); err == nil {
			t.Error("a path outside the workdir was accepted")
		}
	})
}
