package race

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"rally/driver"
	"rally/driver/corpus"
	"rally/report"
	"rally/track"
)

// CorpusSource is how a race's documents files reach the load drivers
// (--corpus-source).
type CorpusSource string

// The corpus sources. The default pushes each file the coordinator has
// and lets every host download the others from the track's base-url.
const (
	CorpusAuto CorpusSource = ""
	// CorpusPush sends each load driver the slices of each documents file
	// that its clients read, and their offset tables, from the
	// coordinator's copy; a file the coordinator lacks is an error.
	CorpusPush CorpusSource = "push"
	// CorpusDownload has every host find or download whole files itself.
	CorpusDownload CorpusSource = "download"
	// CorpusLocal has every host use the files it already has (in the
	// track directory or its data directory), naming any that is missing.
	CorpusLocal CorpusSource = "local"
)

// CorpusSources are the values --corpus-source takes.
var CorpusSources = []CorpusSource{CorpusPush, CorpusDownload, CorpusLocal}

// CorpusOptions say how a race's corpora reach the load drivers.
type CorpusOptions struct {
	Source CorpusSource `json:"source,omitempty"`
	// PushHosts is how many hosts are pushed to at once (0: 8).
	PushHosts int `json:"push_hosts,omitempty"`
	// PushWrites is how many files are written at once on each host (0:
	// 4), each with up to 32 SFTP writes of 32 KiB in flight.
	PushWrites int `json:"push_writes,omitempty"`
}

// Check refuses an unknown source or a negative bound.
func (o CorpusOptions) Check() error {
	if o.Source != CorpusAuto && !slices.Contains(CorpusSources, o.Source) {
		return fmt.Errorf("--corpus-source %q: want push, download or local", o.Source)
	}
	if o.PushHosts < 0 || o.PushWrites < 0 {
		return fmt.Errorf("--corpus-push-hosts and --corpus-push-writes: want 1 or more (0: the default)")
	}
	return nil
}

// MemberCorpus is what Start tells a member of the race's corpora.
type MemberCorpus struct {
	Source CorpusSource `json:"source,omitempty"`
	// Pushed are the documents files the coordinator pushed for the race,
	// each with the pieces this member got (none when its clients read
	// none of the file). Every other file is found, or downloaded unless
	// Source is local.
	Pushed []PushedFile `json:"pushed,omitempty"`
}

// PushedFile is one pushed documents file's pieces on a member.
type PushedFile struct {
	Corpus string         `json:"corpus"`
	File   string         `json:"file"` // the uncompressed documents file's name
	Pieces []corpus.Piece `json:"pieces,omitempty"`
}

// CorpusDelivery brings a race's corpora to its members before they are
// started (the coordinator's push); progress reports each host's push as
// it goes. It returns what each member's Start carries.
type CorpusDelivery func(ctx context.Context, progress func(host string, p report.CorpusPush)) (map[string]MemberCorpus, error)

// CorpusNeed is the lines of one documents file a member's clients read.
type CorpusNeed struct {
	Spec  corpus.Spec
	Lines []corpus.LineRange
}

// CorpusFiles lists the documents files the plan's tasks read, once each,
// in schedule order.
func (p *Plan) CorpusFiles() ([]corpus.Spec, error) {
	uses, err := driver.CorpusUses(p.Track, p.Challenge)
	if err != nil {
		return nil, err
	}
	return uniqueSpecs(uses), nil
}

func uniqueSpecs(uses []driver.CorpusUse) []corpus.Spec {
	var out []corpus.Spec
	seen := map[[2]string]bool{}
	for _, u := range uses {
		k := [2]string{u.Spec.Corpus, u.Spec.DocumentName()}
		if !seen[k] {
			seen[k] = true
			out = append(out, u.Spec)
		}
	}
	return out
}

