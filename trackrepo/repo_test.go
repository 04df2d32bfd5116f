package trackrepo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"rally/gitrepo"
	"rally/gitrepo/gittest"
)

// sharedTracks holds copies of rally-tracks' tracks (the same as
// /work/shared/tracks/rally-tracks) for tests.
const sharedTracks = "../track/testdata/rally-tracks"

// newRepository makes a git repository of tracks: geonames and nested from
// rally-tracks, the tiny example track (with its documents) nested as
// elastic/tiny, a track that does not load, and a hidden directory with a
// track.json that is not a track.
func newRepository(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "my-tracks")
	gittest.CopyTree(t, filepath.Join(sharedTracks, "geonames"), filepath.Join(dir, "geonames"))
	gittest.CopyTree(t, filepath.Join(sharedTracks, "nested"), filepath.Join(dir, "nested"))
	gittest.CopyTree(t, filepath.Join("..", "examples", "tracks", "tiny"), filepath.Join(dir, "elastic", "tiny"))
	writeFile(t, filepath.Join(dir, "broken", "track.json"), `{"version": 2, "challenges": [}`)
	writeFile(t, filepath.Join(dir, ".github", "track.json"), `{}`)
	writeFile(t, filepath.Join(dir, "README.md"), "tracks\n")
	gittest.Git(t, dir, "init", "--quiet", "--initial-branch=main")
	gittest.Git(t, dir, "add", "-A")
	gittest.Git(t, dir, "commit", "--quiet", "-m", "tracks")
	return dir
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	origin := newRepository(t)
	root := filepath.Join(t.TempDir(), "benchmarks", "tracks")

	t.Run("offline_without_a_clone", func(t *testing.T) {
		_, err := Open(ctx, root, Source{Repository: origin, Offline: true}, nil)
		if !errors.Is(err, gitrepo.ErrNotCloned) || !strings.HasPrefix(err.Error(), "track repository "+origin+": offline: ") {
			t.Fatalf("error = %v", err)
		}
	})
	r, err := Open(ctx, root, Source{Repository: origin}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Dir != filepath.Join(root, gitrepo.DirName(origin)) || r.URL != origin || r.Commit != gittest.Git(t, origin, "rev-parse", "HEAD") {
		t.Errorf("repo = %+v", r)
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "geonames", "track.json")); err != nil {
		t.Errorf("not checked out: %v", err)
	}

	t.Run("tracks_are_directories_with_a_track_json", func(t *testing.T) {
		got, err := r.Tracks()
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"broken", "elastic/tiny", "geonames", "nested"}; !reflect.DeepEqual(got, want) {
			t.Errorf("tracks = %q, want %q", got, want)
		}
	})
	t.Run("a_track_by_name", func(t *testing.T) {
		dir, err := r.TrackDir("elastic/tiny")
		if err != nil || dir != filepath.Join(r.Dir, "elastic", "tiny") {
			t.Errorf("dir = %s, %v", dir, err)
		}
	})
	for _, tt := range []struct{ name, hint string }{
		{"geonmaes", `: did you mean "geonames"? Its tracks: broken, elastic/tiny, geonames, nested`},
		{"tiny", `: did you mean "elastic/tiny"?`},
		{"http_logs", `. Its tracks: broken, elastic/tiny, geonames, nested`},
		{"../" + filepath.Base(origin), `. Its tracks:`},
		{".github", `. Its tracks:`},
	} {
		t.Run("unknown_track_"+strings.NewReplacer("/", "_", ".", "_").Replace(tt.name), func(t *testing.T) {
			_, err := r.TrackDir(tt.name)
			if !errors.Is(err, ErrUnknownTrack) || !strings.Contains(err.Error(), " at "+r.Short()+tt.hint) {
				t.Fatalf("error = %v, want %q", err, tt.hint)
			}
		})
	}
	t.Run("offline_after_the_clone_sees_no_new_commit", func(t *testing.T) {
		writeFile(t, filepath.Join(origin, "later", "track.json"), `{"version": 2, "schedule": []}`)
		gittest.Git(t, origin, "add", "-A")
		gittest.Git(t, origin, "commit", "--quiet", "-m", "later")
		r, err := Open(ctx, root, Source{Repository: origin, Offline: true}, func(m string) { t.Errorf("progress %q offline", m) })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.TrackDir("later"); !errors.Is(err, ErrUnknownTrack) {
			t.Errorf("offline: %v", err)
		}
		r, err = Open(ctx, root, Source{Repository: origin}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.TrackDir("later"); err != nil {
			t.Errorf("online: %v", err)
		}
	})
	t.Run("a_revision", func(t *testing.T) {
		first := gittest.Git(t, origin, "rev-list", "--max-parents=0", "HEAD")
		r, err := Open(ctx, root, Source{Repository: origin, Revision: first}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.TrackDir("later"); !errors.Is(err, ErrUnknownTrack) {
			t.Errorf("at the first commit: %v", err)
		}
		_, err = Open(ctx, root, Source{Repository: origin, Revision: "v9"}, nil)
		if !errors.Is(err, gitrepo.ErrUnknownRevision) {
			t.Errorf("unknown revision: %v", err)
		}
	})
}

func TestList(t *testing.T) {
	origin := newRepository(t)
	r, err := Open(context.Background(), t.TempDir(), Source{Repository: origin}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	list, err := r.List(data)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Summary{}
	for _, s := range list {
		byName[s.Name] = s
	}
	if len(list) != 4 {
		t.Fatalf("listed %d tracks, want 4: %+v", len(list), list)
	}
	if s := byName["broken"]; s.Error == "" || !strings.Contains(s.Error, "track.json") || s.CorporaState() != "" {
		t.Errorf("broken: %+v", s)
	}
	geo := byName["geonames"]
	if geo.Error != "" || !strings.Contains(geo.Description, "POIs from Geonames") || geo.DefaultChallenge != "append-no-conflicts" ||
		len(geo.Challenges) < 2 || geo.Documents != 11396503 || geo.CompressedBytes == nil || geo.CorporaState() != "missing" {
		t.Errorf("geonames: %+v", geo)
	}
	tiny := byName["elastic/tiny"]
	if tiny.Error != "" || tiny.Documents != 2000 || tiny.CorporaState() != "present" ||
		!reflect.DeepEqual(tiny.Challenges, []string{"index-and-search"}) || tiny.DefaultChallenge != "index-and-search" {
		t.Errorf("elastic/tiny: %+v", tiny)
	}

	t.Run("a_file_of_the_wrong_size_is_not_the_corpus", func(t *testing.T) {
		writeFile(t, filepath.Join(data, "geonames", "documents-2.json.bz2"), "")
		s := Summarize("geonames", filepath.Join(r.Dir, "geonames"), data)
		if s.CorporaState() != "missing" {
			t.Errorf("corpora: %s", s.CorporaState())
		}
	})
	t.Run("a_corpus_in_the_data_directory_is_present", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "tiny")
		gittest.CopyTree(t, filepath.Join(r.Dir, "elastic", "tiny"), dir)
		if err := os.Rename(filepath.Join(dir, "documents.json"), filepath.Join(data, "documents.json")); err != nil {
			t.Fatal(err)
		}
		if s := Summarize("tiny", dir, data); s.CorporaState() != "missing" {
			t.Errorf("without documents: %s", s.CorporaState())
		}
		writeFile(t, filepath.Join(data, "tiny", "x"), "")
		if err := os.Rename(filepath.Join(data, "documents.json"), filepath.Join(data, "tiny", "documents.json")); err != nil {
			t.Fatal(err)
		}
		if s := Summarize("tiny", dir, data); s.CorporaState() != "present" {
			t.Errorf("with documents in the data directory: %s", s.CorporaState())
		}
	})
}

