package provision

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// distPlatform is one os/arch a vendor publishes a distribution for, and
// the spelling the vendor uses for it in file names.
type distPlatform struct {
	goos, goarch string
	name         string
	since        distVersion // first version published for it
}

// distDownloads is the table of official download locations. The URL
// pattern takes the version twice (OpenSearch puts it in the directory too)
// and the platform name once.
var distDownloads = []struct {
	engine       string
	since        distVersion // the first version with per-platform tarballs
	urlPattern   string      // fmt: version, version, platform
	platforms    []distPlatform
	versionsNote string
}{
	{
		engine: EngineElasticsearch,
		// Before 7.0 there was one tarball for every platform, without a
		// bundled JDK.
		since:      distVersion{major: 7},
		urlPattern: "https://artifacts.elastic.co/downloads/elasticsearch/elasticsearch-%[1]s-%[3]s.tar.gz",
		platforms: []distPlatform{
			{"linux", "amd64", "linux-x86_64", distVersion{major: 7}},
			// Elastic published aarch64 builds from 7.12 on Linux and
			// from 7.16 on macOS.
			{"linux", "arm64", "linux-aarch64", distVersion{major: 7, minor: 12}},
			{"darwin", "amd64", "darwin-x86_64", distVersion{major: 7}},
			{"darwin", "arm64", "darwin-aarch64", distVersion{major: 7, minor: 16}},
		},
		versionsNote: "7.0.0 and later",
	},
	{
		engine:     EngineOpenSearch,
		since:      distVersion{major: 1},
		urlPattern: "https://artifacts.opensearch.org/releases/bundle/opensearch/%[1]s/opensearch-%[2]s-%[3]s.tar.gz",
		// OpenSearch publishes no macOS tarballs.
		platforms: []distPlatform{
			{"linux", "amd64", "linux-x64", distVersion{major: 1}},
			{"linux", "arm64", "linux-arm64", distVersion{major: 1}},
		},
		versionsNote: "1.0.0 and later",
	},
}

// DownloadURL returns the official download URL of the engine's
// distribution at version for a host of goos/goarch (GOOS and GOARCH
// spelling): the vendor's tar.gz with a bundled JDK. An unknown engine or a
// platform or version the vendor does not publish is an error naming what
// is supported.
func DownloadURL(engine, version, goos, goarch string) (string, error) {
	for _, d := range distDownloads {
		if d.engine != engine {
			continue
		}
		v, err := parseDistVersion(version)
		if err != nil {
			return "", fmt.Errorf("download URL of %s: %w", engine, err)
		}
		if !v.atLeast(d.since.major, d.since.minor) {
			return "", fmt.Errorf("download URL of %s %s: no per-platform distribution: supported are %s", engine, version, d.versionsNote)
		}
		var supported []string
		for _, p := range d.platforms {
			if p.goos == goos && p.goarch == goarch {
				if !v.atLeast(p.since.major, p.since.minor) {
					return "", fmt.Errorf("download URL of %s %s: %s/%s builds start at %s", engine, version, goos, goarch, p.since)
				}
				return fmt.Sprintf(d.urlPattern, version, version, p.name), nil
			}
			supported = append(supported, p.goos+"/"+p.goarch)
		}
		return "", fmt.Errorf("download URL of %s %s: no build for %s/%s: supported are %s", engine, version, goos, goarch, strings.Join(supported, ", "))
	}
	return "", fmt.Errorf("download URL: unknown engine %q: want %s or %s", engine, EngineElasticsearch, EngineOpenSearch)
}

// maxSumFileSize bounds a .sha512 file: one line of 128 hex digits and a
// file name.
const maxSumFileSize = 4 << 10

