package estarget

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestListenServesUntilContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sv, err := Listen(ctx, "127.0.0.1:0", New(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sv.URL(), "http://127.0.0.1:") || strings.HasSuffix(sv.URL(), ":0") {
		t.Fatalf("URL %q must carry the real port", sv.URL())
	}
	if res, body, err := get(t, http.MethodGet, sv.URL()+"/", ""); err != nil || res.StatusCode != 200 || !strings.Contains(string(body), "You Know, for Search") {
		t.Fatalf("%v %v %s", res, err, body)
	}
	if _, err := Listen(ctx, sv.Addr().String(), New(Options{})); err == nil || !strings.Contains(err.Error(), sv.Addr().String()) {
		t.Fatalf("second Listen on %s: %v", sv.Addr(), err)
	}
	cancel()
	done := make(chan error, 1)
	go func() { done <- sv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop after its context ended")
	}
	if _, _, err := get(t, http.MethodGet, sv.URL()+"/", ""); err == nil {
		t.Fatal("still serving after shutdown")
	}
}
