package corpus

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPresent(t *testing.T) {
	spec := Spec{Corpus: "c", SourceFile: "docs.json.bz2", CompressedBytes: 3, UncompressedBytes: 5}
	tests := []struct {
		name  string
		files map[string]string // path under a temporary root: content
		want  bool
	}{
		{"nothing", nil, false},
		{"uncompressed_in_the_track_directory", map[string]string{"track/docs.json": "12345"}, true},
		{"archive_in_the_track_directory", map[string]string{"track/docs.json.bz2": "123"}, true},
		{"uncompressed_in_the_data_directory", map[string]string{"data/c/docs.json": "12345"}, true},
		{"archive_in_the_data_directory", map[string]string{"data/c/docs.json.bz2": "123"}, true},
		{"wrong_sizes", map[string]string{"track/docs.json": "1234", "data/c/docs.json.bz2": "1234"}, false},
		{"another_corpus", map[string]string{"data/other/docs.json": "12345"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for p, text := range tt.files {
				p = filepath.Join(root, p)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Present(spec, Options{TrackDir: filepath.Join(root, "track"), DataDir: filepath.Join(root, "data")})
			if err != nil || got != tt.want {
				t.Errorf("Present = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