// CorpusNeeds returns, by member, the lines of each documents file its
// clients read in this race when each step's clients are spread over
// members as the race spreads them: a file appears for every member, with
// no lines when its clients read none of it. The members' needs together
// cover every line any client reads.
func (p *Plan) CorpusNeeds(members []string) (map[string][]CorpusNeed, error) {
	uses, err := driver.CorpusUses(p.Track, p.Challenge)
	if err != nil {
		return nil, err
	}
	specs := uniqueSpecs(uses)
	lines := map[string]map[[2]string][]corpus.LineRange{}
	for _, m := range members {
		lines[m] = map[[2]string][]corpus.LineRange{}
	}
	shares := map[int]map[string][]TaskShare{}
	for _, u := range uses {
		if shares[u.Step] == nil {
			shares[u.Step] = spread(p.Challenge.Schedule[u.Step], members)
		}
		k := [2]string{u.Spec.Corpus, u.Spec.DocumentName()}
		for m, ss := range shares[u.Step] {
			for _, sh := range ss {
				if sh.Task == u.Task {
					lines[m][k] = append(lines[m][k], corpus.ClientRanges(u.Spec.DocumentCount, u.Spec, u.Clients, sh.ClientIndexes)...)
				}
			}
		}
	}
	out := map[string][]CorpusNeed{}
	for _, m := range members {
		for _, s := range specs {
			k := [2]string{s.Corpus, s.DocumentName()}
			out[m] = append(out[m], CorpusNeed{Spec: s, Lines: corpus.MergeRanges(lines[m][k])})
		}
	}
	return out, nil
}

// readyCorpora makes the race's documents files ready to be found on this
// member as Start says they come: pushed pieces are checked and recorded;
// for the other files pieces of an earlier race are set aside, and with
// the local source each must already be here.
func (s *member) readyCorpora(st Start, t *track.Track, c *track.Challenge) error {
	uses, err := driver.CorpusUses(t, c)
	if err != nil {
		return err
	}
	pushed := map[[2]string]PushedFile{}
	for _, f := range st.Corpus.Pushed {
		pushed[[2]string{f.Corpus, f.File}] = f
	}
	var missing []string
	for _, spec := range uniqueSpecs(uses) {
		if f, ok := pushed[[2]string{spec.Corpus, spec.DocumentName()}]; ok {
			if err := corpus.UsePieces(s.cfg.DataDir, spec, f.Pieces); err != nil {
				return fmt.Errorf("corpus %q: %w", spec.Corpus, err)
			}
			continue
		}
		if err := corpus.DropPieces(s.cfg.DataDir, spec); err != nil {
			return fmt.Errorf("corpus %q: %w", spec.Corpus, err)
		}
		if st.Corpus.Source != CorpusLocal {
			continue
		}
		o := corpus.Options{TrackDir: t.Dir, DataDir: s.cfg.DataDir}
		if ok, err := corpus.Present(spec, o); err != nil {
			return fmt.Errorf("corpus %q: %w", spec.Corpus, err)
		} else if !ok {
			missing = append(missing, missingFile(spec, o))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("--corpus-source local: this host lacks %s", strings.Join(missing, "; "))
	}
	return nil
}

// missingFile names what Prepare would look for of spec, and where.
func missingFile(spec corpus.Spec, o corpus.Options) string {
	names := spec.DocumentName()
	if a := spec.SourceFile; a != "" && a != names {
		names += " or " + a
	}
	var dirs []string
	for _, d := range []string{o.TrackDir, o.DataDir} {
		if d == o.DataDir && d != "" {
			d += "/" + spec.Corpus
		}
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	return fmt.Sprintf("corpus %q: %s in %s", spec.Corpus, names, strings.Join(dirs, " or "))
}

// deliverCorpora runs the plan's corpus delivery, if any, before the
// members start: its progress is the race's (published four times a
// second), and an abort stops it. It returns what each member's Start
// says of the corpora.
func (c *Conductor) deliverCorpora(ctx context.Context, cur *run, p *Plan, members []string, aborted <-chan struct{}) (map[string]MemberCorpus, error) {
	if p.Corpora == nil {
		// Nothing to push (a race on this machine): the members only
		// learn the source.
		out := map[string]MemberCorpus{}
		for _, m := range members {
			out[m] = MemberCorpus{Source: p.Request.Corpus.Source}
		}
		return out, nil
	}
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watched := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // an abort stops the push
		defer wg.Done()
		select {
		case <-aborted:
			cancel()
		case <-watched:
		}
	}()
	defer func() { close(watched); wg.Wait() }()
	stopTicker := c.tickProgress(cur, p)
	out, err := p.Corpora(dctx, func(host string, cp report.CorpusPush) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if cur.progress.CorpusPush == nil {
			cur.progress.CorpusPush = map[string]report.CorpusPush{}
		}
		cur.progress.CorpusPush[host] = cp
	})
	stopTicker()
	select {
	case <-aborted:
		return nil, errAborted
	default:
	}
	if err != nil {
		return nil, fmt.Errorf("push corpora: %w", err)
	}
	c.publish(c.snapshot(cur, p))
	return out, nil
}

// corpusPush is the race's record of the corpus push, by host.
func (c *Conductor) corpusPush(cur *run) map[string]report.CorpusPush {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(cur.progress.CorpusPush)
}
