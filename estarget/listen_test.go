package estarget

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestListenServesUntilContextEnds(t *testing.T) {
	sv, cancel := listenLoopback(t)
	if !strings.HasPrefix(sv.URL(), "http://127.0.0.1:") || strings.HasSuffix(sv.URL(), ":0") {
		t.Fatalf("URL %q must carry the real port", sv.URL())
	}
	res, err := http.Get(sv.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "You Know, for Search") {
		t.Fatalf("%d %s", res.StatusCode, body)
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
	if _, err := http.Get(sv.URL() + "/"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}

func TestListenReportsBusyAddress(t *testing.T) {
	sv, cancel := listenLoopback(t)
	if _, err := Listen(t.Context(), sv.Addr().String(), New(Options{})); err == nil || !strings.Contains(err.Error(), sv.Addr().String()) {
		t.Fatalf("second Listen on %s: %v", sv.Addr(), err)
	}
	cancel()
	_ = sv.Wait()
}