// FetchVerified downloads rawURL to dest, and only if the content's SHA-512
// equals the expected sum. sha512Hex is the sum in hex; when empty, it is
// fetched from rawURL + ".sha512" (both vendors publish one, as
// "<hex>  <file name>"). The body is written to a temporary file beside
// dest while being hashed, and renamed to dest only when the sums match, so
// dest never holds a partial or corrupt download; on any failure the
// temporary file is removed.
func FetchVerified(ctx context.Context, rawURL, sha512Hex, dest string) error {
	if err := fetchVerified(ctx, rawURL, sha512Hex, dest); err != nil {
		return fmt.Errorf("download %s to %s: %w", rawURL, dest, err)
	}
	return nil
}

func fetchVerified(ctx context.Context, rawURL, sha512Hex, dest string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	want := strings.ToLower(strings.TrimSpace(sha512Hex))
	if want == "" {
		want, err = fetchSHA512(ctx, rawURL+".sha512", path.Base(u.Path))
		if err != nil {
			return err
		}
	} else if err := checkSHA512Hex(want); err != nil {
		return fmt.Errorf("expected sum: %w", err)
	}

	body, err := httpGet(ctx, rawURL)
	if err != nil {
		return err
	}
	defer body.Close()

	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*.part")
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha512.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), body)
	if err != nil {
		return fmt.Errorf("after %d bytes: %w", n, err)
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("sha512 mismatch: got %s, want %s", got, want)
	}
	// CreateTemp makes the file 0600; a distribution is no secret.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return err
	}
	committed = true
	return nil
}

// fetchSHA512 reads a published .sha512 file and returns its sum, checking
// that it is about fileName when it names a file.
func fetchSHA512(ctx context.Context, sumURL, fileName string) (string, error) {
	body, err := httpGet(ctx, sumURL)
	if err != nil {
		return "", fmt.Errorf("fetch checksum: %w", err)
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, maxSumFileSize+1))
	if err != nil {
		return "", fmt.Errorf("fetch checksum %s: %w", sumURL, err)
	}
	if len(data) > maxSumFileSize {
		return "", fmt.Errorf("checksum %s: larger than %d bytes: not a .sha512 file", sumURL, maxSumFileSize)
	}
	sum, name, err := parseSumFile(string(data))
	if err != nil {
		return "", fmt.Errorf("checksum %s: %w", sumURL, err)
	}
	if name != "" && name != fileName {
		return "", fmt.Errorf("checksum %s: it is the sum of %q, not %q", sumURL, name, fileName)
	}
	return sum, nil
}

// parseSumFile reads the first line of a sha512sum-style file: the hex sum,
// then optionally the file name (after spaces, and a '*' in binary mode).
func parseSumFile(s string) (sum, name string, err error) {
	line, _, _ := strings.Cut(s, "\n")
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return "", "", errors.New("empty: want \"<hex>  <file name>\"")
	}
	sum = strings.ToLower(fields[0])
	if err := checkSHA512Hex(sum); err != nil {
		return "", "", err
	}
	if len(fields) > 1 {
		name = strings.TrimPrefix(fields[1], "*")
	}
	return sum, name, nil
}

func checkSHA512Hex(s string) error {
	if len(s) != 2*sha512.Size {
		return fmt.Errorf("sha512 %q: want %d hex digits, got %d characters", abbreviate(s), 2*sha512.Size, len(s))
	}
	if _, err := hex.DecodeString(s); err != nil {
		return fmt.Errorf("sha512 %q: not hex", abbreviate(s))
	}
	return nil
}

func abbreviate(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// httpGet starts a GET and returns the body of a 200 response.
func httpGet(ctx context.Context, rawURL string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", rawURL, resp.Status)
	}
	return resp.Body, nil
}

// VerifySHA512 checks that the file at path has the SHA-512 sum want (hex,
// either case).
func VerifySHA512(path, want string) error {
	want = strings.ToLower(strings.TrimSpace(want))
	if err := checkSHA512Hex(want); err != nil {
		return fmt.Errorf("verify %s: expected sum: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("verify %s: %w", path, err)
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("verify %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("verify %s: sha512 mismatch: got %s, want %s", path, got, want)
	}
	return nil
}
