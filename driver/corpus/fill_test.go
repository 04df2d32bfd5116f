package corpus

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A download or decompression that comes to the wrong size fails with the
// size and leaves neither the file nor its temporary file behind.
func TestWrongSizeLeavesNoFileBehind(t *testing.T) {
	plain := genDocs(50)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("short")) }))
	defer srv.Close()
	for _, tc := range []struct {
		name    string
		spec    Spec
		archive []byte // put in the track directory when set
		wantErr string
	}{
		{name: "download", spec: Spec{Corpus: "c", SourceFile: "docs.json.gz", BaseURL: srv.URL, DocumentCount: 1, CompressedBytes: 999},
			wantErr: "got 5 bytes, the track says 999"},
		{name: "decompress", spec: Spec{Corpus: "c", SourceFile: "docs.json.gz", DocumentCount: 50, UncompressedBytes: int64(len(plain)) + 1},
			archive: compressGz(t, plain), wantErr: "uncompressed-bytes in the track says"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trackDir, dataDir := t.TempDir(), t.TempDir()
			if tc.archive != nil {
				writeFile(t, filepath.Join(trackDir, tc.spec.SourceFile), tc.archive)
			}
			_, err := Prepare(context.Background(), tc.spec, Options{TrackDir: trackDir, DataDir: dataDir})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			entries, err := os.ReadDir(filepath.Join(dataDir, "c"))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			for _, e := range entries {
				t.Errorf("left behind: %s", e.Name())
			}
		})
	}
}

func TestDocumentFileNameDropsOnlyArchiveSuffixes(t *testing.T) {
	for in, want := range map[string]string{
		"documents.json.bz2": "documents.json",
		"documents.json.gz":  "documents.json",
		"documents.json.zst": "documents.json",
		"documents.json":     "documents.json",
		"documents.json.xz":  "documents.json.xz",
	} {
		if got := DocumentFileName(in); got != want {
			t.Errorf("DocumentFileName(%q) = %q, want %q", in, got, want)
		}
	}
}
