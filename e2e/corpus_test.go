package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"rally/lab"
	"rally/report"
)

// The corpus of the push tests: generated, a few MB, with no base-url,
// so a host can only read what the coordinator pushes it.
const (
	pushDocs    = 48000
	pushClients = 6
	pushCorpus  = "generated"
	pushFile    = "documents.json"
)

// writePushTrack writes a track whose one bulk task indexes a generated
// corpus of pushDocs documents (about 12 MB) with pushClients clients,
// the documents beside track.json, and returns its directory and the
// documents' size.
func writePushTrack(t *testing.T) (string, int64) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pushed")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"}
	for i := 0; i < pushDocs; i++ {
		fmt.Fprintf(&b, `{"id":%d,"title":"document %d","body":"`, i, i)
		for w := 0; w < 26+i%7; w++ {
			b.WriteString(words[(i+w)%len(words)])
			b.WriteByte(' ')
		}
		b.WriteString("\"}\n")
	}
	if err := os.WriteFile(filepath.Join(dir, pushFile), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := fmt.Sprintf(`{"version": 2, "description": "a generated corpus for the push tests",
  "indices": [{"name": "pushed"}],
  "corpora": [{"name": %q, "documents": [{"source-file": %q, "document-count": %d, "uncompressed-bytes": %d, "target-index": "pushed"}]}],
  "schedule": [
    {"operation": {"operation-type": "delete-index"}},
    {"operation": {"operation-type": "create-index"}},
    {"operation": {"name": "index-append", "operation-type": "bulk", "bulk-size": 2000}, "clients": %d},
    {"operation": {"operation-type": "refresh"}}
  ]}`, pushCorpus, pushFile, pushDocs, b.Len(), pushClients)
	if err := os.WriteFile(filepath.Join(dir, "track.json"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, int64(b.Len())
}

// piecesDir is where a lab host keeps the pushed pieces of the corpus.
const piecesDir = "/root/.rally/benchmarks/data/" + pushCorpus + "/" + pushFile + ".pieces"

// hostPieces returns the sizes of the files in a host's pieces directory,
// by name.
func hostPieces(t *testing.T, l *lab.Lab, host string) map[string]int64 {
	t.Helper()
	out, err := l.Exec(context.Background(), host, "sh", "-c", "cd "+piecesDir+" 2>/dev/null && for f in *; do [ -f \"$f\" ] && echo \"$(wc -c < \"$f\") $f\"; done; true")
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if n, name, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			sizes[name], _ = strconv.ParseInt(n, 10, 64)
		}
	}
	return sizes
}

// pushRace runs a race of the push track on the cluster and returns it as
// saved, with its stderr.
func pushRace(t *testing.T, u *user, trackDir, target string, args ...string) (*report.Race, string) {
	t.Helper()
	r := u.must(append([]string{"race", "--track-path", trackDir, "--target-hosts", target, "--report-format", "json"}, args...)...)
	race := savedRace(t, u, r)
	if race.Status != report.StatusCompleted {
		t.Fatalf("race %s: %s\n%s", race.Status, race.Error, r.stderr)
	}
	// estarget's _count after the race: every document once.
	if race.Summary.Cluster.DocCount != pushDocs {
		t.Errorf("the target counts %d documents, want %d (each once)", race.Summary.Cluster.DocCount, pushDocs)
	}
	return race, r.stderr
}

// shapeLink slows the machine's side of a host's link (what the
// coordinator sends it) to rate, e.g. "4mbit", until the test ends.
func shapeLink(t *testing.T, l *lab.Lab, host, rate string) {
	t.Helper()
	out, err := l.Exec(context.Background(), host, "ip", "-o", "link", "show")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`@if(\d+):`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("%s: no veth in %s", host, out)
	}
	all, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	veth := ""
	for _, line := range strings.Split(string(all), "\n") {
		if idx, rest, ok := strings.Cut(line, ": "); ok && idx == m[1] {
			veth, _, _ = strings.Cut(strings.Fields(rest)[0], "@")
			veth = strings.TrimSuffix(veth, ":")
		}
	}
	if veth == "" {
		t.Fatalf("%s: no link %s on the machine", host, m[1])
	}
	if out, err := exec.Command("tc", "qdisc", "replace", "dev", veth, "root", "tbf", "rate", rate, "burst", "32kb", "latency", "400ms").CombinedOutput(); err != nil {
		t.Skipf("cannot shape %s's link (%s): %v %s", host, veth, err, out)
	}
	t.Cleanup(func() { exec.Command("tc", "qdisc", "del", "dev", veth, "root").Run() })
}

