package report

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNewRaceID(t *testing.T) {
	now := time.Date(2026, 11, 25, 11, 15, 0, 0, time.FixedZone("CET", 3600))
	id := NewRaceID(now)
	if !regexp.MustCompile(`^20261125T101500Z-[0-9a-f]{6}$`).MatchString(id) {
		t.Fatalf("NewRaceID = %q, want 20261125T101500Z-xxxxxx (UTC)", id)
	}
	// 24 random bits: among 1000 ids of one second about 0.03 repeat on
	// average (a birthday bound), so more than a few repeats means the
	// random part is broken, while a rare single repeat is chance.
	seen := map[string]bool{}
	for range 1000 {
		seen[NewRaceID(now)] = true
	}
	if len(seen) < 995 {
		t.Fatalf("NewRaceID gave %d distinct ids of 1000 in one second", len(seen))
	}
	earlier, later := NewRaceID(now), NewRaceID(now.Add(time.Second))
	if earlier >= later {
		t.Fatalf("ids do not sort by time: %q >= %q", earlier, later)
	}
}

func TestStoreSaveAndLoad(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "races")}
	r := fixedRace()
	if err := s.Save(r); err != nil {
		t.Fatal(err)
	}
	t.Run("loads_what_was_saved", func(t *testing.T) {
		got, err := s.Load(r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("loaded race differs:\ngot  %+v\nwant %+v", got, r)
		}
	})
	t.Run("file_is_private_and_no_temp_file_is_left", func(t *testing.T) {
		dir := filepath.Join(s.Dir, r.ID)
		fi, err := os.Stat(filepath.Join(dir, "race.json"))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("race.json mode %v, want 0600", fi.Mode().Perm())
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Fatalf("race directory holds %v, want only race.json", names(entries))
		}
	})
	t.Run("saving_again_replaces_the_race", func(t *testing.T) {
		r2 := fixedRace()
		r2.Status, r2.Error = StatusAborted, "stopped by the user"
		if err := s.Save(r2); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load(r.ID)
		if err != nil || got.Status != StatusAborted {
			t.Fatalf("after second save: %+v, %v", got, err)
		}
		entries, _ := os.ReadDir(filepath.Join(s.Dir, r.ID))
		if len(entries) != 1 {
			t.Fatalf("race directory holds %v after a second save", names(entries))
		}
	})
}

func names(entries []os.DirEntry) []string {
	var n []string
	for _, e := range entries {
		n = append(n, e.Name())
	}
	return n
}

func TestStoreLoadByPrefix(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	for _, id := range []string{"20261125T101500Z-3f2a9c", "20261125T101500Z-3f2b00", "20261126T080000Z-a1b2c3"} {
		r := fixedRace()
		r.ID = id
		if err := s.Save(r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		id      string
		wantID  string
		wantErr string
	}{
		{"full_id", "20261125T101500Z-3f2a9c", "20261125T101500Z-3f2a9c", ""},
		{"unique_prefix", "20261126", "20261126T080000Z-a1b2c3", ""},
		{"longer_unique_prefix", "20261125T101500Z-3f2a", "20261125T101500Z-3f2a9c", ""},
		{"ambiguous_prefix", "20261125T", "", "ambiguous, 2 races match: 20261125T101500Z-3f2a9c, 20261125T101500Z-3f2b00"},
		{"no_match", "2025", "", "no race with that id or id prefix"},
		{"path_escape_refused", "../x", "", "not a plain name"},
		{"empty_refused", "", "", "race id is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := s.Load(tt.id)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load(%q) error = %v, want one containing %q", tt.id, err, tt.wantErr)
				}
				return
			}
			if err != nil || r.ID != tt.wantID {
				t.Fatalf("Load(%q) = %v, %v; want race %s", tt.id, r, err, tt.wantID)
			}
		})
	}
}

