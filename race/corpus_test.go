package race

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"rally/actor"
	"rally/driver/corpus"
	"rally/estarget"
	"rally/report"
)

// writeCorpusTrack writes a track whose bulk task has clients clients over
// a corpus of docs documents with no base-url, and the documents file in
// another directory (the coordinator's copy): a member can only read what
// is pushed to it.
func writeCorpusTrack(t *testing.T, docs, clients int) (trackDir, docsFile string) {
	t.Helper()
	trackDir, src := t.TempDir(), t.TempDir()
	var b strings.Builder
	for i := 0; i < docs; i++ {
		fmt.Fprintf(&b, "{\"n\":%d,\"pad\":\"%s\"}\n", i, strings.Repeat("p", i%29))
	}
	docsFile = filepath.Join(src, "docs.json")
	if err := os.WriteFile(docsFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := fmt.Sprintf(`{"version": 2, "indices": [{"name": "idx"}],
  "corpora": [{"name": "pushed", "documents": [{"source-file": "docs.json", "document-count": %d, "uncompressed-bytes": %d, "target-index": "idx"}]}],
  "schedule": [
    {"operation": {"operation-type": "delete-index"}},
    {"operation": {"operation-type": "create-index"}},
    {"operation": {"name": "load", "operation-type": "bulk", "bulk-size": 100}, "clients": %d},
    {"parallel": {"tasks": [
      {"operation": {"name": "load-again", "operation-type": "bulk", "bulk-size": 100}, "clients": 2},
      {"operation": {"name": "q", "operation-type": "search", "index": "idx", "body": {"query": {"match_all": {}}}}, "iterations": 3}
    ]}}
  ]}`, docs, b.Len(), clients)
	if err := os.WriteFile(filepath.Join(trackDir, "track.json"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return trackDir, docsFile
}

// TestCorpusNeedsFollowTheSpread: each member needs the lines of the
// clients the race's spread gives it, in every step that reads the file;
// together the members need every line.
func TestCorpusNeedsFollowTheSpread(t *testing.T) {
	trackDir, _ := writeCorpusTrack(t, 700, 7)
	plan, err := Check(Request{TrackPath: trackDir, TargetHosts: "127.0.0.1:9200"})
	if err != nil {
		t.Fatal(err)
	}
	members := []string{"h1", "h2", "h3"}
	needs, err := plan.CorpusNeeds(members)
	if err != nil {
		t.Fatal(err)
	}
	// load: h1 runs clients 0, 3, 6 (lines 0-100, 300-400, 600-700), h2
	// 1 and 4, h3 2 and 5. load-again (2 clients, the block's first task)
	// adds lines 0-350 to h1 and 350-700 to h2.
	want := map[string][]corpus.LineRange{
		"h1": {{First: 0, End: 400}, {First: 600, End: 700}},
		"h2": {{First: 100, End: 200}, {First: 350, End: 700}},
		"h3": {{First: 200, End: 300}, {First: 500, End: 600}},
	}
	var all []corpus.LineRange
	for _, m := range members {
		if len(needs[m]) != 1 || needs[m][0].Spec.Corpus != "pushed" {
			t.Fatalf("%s: needs %+v, want one file", m, needs[m])
		}
		got := needs[m][0].Lines
		if !slices.Equal(got, want[m]) {
			t.Errorf("%s needs %v, want %v", m, got, want[m])
		}
		all = append(all, got...)
	}
	if merged := corpus.MergeRanges(all); !slices.Equal(merged, []corpus.LineRange{{First: 0, End: 700}}) {
		t.Errorf("the members need %v together, want every line", merged)
	}
}

// startMembers joins in-process members, each with its own data
// directory (as hosts have), and returns them by name.
func startMembers(t *testing.T, ctx context.Context, names ...string) (*Local, map[string]string) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	log := slog.New(slog.DiscardHandler)
	l := &Local{System: actor.NewSystem(actor.Options{Version: "test", Logger: log}), cancel: cancel, members: map[string]context.CancelFunc{}}
	dirs := map[string]string{}
	for _, n := range names {
		dirs[n] = t.TempDir()
		if err := l.join(ctx, "test", actor.HostFacts{}, MemberConfig{DataDir: dirs[n], Logger: log}, n); err != nil {
			l.Close()
			t.Fatal(err)
		}
	}
	if err := l.System.WaitMembers(ctx, names...); err != nil {
		l.Close()
		t.Fatal(err)
	}
	return l, dirs
}

// TestPushedPiecesIndexEveryDocumentOnce: a delivery that puts each
// member's pieces in its data directory (what the coordinator's push
// does over SFTP) is enough for a race: no member has the whole file,
// each reads its clients' slices from its pieces, and the target stores
// every document of both bulk tasks exactly once each.
func TestPushedPiecesIndexEveryDocumentOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const docs = 3000
	trackDir, docsFile := writeCorpusTrack(t, docs, 7)
	names := []string{"h1", "h2", "h3"}
	l, dirs := startMembers(t, ctx, names...)
	defer l.Close()
	plan, err := Check(Request{TrackPath: trackDir, TargetHosts: startTarget(t, estarget.Faults{})})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	plan.Corpora = func(ctx context.Context, progress func(string, report.CorpusPush)) (map[string]MemberCorpus, error) {
		needs, err := plan.CorpusNeeds(names)
		if err != nil {
			return nil, err
		}
		out := map[string]MemberCorpus{}
		for _, m := range names {
			mc := MemberCorpus{Source: CorpusPush}
			for _, need := range needs[m] {
				pf := PushedFile{Corpus: need.Spec.Corpus, File: need.Spec.DocumentName()}
				rec := report.CorpusPush{Phase: report.PushDone, Files: 1}
				for _, r := range need.Lines {
					p, table, err := corpus.DescribePiece(ctx, need.Spec, docsFile, nil, r)
					if err != nil {
						return nil, err
					}
					dst := filepath.Join(dirs[m], filepath.FromSlash(p.RelPath()))
					os.MkdirAll(filepath.Dir(dst), 0o755)
					os.WriteFile(dst, data[p.Offset:p.Offset+p.Size], 0o644)
					os.WriteFile(corpus.OffsetTablePath(dst), table, 0o644)
					pf.Pieces = append(pf.Pieces, p)
					rec.Pieces++
					rec.Bytes += p.Size
					rec.Sent += p.Size
				}
				progress(m, rec)
				mc.Pushed = append(mc.Pushed, pf)
			}
			out[m] = mc
		}
		return out, nil
	}
	c := NewConductor(Config{System: l.System, Store: report.Store{Dir: t.TempDir()}})
	r, err := c.Run(ctx, plan, names)
	if err != nil {
		t.Fatalf("race: %v", err)
	}
	if r.Status != report.StatusCompleted {
		t.Fatalf("race %s: %s", r.Status, r.Error)
	}
	if got := r.Summary.Cluster.DocCount; got != 2*docs {
		t.Errorf("the target counted %d documents, want %d (each of both bulk tasks once)", got, 2*docs)
	}
	for _, m := range names {
		if _, err := os.Stat(filepath.Join(dirs[m], "pushed", "docs.json")); !os.IsNotExist(err) {
			t.Errorf("%s has the whole file: %v", m, err)
		}
		if cp := r.CorpusPush[m]; !cp.Done() || cp.Bytes <= 0 || cp.Bytes >= int64(len(data)) {
			t.Errorf("%s: corpus push %+v, want a part of the %d bytes", m, cp, len(data))
		}
	}
}

// TestLocalSourceNamesWhatIsMissing: with --corpus-source local a member
// that lacks a documents file refuses the race, naming the file and
// where it looked.
func TestLocalSourceNamesWhatIsMissing(t *testing.T) {
	trackDir, _ := writeCorpusTrack(t, 100, 2)
	r, err, _ := raceOn(t, Request{TrackPath: trackDir, TargetHosts: startTarget(t, estarget.Faults{}),
		Corpus: CorpusOptions{Source: CorpusLocal}}, []string{"h1"}, nil)
	if err == nil || !strings.Contains(err.Error(), `--corpus-source local: this host lacks corpus "pushed": docs.json in `) {
		t.Fatalf("race with a missing local corpus: %v (%+v)", err, r)
	}
}
