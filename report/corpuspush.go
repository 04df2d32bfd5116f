package report

import (
	"fmt"
	"strings"
)

// PushPhase is how far a host's corpus push got.
type PushPhase string

// The phases of a corpus push, in order; a push that did not complete
// ends failed.
const (
	PushPrepare PushPhase = "prepare" // the pieces are cut and checksummed here
	PushCheck   PushPhase = "check"   // the host's copies are checksummed there
	PushSend    PushPhase = "send"
	PushDone    PushPhase = "done"
	PushFailed  PushPhase = "failed"
)

// CorpusPush is the push of a race's corpora to one load driver: the
// pieces (runs of lines of the documents files, and their offset tables)
// its clients read, what was already there and intact, continued after a
// cut, or replaced for a wrong checksum, and the bytes sent.
type CorpusPush struct {
	Phase PushPhase `json:"phase,omitempty"`
	// Files are the documents files pushed, Pieces the files the host
	// holds for them (pieces and offset tables), Bytes their size.
	Files  int   `json:"files"`
	Pieces int   `json:"pieces"`
	Bytes  int64 `json:"bytes"`
	// ToSend is what the host lacked when the push began (and what is
	// sent again of a resumed file that did not check out); Sent what was
	// sent.
	ToSend int64 `json:"to-send"`
	Sent   int64 `json:"sent"`
	// Skipped, Resumed and Replaced count pieces (and offset tables) that
	// were there and intact, continued where an earlier push stopped, or
	// there with a wrong checksum and sent anew.
	Skipped  int `json:"skipped"`
	Resumed  int `json:"resumed"`
	Replaced int `json:"replaced"`
}

// String says how far the push got, for people: "send 1.2 of 3.4 MiB
// (35%)", "done: sent 3.4 MiB; holds 5.1 MiB in 4 files (2 there
// already)".
func (p CorpusPush) String() string {
	mib := func(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
	switch p.Phase {
	case PushSend:
		pct := 100.0
		if p.ToSend > 0 {
			pct = 100 * float64(p.Sent) / float64(p.ToSend)
		}
		return fmt.Sprintf("send %s of %s (%.0f%%)", strings.TrimSuffix(mib(p.Sent), " MiB"), mib(p.ToSend), pct)
	case PushDone, PushFailed:
		s := fmt.Sprintf("%s: sent %s; holds %s in %d files", p.Phase, mib(p.Sent), mib(p.Bytes), p.Pieces)
		var notes []string
		for _, n := range []struct {
			k    int
			what string
		}{{p.Skipped, "there already"}, {p.Resumed, "resumed"}, {p.Replaced, "replaced (wrong checksum)"}} {
			if n.k > 0 {
				notes = append(notes, fmt.Sprintf("%d %s", n.k, n.what))
			}
		}
		if len(notes) > 0 {
			s += " (" + strings.Join(notes, ", ") + ")"
		}
		return s
	}
	return fmt.Sprintf("%s: %s in %d files", p.Phase, mib(p.Bytes), p.Pieces)
}

// Done says the push completed.
func (p CorpusPush) Done() bool { return p.Phase == PushDone }

// Failed says the push ended without completing.
func (p CorpusPush) Failed() bool { return p.Phase == PushFailed }
