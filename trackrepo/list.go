package trackrepo

import (
	"path/filepath"
	"strings"

	"rally/driver/corpus"
	"rally/track"
)

// Summary is what `rally list tracks` shows of one track. Its JSON field
// names are stable.
type Summary struct {
	// Name is the track's path in the repository, what --track takes.
	Name string `json:"name"`
	// Description is track.json's "description".
	Description string `json:"description"`
	// Documents is the number of documents of all its corpora.
	Documents int64 `json:"documents"`
	// CompressedBytes and UncompressedBytes are the corpora's sizes, nil
	// when a documents file does not say (as rally info counts them).
	CompressedBytes   *int64 `json:"compressed_bytes"`
	UncompressedBytes *int64 `json:"uncompressed_bytes"`
	// DefaultChallenge is the challenge a race runs without --challenge.
	DefaultChallenge string `json:"default_challenge"`
	// Challenges are the names of all its challenges, in the track's
	// order.
	Challenges []string `json:"challenges"`
	// Corpora say, per corpus, whether its documents files are on this
	// machine (in the track's directory or the data directory), so that a
	// race needs no download.
	Corpora []CorpusState `json:"corpora"`
	// Error is why the track did not load ("" when it did); the other
	// fields but Name are then empty.
	Error string `json:"error,omitempty"`
}

// CorpusState is one corpus of a Summary.
type CorpusState struct {
	Name    string `json:"name"`
	Present bool   `json:"present"`
}

// List loads every track of the repository (with its default
// parameters) and summarises it. A track that does not load is listed with
// its error, not left out. dataDir is rally's data directory
// (~/.rally/benchmarks/data), where downloaded corpora are.
func (r *Repo) List(dataDir string) ([]Summary, error) {
	names, err := r.Tracks()
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(names))
	for _, name := range names {
		out = append(out, Summarize(name, filepath.Join(r.Dir, filepath.FromSlash(name)), dataDir))
	}
	return out, nil
}

// Summarize loads the track in dir and summarises it under name.
func Summarize(name, dir, dataDir string) Summary {
	s := Summary{Name: name, Challenges: []string{}, Corpora: []CorpusState{}}
	t, err := track.Load(track.LoadOptions{Path: dir})
	if err != nil {
		s.Error = err.Error()
		return s
	}
	s.Description = t.Description
	for _, c := range t.Challenges {
		s.Challenges = append(s.Challenges, c.Name)
		if c.Default {
			s.DefaultChallenge = c.Name
		}
	}
	var compressed, uncompressed int64
	compressedKnown, uncompressedKnown := true, true
	for _, c := range t.Corpora {
		present := true
		for _, d := range c.Documents {
			s.Documents += d.DocumentCount
			compressed += d.CompressedBytes
			uncompressed += d.UncompressedBytes
			compressedKnown = compressedKnown && d.CompressedBytes > 0
			uncompressedKnown = uncompressedKnown && d.UncompressedBytes > 0
			ok, err := corpus.Present(corpus.Spec{Corpus: c.Name, SourceFile: d.SourceFile, DocumentFile: d.DocumentFile,
				CompressedBytes: d.CompressedBytes, UncompressedBytes: d.UncompressedBytes},
				corpus.Options{TrackDir: t.Dir, DataDir: dataDir})
			present = present && ok && err == nil
		}
		s.Corpora = append(s.Corpora, CorpusState{Name: c.Name, Present: present})
	}
	if compressedKnown && compressed > 0 {
		s.CompressedBytes = &compressed
	}
	if uncompressedKnown && uncompressed > 0 {
		s.UncompressedBytes = &uncompressed
	}
	return s
}

// CorporaState says in a word whether a summary's corpora are here:
// "present", "missing" (naming the missing ones when some are there),
// "none" for a track without corpora, "" when it did not load.
func (s Summary) CorporaState() string {
	if s.Error != "" {
		return ""
	}
	if len(s.Corpora) == 0 {
		return "none"
	}
	var missing []string
	for _, c := range s.Corpora {
		if !c.Present {
			missing = append(missing, c.Name)
		}
	}
	switch {
	case len(missing) == 0:
		return "present"
	case len(missing) == len(s.Corpora):
		return "missing"
	}
	return "missing: " + strings.Join(missing, ",")
}