func TestResolve(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ repository, url, name string }{
		{"", DefaultURL, DefaultName},
		{"default", DefaultURL, DefaultName},
		{"https://github.com/elastic/rally-tracks.git", "https://github.com/elastic/rally-tracks.git", DefaultName},
		{"https://example.org/tracks.git", "https://example.org/tracks.git", gitrepo.DirName("https://example.org/tracks.git")},
		{"./my-tracks", filepath.Join(wd, "my-tracks"), gitrepo.DirName(filepath.Join(wd, "my-tracks"))},
	}
	for _, tt := range tests {
		url, name := resolve(tt.repository)
		if url != tt.url || name != tt.name {
			t.Errorf("resolve(%q) = %q, %q; want %q, %q", tt.repository, url, name, tt.url, tt.name)
		}
	}
}

func TestCorporaState(t *testing.T) {
	tests := []struct {
		s    Summary
		want string
	}{
		{Summary{Error: "x"}, ""},
		{Summary{}, "none"},
		{Summary{Corpora: []CorpusState{{"a", true}, {"b", true}}}, "present"},
		{Summary{Corpora: []CorpusState{{"a", false}, {"b", false}}}, "missing"},
		{Summary{Corpora: []CorpusState{{"a", true}, {"b", false}, {"c", false}}}, "missing: b,c"},
	}
	for _, tt := range tests {
		if got := tt.s.CorporaState(); got != tt.want {
			t.Errorf("%+v: CorporaState() = %q, want %q", tt.s, got, tt.want)
		}
	}
}
