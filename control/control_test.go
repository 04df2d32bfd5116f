package control

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

func TestListen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run", "demo.sock")

	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v; want 0600", st.Mode(), err)
	}
	if d, _ := os.Stat(filepath.Dir(path)); d.Mode().Perm() != 0o700 {
		t.Errorf("run dir mode %v, want 0700", d.Mode().Perm())
	}
	if _, err := Listen(path); err == nil {
		t.Error("a second coordinator on a live socket must be refused")
	}
	l.Close()
	// A stale socket file (its coordinator gone) is replaced.
	os.WriteFile(path, nil, 0o600)
	l2, err := Listen(path)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	l2.Close()
}

func TestClientWithoutCoordinator(t *testing.T) {
	c := NewClient(filepath.Join(t.TempDir(), "none.sock"))
	if _, err := c.Status(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Errorf("err = %v, want ErrNotRunning", err)
	}
}

func TestClientErrorsCarryTheCoordinatorsMessage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusConflict, errors.New("no race is running"))
	})}
	go srv.Serve(l)
	defer srv.Close()
	err = NewClient(path).AbortRace(context.Background())
	if err == nil || err.Error() != "coordinator: no race is running" {
		t.Errorf("err = %v", err)
	}
	var _ net.Listener = l
}