// pushFigures are a host's corpus push in numbers, for the log.
func pushFigures(cp report.CorpusPush) string {
	return fmt.Sprintf("holds %d bytes in %d files, sent %d of %d it lacked (skipped %d, resumed %d, replaced %d)",
		cp.Bytes, cp.Pieces, cp.Sent, cp.ToSend, cp.Skipped, cp.Resumed, cp.Replaced)
}

// TestCorpusPush: with 3 load drivers and a corpus only the coordinator
// has, each host is pushed the slices its clients index (about a third
// of the documents' bytes, together exactly all of them, with no whole
// file anywhere) and the target counts every document once; a second
// race pushes nothing; a piece corrupted on a host is found and replaced;
// a push cut mid-way (the host's link cut while it sends) is continued by
// the next race, which sends only the rest; --corpus-source local refuses
// hosts that lack the whole file, naming it; and `rally down` leaves every
// host clean.
func TestCorpusPush(t *testing.T) {
	l := lab.Require(t, 3)
	u := newUser(t)
	target := startTarget(t, "--listen", l.Gateway()+":0")
	trackDir, docBytes := writePushTrack(t)
	upCluster(t, u, l)
	hosts := []string{"h1", "h2", "h3"}

	t.Run("each_host_gets_its_third", func(t *testing.T) {
		race, stderr := pushRace(t, u, trackDir, target)
		var sum int64
		for _, h := range hosts {
			cp, ok := race.CorpusPush[h]
			if !ok {
				t.Fatalf("race.json has no corpus push to %s: %+v", h, race.CorpusPush)
			}
			t.Logf("%s: %s", h, pushFigures(cp))
			third := docBytes / 3
			if !cp.Done() || cp.Sent != cp.Bytes || cp.Bytes < third*95/100 || cp.Bytes > third*105/100 {
				t.Errorf("%s: %+v, want about a third of %d bytes, all sent", h, cp, docBytes)
			}
			// Two clients on each host (0 and 3 on h1): two pieces and
			// their offset tables.
			if cp.Pieces != 4 || cp.Files != 1 {
				t.Errorf("%s: %d pieces of %d files, want 2 pieces and 2 tables of 1 file", h, cp.Pieces, cp.Files)
			}
			var held int64
			for name, n := range hostPieces(t, l, h) {
				if strings.HasSuffix(name, ".part") {
					t.Errorf("%s: partial file %s left", h, name)
				}
				held += n
			}
			if held != cp.Bytes {
				t.Errorf("%s holds %d bytes of pieces, the push says %d", h, held, cp.Bytes)
			}
			for _, dir := range []string{"/root/.rally/benchmarks", "/root/.rally/tracks"} {
				files, _ := l.Files(context.Background(), h, dir)
				for _, f := range files {
					if path.Base(f) == pushFile {
						t.Errorf("%s: the whole documents file is at %s", h, f)
					}
				}
			}
			sum += cp.Bytes
		}
		if sum != docBytes {
			t.Errorf("the hosts hold %d bytes in all, the documents are %d", sum, docBytes)
		}
		if !regexp.MustCompile(`h1: corpus push done: sent \d+\.\d MiB; holds`).MatchString(stderr) {
			t.Errorf("no corpus push progress on stderr:\n%s", stderr)
		}
	})

	t.Run("second_race_pushes_nothing", func(t *testing.T) {
		race, _ := pushRace(t, u, trackDir, target)
		for _, h := range hosts {
			if cp := race.CorpusPush[h]; cp.Sent != 0 || cp.Skipped != cp.Pieces {
				t.Errorf("%s: %+v, want nothing sent", h, cp)
			}
		}
	})

	t.Run("corrupt_piece_is_replaced", func(t *testing.T) {
		var victim string
		var size int64
		for name, n := range hostPieces(t, l, "h1") {
			if !strings.HasSuffix(name, ".offset") && n > size {
				victim, size = name, n
			}
		}
		if _, err := l.Exec(context.Background(), "h1", "sh", "-c",
			"printf XXXX | dd of="+piecesDir+"/"+victim+" bs=1 seek=1000 conv=notrunc 2>/dev/null"); err != nil {
			t.Fatal(err)
		}
		race, _ := pushRace(t, u, trackDir, target)
		if cp := race.CorpusPush["h1"]; cp.Replaced != 1 || cp.Sent != size {
			t.Errorf("h1 after corrupting %s (%d bytes): %+v, want it alone replaced", victim, size, race.CorpusPush["h1"])
		}
		for _, h := range hosts[1:] {
			if cp := race.CorpusPush[h]; cp.Sent != 0 {
				t.Errorf("%s: %+v, want nothing sent", h, cp)
			}
		}
	})

	t.Run("cut_push_resumes", func(t *testing.T) {
		// h2 loses its pieces and its link slows, so that its push takes
		// seconds: one file at a time, cut in the second once its first
		// 1 MiB chunk is written (a resumed upload goes on from the last
		// whole chunk), with most of the file still to come.
		if _, err := l.Exec(context.Background(), "h2", "rm", "-rf", piecesDir); err != nil {
			t.Fatal(err)
		}
		shapeLink(t, l, "h2", "2mbit")
		br := u.startRace(t, "--track-path", trackDir, "--target-hosts", target, "--corpus-push-writes", "1")
		var first int64
		eventually(t, 60*time.Second, "h2's push under way in its second piece", func() (bool, string) {
			p := hostPieces(t, l, "h2")
			var parts, done int64
			for name, n := range p {
				if strings.HasSuffix(name, ".part") {
					parts += n
				} else if !strings.HasSuffix(name, ".offset") {
					done += n
				}
			}
			first = done
			return done > 0 && parts >= 9<<17, fmt.Sprintf("pieces %v", p)
		})
		if err := l.Cut("h2"); err != nil {
			t.Fatal(err)
		}
		r := br.wait(90 * time.Second)
		if r.code == 0 || !strings.Contains(r.stderr, "h2: push corpus") {
			t.Errorf("race over a cut push: %s", r)
		}
		partial := hostPieces(t, l, "h2")
		t.Logf("h2 after the cut: %v", partial)
		if err := l.Heal("h2"); err != nil {
			t.Fatal(err)
		}
		eventually(t, 90*time.Second, "h2 joined again", func() (bool, string) {
			hv := u.hostViews()["h2"]
			return hv.Phase == "joined", hv.String()
		})
		race, _ := pushRace(t, u, trackDir, target)
		cp := race.CorpusPush["h2"]
		t.Logf("h2 after the heal: %s (its first piece, %d bytes, was complete before the cut)", pushFigures(cp), first)
		if cp.Resumed != 1 || cp.Sent <= 0 || cp.Sent >= cp.Bytes-first || cp.Skipped < 1 {
			t.Errorf("h2: %+v, want the cut piece resumed and only the rest of %d bytes sent", cp, cp.Bytes-first)
		}
		for _, h := range []string{"h1", "h3"} {
			if cp := race.CorpusPush[h]; cp.Sent != 0 {
				t.Errorf("%s: %+v, want nothing sent", h, cp)
			}
		}
	})

	t.Run("local_source_names_what_is_missing", func(t *testing.T) {
		// The hosts hold pieces, not the whole file: not enough for a
		// race that pushes nothing.
		r := u.rally("race", "--track-path", trackDir, "--target-hosts", target, "--corpus-source", "local")
		if r.code != 1 || !regexp.MustCompile(`h\d: prepare corpora: --corpus-source local: this host lacks corpus "generated": documents.json in /root/\.rally/tracks/pushed-[0-9a-f]+ or /root/\.rally/benchmarks/data/generated`).MatchString(r.stderr) {
			t.Errorf("race with --corpus-source local: %s", r)
		}
	})

	downAndCheckClean(t, u, l)
}
