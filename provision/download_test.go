package provision

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestDownloadURL(t *testing.T) {
	tests := []struct {
		engine, version, goos, goarch string
		want                          string
		wantErr                       string
	}{
		{"elasticsearch", "8.17.0", "linux", "amd64",
			"https://artifacts.elastic.co/downloads/elasticsearch/elasticsearch-8.17.0-linux-x86_64.tar.gz", ""},
		{"elasticsearch", "8.17.0", "linux", "arm64",
			"https://artifacts.elastic.co/downloads/elasticsearch/elasticsearch-8.17.0-linux-aarch64.tar.gz", ""},
		{"elasticsearch", "9.2.0", "darwin", "arm64",
			"https://artifacts.elastic.co/downloads/elasticsearch/elasticsearch-9.2.0-darwin-aarch64.tar.gz", ""},
		{"elasticsearch", "7.17.28", "darwin", "amd64",
			"https://artifacts.elastic.co/downloads/elasticsearch/elasticsearch-7.17.28-darwin-x86_64.tar.gz", ""},
		{"elasticsearch", "9.0.0-beta1", "linux", "amd64",
			"https://artifacts.elastic.co/downloads/elasticsearch/elasticsearch-9.0.0-beta1-linux-x86_64.tar.gz", ""},
		{"opensearch", "2.19.1", "linux", "amd64",
			"https://artifacts.opensearch.org/releases/bundle/opensearch/2.19.1/opensearch-2.19.1-linux-x64.tar.gz", ""},
		{"opensearch", "3.0.0", "linux", "arm64",
			"https://artifacts.opensearch.org/releases/bundle/opensearch/3.0.0/opensearch-3.0.0-linux-arm64.tar.gz", ""},
		{"opensearch", "2.19.1", "darwin", "arm64", "",
			"opensearch 2.19.1: no build for darwin/arm64: supported are linux/amd64, linux/arm64"},
		{"elasticsearch", "8.17.0", "windows", "amd64", "",
			"no build for windows/amd64: supported are linux/amd64, linux/arm64, darwin/amd64, darwin/arm64"},
		{"elasticsearch", "8.17.0", "linux", "riscv64", "", "no build for linux/riscv64"},
		{"elasticsearch", "7.10.2", "linux", "arm64", "", "linux/arm64 builds start at 7.12.0"},
		{"elasticsearch", "7.15.0", "darwin", "arm64", "", "darwin/arm64 builds start at 7.16.0"},
		{"elasticsearch", "6.8.23", "linux", "amd64", "", "no per-platform distribution: supported are 7.0.0 and later"},
		{"elasticsearch", "latest", "linux", "amd64", "", `version "latest"`},
		{"solr", "9.0.0", "linux", "amd64", "", `unknown engine "solr": want elasticsearch or opensearch`},
	}
	for _, tt := range tests {
		t.Run(strings.Join([]string{tt.engine, tt.version, tt.goos, tt.goarch}, "_"), func(t *testing.T) {
			got, err := DownloadURL(tt.engine, tt.version, tt.goos, tt.goarch)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("DownloadURL = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("DownloadURL = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func sha512Hex(b []byte) string {
	sum := sha512.Sum512(b)
	return hex.EncodeToString(sum[:])
}

// distServer serves a distribution under several names, each showing one
// way a download can go wrong.
func distServer(t *testing.T, body []byte) *httptest.Server {
	t.Helper()
	sum := sha512Hex(body)
	wrong := sha512Hex([]byte("something else"))
	files := map[string]string{
		"/good.tar.gz":             string(body),
		"/good.tar.gz.sha512":      sum + "  good.tar.gz\n",
		"/bare.tar.gz":             string(body),
		"/bare.tar.gz.sha512":      strings.ToUpper(sum) + "\n",
		"/binary.tar.gz":           string(body),
		"/binary.tar.gz.sha512":    sum + " *binary.tar.gz\n",
		"/wrong.tar.gz":            string(body),
		"/wrong.tar.gz.sha512":     wrong + "  wrong.tar.gz\n",
		"/nosum.tar.gz":            string(body),
		"/othername.tar.gz":        string(body),
		"/othername.tar.gz.sha512": sum + "  good.tar.gz\n",
		"/garbled.tar.gz":          string(body),
		"/garbled.tar.gz.sha512":   "<html>not found</html>\n",
		"/truncated.tar.gz.sha512": sum + "  truncated.tar.gz\n",
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		content, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(content))
	})
	mux.HandleFunc("/truncated.tar.gz", func(w http.ResponseWriter, r *http.Request) {
		// Promise the whole body, send half, and hang up.
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:len(body)/2])
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchVerified(t *testing.T) {
	body := bytes.Repeat([]byte("distribution bytes "), 10_000)
	srv := distServer(t, body)
	sum := sha512Hex(body)
	tests := []struct {
		name    string
		file    string
		sum     string
		wantErr string
	}{
		{name: "published_sum_with_file_name", file: "good.tar.gz"},
		{name: "published_sum_alone_in_upper_case", file: "bare.tar.gz"},
		{name: "published_sum_in_binary_mode", file: "binary.tar.gz"},
		{name: "given_sum_skips_the_published_one", file: "nosum.tar.gz", sum: strings.ToUpper(sum)},
		{name: "wrong_published_sum", file: "wrong.tar.gz",
			wantErr: "sha512 mismatch: got " + sum + ", want " + sha512Hex([]byte("something else"))},
		{name: "wrong_given_sum", file: "good.tar.gz", sum: sha512Hex(nil),
			wantErr: "sha512 mismatch: got " + sum + ", want " + sha512Hex(nil)},
		{name: "malformed_given_sum", file: "good.tar.gz", sum: "abc123",
			wantErr: `expected sum: sha512 "abc123": want 128 hex digits, got 6 characters`},
		{name: "missing_published_sum", file: "nosum.tar.gz",
			wantErr: "fetch checksum: GET " + srv.URL + "/nosum.tar.gz.sha512: 404 Not Found"},
		{name: "published_sum_of_another_file", file: "othername.tar.gz",
			wantErr: `it is the sum of "good.tar.gz", not "othername.tar.gz"`},
		{name: "published_sum_that_is_not_one", file: "garbled.tar.gz",
			wantErr: "want 128 hex digits"},
		{name: "truncated_body", file: "truncated.tar.gz",
			wantErr: "unexpected EOF"},
		{name: "missing_file", file: "missing.tar.gz", sum: sum,
			wantErr: "GET " + srv.URL + "/missing.tar.gz: 404 Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			dest := filepath.Join(dir, tt.file)
			url := srv.URL + "/" + tt.file
			err := FetchVerified(context.Background(), url, tt.sum, dest)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FetchVerified = %v, want error containing %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), dest) {
					t.Errorf("error %q does not name the URL and the destination", err)
				}
				assertDirEntries(t, dir) // no dest, no temporary file left behind
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(dest)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("dest holds %d bytes (%v), want the %d served", len(got), err, len(body))
			}
			if st, _ := os.Stat(dest); st.Mode().Perm() != 0o644 {
				t.Errorf("dest mode = %v, want 0644", st.Mode().Perm())
			}
			assertDirEntries(t, dir, tt.file)
		})
	}
}

