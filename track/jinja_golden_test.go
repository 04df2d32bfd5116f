package track

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The golden files under testdata/jinja are what Python's Jinja2 renders
// from the same sources with Rally's template environment; they are
// written by scripts/jinja-golden.sh (see it for how to regenerate), never
// by hand, and rally's rendering must match them byte for byte.

var jinjaGoldenDir = filepath.Join("testdata", "jinja")

// TestJinjaGolden_cases renders each testdata/jinja/cases/NAME.j2 as a
// track file (rally.collect inlining, then rendering with Rally's globals
// and filters) and compares the text with NAME.golden; where Jinja2 raised
// an error (NAME.error) rally must fail too.
func TestJinjaGolden_cases(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join(jinjaGoldenDir, "cases"))
	if err != nil {
		t.Fatal(err)
	}
	templates, err := filepath.Glob(filepath.Join(dir, "*.j2"))
	if err != nil || len(templates) == 0 {
		t.Fatalf("no cases in %s (%v)", dir, err)
	}
	identity := func(s string) string { return s }
	for _, file := range templates {
		name := strings.TrimSuffix(filepath.Base(file), ".j2")
		t.Run(name, func(t *testing.T) {
			stem := strings.TrimSuffix(file, ".j2")
			want, wantErr := readGolden(t, stem+".golden"), readGolden(t, stem+".error")
			if want == nil && wantErr == nil {
				t.Fatalf("neither %s.golden nor %s.error: run scripts/jinja-golden.sh", name, name)
			}
			te := newTemplateEnv(dir, nil, fixedNow, "default", false, identity)
			src, err := newAssembler(identity).assemble(file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := te.render(src)
			switch {
			case wantErr != nil && err == nil:
				t.Fatalf("rendered %q; Jinja2 fails: %s", got, wantErr)
			case wantErr != nil:
				return
			case err != nil:
				t.Fatalf("render: %v\nJinja2 renders:\n%s", err, want)
			}
			compareGolden(t, got, string(want))
		})
	}
}

// TestJinjaGolden_tracks loads each shared track with each parameter set
// of testdata/jinja/tracks.json and compares the rendered track.json and
// every index or template body Rally renders with Jinja2's text.
func TestJinjaGolden_tracks(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(jinjaGoldenDir, "tracks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sets map[string]struct {
		Track       string          `json:"track"`
		Params      json.RawMessage `json:"params"`
		BuildFlavor string          `json:"build_flavor"`
	}
	if err := json.Unmarshal(raw, &sets); err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, name := range sortedKeys(sets) {
		set := sets[name]
		covered[set.Track] = true
		t.Run(name, func(t *testing.T) {
			params, err := ParseParams(string(set.Params))
			if err != nil {
				t.Fatal(err)
			}
			trackDir, err := filepath.Abs(sharedTrackPath(set.Track))
			if err != nil {
				t.Fatal(err)
			}
			goldenDir := filepath.Join(jinjaGoldenDir, "tracks", name)
			tr := mustLoad(t, LoadOptions{Path: trackDir, Params: params, BuildFlavor: set.BuildFlavor, AllowUnusedParams: true})
			compareGolden(t, tr.Rendered, string(mustReadGolden(t, filepath.Join(goldenDir, "track.json.golden"))))

			// The bodies: every other golden file of this set, rendered as
			// Load renders a body file.
			flavor := set.BuildFlavor
			if flavor == "" {
				flavor = "default"
			}
			identity := func(s string) string { return s }
			te := newTemplateEnv(trackDir, params, fixedNow, flavor, false, identity)
			bodies := 0
			err = filepath.WalkDir(goldenDir, func(path string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() || !strings.HasSuffix(path, ".golden") {
					return err
				}
				rel := strings.TrimSuffix(strings.TrimPrefix(path, goldenDir+string(filepath.Separator)), ".golden")
				if rel == "track.json" {
					return nil
				}
				bodies++
				t.Run(rel, func(t *testing.T) {
					src, err := newAssembler(identity).assemble(filepath.Join(trackDir, rel))
					if err != nil {
						t.Fatal(err)
					}
					got, err := te.render(src)
					if err != nil {
						t.Fatal(err)
					}
					compareGolden(t, got, string(mustReadGolden(t, path)))
				})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			bodyFiles := map[string]bool{}
			for _, idx := range tr.Indices {
				if idx.BodyFile != "" {
					bodyFiles[idx.BodyFile] = true
				}
			}
			if bodies != len(bodyFiles) {
				t.Errorf("%d body golden files for %d index body files: run scripts/jinja-golden.sh", bodies, len(bodyFiles))
			}
		})
	}
	for _, name := range sharedTracks {
		if !covered[name] {
			t.Errorf("track %s has no parameter set in tracks.json", name)
		}
	}
}

func readGolden(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustReadGolden(t *testing.T, path string) []byte {
	t.Helper()
	b := readGolden(t, path)
	if b == nil {
		t.Fatalf("%s is missing: run scripts/jinja-golden.sh", path)
	}
	return b
}

// compareGolden reports the first line where got and want differ.
func compareGolden(t *testing.T, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		gl, wl := lineAt(g, i), lineAt(w, i)
		if gl != wl {
			t.Fatalf("differs from Jinja2 at line %d:\n got  %q\n want %q\n(%d lines rendered, Jinja2 %d)", i+1, gl, wl, len(g), len(w))
		}
	}
}

func lineAt(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "<end of text>"
}