func TestStoreRefusesCredentials(t *testing.T) {
	tests := []struct {
		host   string
		refuse bool
	}{
		{"https://elastic:changeme@10.0.0.1:9200", true},
		{"elastic:changeme@10.0.0.1:9200", true},
		{"http://elastic@10.0.0.1:9200", true},
		{"10.0.0.1:9200", false},
		{"https://es.example:9200", false},
		{"[::1]:9200", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			s := Store{Dir: t.TempDir()}
			r := fixedRace()
			r.TargetHosts = []string{"10.0.0.9:9200", tt.host}
			err := s.Save(r)
			if (err != nil) != tt.refuse {
				t.Fatalf("Save with target %q: error %v, want refused %v", tt.host, err, tt.refuse)
			}
			if err == nil {
				return
			}
			if strings.Contains(err.Error(), "changeme") {
				t.Fatalf("error repeats the secret: %v", err)
			}
			if _, statErr := os.Stat(filepath.Join(s.Dir, r.ID)); !errors.Is(statErr, os.ErrNotExist) {
				t.Fatalf("refused race left a directory behind (%v)", statErr)
			}
		})
	}
}

func TestStoreList(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	var want []string
	for _, day := range []int{24, 26, 25} {
		r := fixedRace()
		r.Created = time.Date(2026, 11, day, 10, 0, 0, 0, time.UTC)
		r.ID = NewRaceID(r.Created)
		if err := s.Save(r); err != nil {
			t.Fatal(err)
		}
		want = append(want, r.ID)
	}
	slices.Sort(want)
	slices.Reverse(want)

	// A save torn by a crash: a directory with only a half-written temp file.
	torn := filepath.Join(s.Dir, "20261127T000000Z-deadbe")
	if err := os.MkdirAll(torn, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(torn, ".race.json.tmp-123"), []byte(`{"id": "2026`), 0o600); err != nil {
		t.Fatal(err)
	}
	// A torn temp file beside a good race.json changes nothing either.
	if err := os.WriteFile(filepath.Join(s.Dir, want[0], ".race.json.tmp-456"), []byte(`{`), 0o600); err != nil {
		t.Fatal(err)
	}
	// Stray files in the store are not races.
	if err := os.WriteFile(filepath.Join(s.Dir, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("newest_first_ignoring_torn_saves", func(t *testing.T) {
		races, err := s.List()
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(races); !reflect.DeepEqual(got, want) {
			t.Fatalf("List = %v, want %v", got, want)
		}
		if _, err := s.Load("20261127"); err == nil {
			t.Fatal("Load found the torn save")
		}
	})
	t.Run("a_broken_race_is_reported_and_the_others_listed", func(t *testing.T) {
		broken := filepath.Join(s.Dir, "20261128T000000Z-bad000")
		if err := os.MkdirAll(broken, 0o700); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(broken, "race.json")
		if err := os.WriteFile(path, []byte(`{"id": "20261128T000000Z-bad000", "created": "yesterday"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		races, err := s.List()
		if got := ids(races); !reflect.DeepEqual(got, want) {
			t.Fatalf("List = %v, want the %d good races %v", got, len(want), want)
		}
		var be *BrokenRaceError
		if !errors.As(err, &be) || be.Path != path || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "decode") {
			t.Fatalf("List error = %v, want a BrokenRaceError naming %s and the reason", err, path)
		}
	})
	t.Run("a_race_in_the_wrong_directory_is_broken", func(t *testing.T) {
		r := fixedRace()
		r.ID = "20261129T000000Z-000000"
		if err := s.Save(r); err != nil {
			t.Fatal(err)
		}
		moved := filepath.Join(s.Dir, "20261129T000000Z-111111")
		if err := os.Rename(filepath.Join(s.Dir, r.ID), moved); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load("20261129T000000Z-111111"); err == nil || !strings.Contains(err.Error(), "its directory says") {
			t.Fatalf("Load error = %v, want an id mismatch", err)
		}
	})
	t.Run("missing_store_is_empty", func(t *testing.T) {
		races, err := Store{Dir: filepath.Join(t.TempDir(), "none")}.List()
		if err != nil || len(races) != 0 {
			t.Fatalf("List of a missing store = %v, %v", races, err)
		}
	})
}

func ids(races []*Race) []string {
	var out []string
	for _, r := range races {
		out = append(out, r.ID)
	}
	return out
}

func TestStoreRefusesBadIDs(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	for _, id := range []string{"", ".", "..", "../escape", "a/b", ".hidden"} {
		r := fixedRace()
		r.ID = id
		if err := s.Save(r); err == nil {
			t.Errorf("Save accepted id %q", id)
		}
	}
}