func TestFetchVerified_keepsAnExistingFileOnMismatch(t *testing.T) {
	body := []byte("new distribution")
	srv := distServer(t, body)
	dir := t.TempDir()
	dest := filepath.Join(dir, "wrong.tar.gz")
	os.WriteFile(dest, []byte("old"), 0o644)
	if err := FetchVerified(context.Background(), srv.URL+"/wrong.tar.gz", "", dest); err == nil {
		t.Fatal("FetchVerified succeeded with a wrong sum")
	}
	if got, _ := os.ReadFile(dest); string(got) != "old" {
		t.Errorf("dest = %q, want the old content kept", got)
	}
	assertDirEntries(t, dir, "wrong.tar.gz")
}

func TestFetchVerified_canceled(t *testing.T) {
	srv := distServer(t, []byte("body"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	err := FetchVerified(ctx, srv.URL+"/good.tar.gz", "", filepath.Join(dir, "good.tar.gz"))
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("FetchVerified = %v, want context canceled", err)
	}
	assertDirEntries(t, dir)
}

func assertDirEntries(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}

func TestVerifySHA512(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dist.tar.gz")
	os.WriteFile(p, []byte("content"), 0o644)
	sum := sha512Hex([]byte("content"))
	tests := []struct {
		name, path, want, wantErr string
	}{
		{"matching_sum", p, sum, ""},
		{"upper_case_sum_with_spaces", p, " " + strings.ToUpper(sum) + "\n", ""},
		{"other_sum", p, sha512Hex(nil), "verify " + p + ": sha512 mismatch: got " + sum + ", want " + sha512Hex(nil)},
		{"not_a_sum", p, "xyz", "verify " + p + `: expected sum: sha512 "xyz"`},
		{"missing_file", p + ".missing", sum, "verify " + p + ".missing: open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySHA512(tt.path, tt.want)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("VerifySHA512 = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func FuzzParseSumFile(f *testing.F) {
	f.Add(sha512Hex(nil) + "  opensearch-2.19.1-linux-x64.tar.gz\n")
	f.Add(sha512Hex(nil) + " *file\r\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		sum, _, err := parseSumFile(s)
		if err == nil && checkSHA512Hex(sum) != nil {
			t.Errorf("parseSumFile(%q) accepted sum %q", s, sum)
		}
	})
}
