package metricsstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"rally/report"
)

// fakeStore is an Elasticsearch-like server that keeps what it was sent.
type fakeStore struct {
	mu        sync.Mutex
	templates map[string]int
	docs      map[string]map[string]any // by index/id
	bulks     int
	auth      []string
	// onBulk, when set, answers a bulk instead of the store.
	onBulk func(w http.ResponseWriter, r *http.Request, body []byte) bool
}

func newFakeStore(t *testing.T) (*fakeStore, *httptest.Server) {
	t.Helper()
	f := &fakeStore{templates: map[string]int{}, docs: map[string]map[string]any{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeStore) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	switch {
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/_template/"):
		var tmpl map[string]any
		if err := json.Unmarshal(body, &tmpl); err != nil || tmpl["index_patterns"] == nil {
			http.Error(w, `{"error":"bad template"}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.templates[strings.TrimPrefix(r.URL.Path, "/_template/")]++
		f.mu.Unlock()
		fmt.Fprint(w, `{"acknowledged":true}`)
	case r.Method == http.MethodPost && r.URL.Path == "/_bulk":
		if r.Header.Get("Content-Type") != "application/x-ndjson" {
			http.Error(w, "want ndjson", http.StatusNotAcceptable)
			return
		}
		if f.onBulk != nil && f.onBulk(w, r, body) {
			return
		}
		items := f.index(body)
		json.NewEncoder(w).Encode(map[string]any{"took": 1, "errors": false, "items": items})
	default:
		http.Error(w, "no such call", http.StatusNotFound)
	}
}

// index takes a bulk body's documents and returns the items of the answer.
func (f *fakeStore) index(body []byte) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bulks++
	var items []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var action struct {
			Index struct {
				Index string `json:"_index"`
				ID    string `json:"_id"`
			} `json:"index"`
		}
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil || !sc.Scan() {
			panic(fmt.Sprintf("bad bulk body: %v", err))
		}
		var doc map[string]any
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			panic(err)
		}
		f.docs[action.Index.Index+"/"+action.Index.ID] = doc
		items = append(items, map[string]any{"index": map[string]any{"_index": action.Index.Index, "_id": action.Index.ID, "status": 201}})
	}
	return items
}

func newWriter(t *testing.T, rawURL string, cfg Config) *Writer {
	t.Helper()
	u, err := ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.URL = u
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestPublish: two races, the templates put once, every document indexed
// once under its id, with the credentials.
func TestPublish(t *testing.T) {
	f, srv := newFakeStore(t)
	w := newWriter(t, srv.URL, Config{Credentials: Credentials{User: "rally", Password: "s3cret"}, MaxBulkBytes: 4096})
	r1, r2 := fixedRace(), fixedRace()
	r2.ID = "20261125T111500Z-000001"
	w.Publish(context.Background(), r1)
	w.Publish(context.Background(), r2)
	if err := w.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if want := map[string]int{"rally-races": 1, "rally-results": 1, "rally-metrics": 1}; !reflect.DeepEqual(f.templates, want) {
		t.Errorf("templates put %v, want each once: %v", f.templates, want)
	}
	want := 2 * len(Documents(r1, "local"))
	if len(f.docs) != want {
		t.Errorf("%d documents indexed, want %d", len(f.docs), want)
	}
	if f.bulks < 4 {
		t.Errorf("%d bulk requests; a 4 KiB bound should split each race", f.bulks)
	}
	for _, a := range f.auth {
		if a != "Basic cmFsbHk6czNjcmV0" { // rally:s3cret
			t.Fatalf("Authorization %q", a)
		}
	}
	if d := f.docs["rally-races-2026-11/"+r2.ID]; d == nil || d["race-id"] != r2.ID {
		t.Errorf("race document of %s: %v", r2.ID, d)
	}
}

// TestPublishAgainReplaces: a race written twice has its documents once.
func TestPublishAgainReplaces(t *testing.T) {
	f, srv := newFakeStore(t)
	w := newWriter(t, srv.URL, Config{})
	for range 2 {
		if err := w.Write(context.Background(), fixedRace()); err != nil {
			t.Fatal(err)
		}
	}
	if n, want := len(f.docs), len(Documents(fixedRace(), "local")); n != want {
		t.Errorf("%d documents after two writes, want %d", n, want)
	}
}

// TestStoreRefuses: documents the store refuses, and a store that answers
// errors, are WriteErrors that say what and how many.
func TestStoreRefuses(t *testing.T) {
	tests := []struct {
		name   string
		onBulk func(w http.ResponseWriter, r *http.Request, body []byte) bool
		want   string
	}{
		{"refused_documents", func(w http.ResponseWriter, r *http.Request, body []byte) bool {
			n := bytes.Count(body, []byte("\n")) / 2
			items := make([]map[string]any, n)
			for i := range items {
				items[i] = map[string]any{"index": map[string]any{"_index": "rally-metrics-2026-11", "_id": fmt.Sprint(i), "status": 201}}
			}
			items[1] = map[string]any{"index": map[string]any{"_index": "rally-metrics-2026-11", "_id": "1", "status": 400,
				"error": map[string]any{"type": "mapper_parsing_exception", "reason": "failed to parse field [value]"}}}
			json.NewEncoder(w).Encode(map[string]any{"errors": true, "items": items})
			return true
		}, "1 of "},
		{"forbidden", func(w http.ResponseWriter, r *http.Request, body []byte) bool {
			http.Error(w, `{"error":"security_exception"}`, http.StatusForbidden)
			return true
		}, "HTTP 403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakeStore(t)
			f.onBulk = tt.onBulk
			w := newWriter(t, srv.URL, Config{Retries: -1})
			w.Publish(context.Background(), fixedRace())
			err := w.Wait(context.Background())
			var we *WriteError
			if !errors.As(err, &we) || we.RaceID != fixedRace().ID || !strings.Contains(err.Error(), tt.want) ||
				!strings.Contains(err.Error(), "race.json keeps everything") {
				t.Fatalf("Wait = %v, want a WriteError containing %q", err, tt.want)
			}
		})
	}
}

// TestStoreGoneLosesNothing: a store killed in the middle of a bulk, and
// one that is not there at all, are warnings; the saved race is untouched.
func TestStoreGoneLosesNothing(t *testing.T) {
	dir := t.TempDir()
	store := report.Store{Dir: dir}
	r := fixedRace()
	if err := store.Save(r); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, r.ID, "race.json")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("killed_mid_write", func(t *testing.T) {
		f, srv := newFakeStore(t)
		var once sync.Once
		f.onBulk = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
			// The first bulk goes through; then the store dies: its
			// listener closes and the connection is cut mid-answer.
			first := false
			once.Do(func() { first = true })
			if first {
				return false
			}
			go srv.Listener.Close()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"took\""))
				conn.Close()
			}
			return true
		}
		w := newWriter(t, srv.URL, Config{MaxBulkBytes: 4096, Retries: 1})
		w.Publish(context.Background(), r)
		err := w.Wait(context.Background())
		var we *WriteError
		if !errors.As(err, &we) || !strings.Contains(err.Error(), "documents written before") {
			t.Fatalf("Wait = %v, want a WriteError saying how far it got", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there any more
		w := newWriter(t, "http://"+addr, Config{Retries: 1})
		start := time.Now()
		w.Publish(context.Background(), r)
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("Publish took %v: it must not wait for the store", d)
		}
		err = w.Wait(context.Background())
		if !strings.Contains(fmt.Sprint(err), "connection refused") {
			t.Fatalf("Wait = %v, want connection refused", err)
		}
	})
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("race.json changed or gone: %v", err)
	}
	if got, err := store.Load(r.ID); err != nil || !reflect.DeepEqual(got.PerSecond, r.PerSecond) || len(got.Summary.Tasks) != 3 {
		t.Fatalf("saved race reads back as %+v, %v", got, err)
	}
}

// TestWaitBounded: Wait returns when its context ends, even while a write
// hangs.
func TestWaitBounded(t *testing.T) {
	f, srv := newFakeStore(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	f.onBulk = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "late", http.StatusServiceUnavailable)
		return true
	}
	w := newWriter(t, srv.URL, Config{Retries: -1})
	w.Publish(context.Background(), fixedRace())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := w.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want the deadline", err)
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://127.0.0.1:9200", ""},
		{"https://metrics.example:9243/", ""},
		{"http://elastic:changeme@127.0.0.1:9200", "credentials in the URL are refused"},
		{"127.0.0.1:9200", "want an http:// or https:// URL"},
		{"ftp://x", "want an http:// or https:// URL"},
	} {
		_, err := ParseURL(tc.in)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("ParseURL(%q) = %v, want %q", tc.in, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "changeme") {
			t.Errorf("ParseURL error shows the password: %v", err)
		}
	}
}
