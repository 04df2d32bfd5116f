package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rally/gitrepo/gittest"
)

// TestMissingCorpusChangesNothing: a track whose documents file is
// missing (and that names no base-url to fetch it from) fails before the
// first request, so the target's index, which the track's schedule would
// delete first, is untouched; with --test-mode too.
func TestMissingCorpusChangesNothing(t *testing.T) {
	addr := startTarget(t)
	track := filepath.Join(t.TempDir(), "engine")
	gittest.CopyTree(t, "testdata/tracks/engine", track)
	for _, f := range []string{"documents.json", "documents.json.offset"} {
		if err := os.Remove(filepath.Join(track, f)); err != nil {
			t.Fatal(err)
		}
	}
	put := func(path, body string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, "http://"+addr+path, bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("PUT %s: HTTP %d", path, resp.StatusCode)
		}
	}
	put("/engine", `{}`)
	put("/engine/_doc/1?refresh=true", `{"category": "kept"}`)
	count := func() int {
		t.Helper()
		resp, err := http.Get("http://" + addr + "/engine/_count")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var c struct {
			Count int `json:"count"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /engine/_count: HTTP %d, %v", resp.StatusCode, err)
		}
		return c.Count
	}
	u := newUser(t)
	for _, mode := range [][]string{nil, {"--test-mode"}} {
		args := append([]string{"race", "--track-path", track, "--target-hosts", addr}, mode...)
		r := u.rally(args...)
		if r.code == 0 || !strings.Contains(r.stderr, "documents.json") {
			t.Errorf("rally %s: %s", strings.Join(args, " "), r)
		}
		if n := count(); n != 1 {
			t.Errorf("after rally %s: the index holds %d documents, want the 1 it had", strings.Join(args, " "), n)
		}
	}
}
