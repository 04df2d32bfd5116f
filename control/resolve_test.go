package control

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rally/home"
)

// serveStatus runs a coordinator stand-in on the cluster's socket that
// answers the status route with the cluster's name.
func serveStatus(t *testing.T, dir home.Dir, cluster string) {
	t.Helper()
	l, err := Listen(dir.Socket(cluster))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathStatus, func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, Status{Cluster: cluster, Coordinator: CoordinatorInfo{PID: 4242}})
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// deadSocket leaves a socket file nobody listens on, as a coordinator
// killed with SIGKILL does.
func deadSocket(t *testing.T, dir home.Dir, cluster string) {
	t.Helper()
	l, err := Listen(dir.Socket(cluster))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
}

func stateFile(t *testing.T, dir home.Dir, cluster string) {
	t.Helper()
	if err := os.MkdirAll(dir.ClusterDir(cluster), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir.StateFile(cluster), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// outcome is what a resolver answered, reduced to what the tests check.
type outcome struct {
	cluster string // "" when it failed
	answers bool   // a client whose coordinator answered
	err     string // a part of the error's text
	is      error  // errors.Is must hold
	several []string
}

func check(t *testing.T, what string, f Found, err error, want outcome) {
	t.Helper()
	if want.cluster != "" {
		if err != nil {
			t.Fatalf("%s: %v, want cluster %s", what, err, want.cluster)
		}
		if f.Name != want.cluster || (f.Client != nil) != want.answers {
			t.Fatalf("%s: cluster %q with client %v, want %q with client %v", what, f.Name, f.Client != nil, want.cluster, want.answers)
		}
		if want.answers && (f.Status.Cluster != want.cluster || f.Status.Coordinator.PID != 4242) {
			t.Errorf("%s: status %+v is not the coordinator's answer", what, f.Status)
		}
		return
	}
	if err == nil {
		t.Fatalf("%s: found %q, want an error", what, f.Name)
	}
	if !strings.Contains(err.Error(), want.err) {
		t.Errorf("%s: error %q, want it to say %q", what, err, want.err)
	}
	if want.is != nil && !errors.Is(err, want.is) {
		t.Errorf("%s: error %q is not %v", what, err, want.is)
	}
	var amb *AmbiguousError
	if errors.As(err, &amb) != (want.several != nil) || (amb != nil && !slices.Equal(amb.Names, want.several)) {
		t.Errorf("%s: error %#v, want several clusters %q", what, err, want.several)
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name               string
		live, dead, states []string
		cluster            string
		resolve, known     outcome // Resolve's and ResolveKnown's answers
	}{
		{
			name:    "none_up_is_ErrNoneUp",
			resolve: outcome{err: "no coordinator is running: no cluster is up (start one with: rally up -i hosts.yaml)", is: ErrNoneUp},
			known:   outcome{err: "no cluster is up", is: ErrNotRunning},
		},
		{
			name:    "the_only_one_up_is_chosen",
			live:    []string{"demo"},
			resolve: outcome{cluster: "demo", answers: true},
			known:   outcome{cluster: "demo", answers: true},
		},
		{
			name:    "several_up_and_none_named_asks_for_one",
			live:    []string{"b", "a"},
			resolve: outcome{err: "several clusters are up (a, b): name one with --cluster", several: []string{"a", "b"}},
			known:   outcome{err: "several clusters are known (a, b): name one with --cluster", several: []string{"a", "b"}},
		},
		{
			name:    "the_named_one_among_several",
			live:    []string{"a", "b"},
			cluster: "b",
			resolve: outcome{cluster: "b", answers: true},
			known:   outcome{cluster: "b", answers: true},
		},
		{
			name:    "a_named_cluster_that_is_not_up",
			live:    []string{"a"},
			cluster: "other",
			resolve: outcome{err: "cluster other: no coordinator is running: it is not up (start it with: rally up -i hosts.yaml)", is: ErrNotRunning},
			known:   outcome{cluster: "other"},
		},
		{
			name:    "a_dead_socket_hints_at_cleaning_up",
			dead:    []string{"demo"},
			resolve: outcome{err: "(if its coordinator crashed: rally down -i hosts.yaml)", is: ErrNotRunning},
			known:   outcome{cluster: "demo"},
		},
		{
			name:    "a_named_dead_socket_hints_at_cleaning_up",
			dead:    []string{"demo"},
			live:    []string{"other"},
			cluster: "demo",
			resolve: outcome{err: "cluster demo: no coordinator is running", is: ErrNotRunning},
			known:   outcome{cluster: "demo"},
		},
		{
			name:    "only_a_state_file_is_known_but_not_up",
			states:  []string{"gone"},
			resolve: outcome{err: "no cluster is up", is: ErrNoneUp},
			known:   outcome{cluster: "gone"},
		},
		{
			name:    "a_state_file_beside_a_running_cluster_is_ambiguous_for_down",
			live:    []string{"up"},
			states:  []string{"gone"},
			resolve: outcome{cluster: "up", answers: true},
			known:   outcome{err: "several clusters are known (gone, up)", several: []string{"gone", "up"}},
		},
		{
			name:    "a_running_cluster_with_its_state_file_counts_once",
			live:    []string{"demo"},
			states:  []string{"demo"},
			resolve: outcome{cluster: "demo", answers: true},
			known:   outcome{cluster: "demo", answers: true},
		},
		{
			name:    "a_name_that_escapes_the_tree_is_refused",
			cluster: "../x",
			resolve: outcome{err: `cluster name "../x"`},
			known:   outcome{err: `cluster name "../x"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Unix socket paths are short (108 bytes): a short root.
			root, err := os.MkdirTemp("", "rh")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(root) })
			dir := home.Dir(filepath.Join(root, "h"))
			for _, c := range tt.live {
				serveStatus(t, dir, c)
			}
			for _, c := range tt.dead {
				deadSocket(t, dir, c)
			}
			for _, c := range tt.states {
				stateFile(t, dir, c)
			}
			ctx := context.Background()
			f, err := Resolve(ctx, dir, tt.cluster)
			check(t, "Resolve", f, err, tt.resolve)
			f, err = ResolveKnown(ctx, dir, tt.cluster)
			check(t, "ResolveKnown", f, err, tt.known)
		})
	}
}
