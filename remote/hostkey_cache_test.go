package remote

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

func newHostKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// knows tells whether db accepts key for host (port 22).
func knows(db *knownhosts.HostKeyDB, host string, key ssh.PublicKey) bool {
	addr := &net.TCPAddr{IP: net.ParseIP(host), Port: 22}
	return db.HostKeyCallback()(host+":22", addr, key) == nil
}

func TestKnownHostsCache(t *testing.T) {
	c := &knownHostsCache{entries: map[string]knownHostsEntry{}}
	file := filepath.Join(t.TempDir(), "known_hosts")
	k1, k2 := newHostKey(t), newHostKey(t)
	if err := os.WriteFile(file, []byte(knownhosts.Line([]string{"10.0.0.1"}, k1)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("many_dials_at_once_parse_the_file_once", func(t *testing.T) {
		dbs := make([]*knownhosts.HostKeyDB, 40)
		var wg sync.WaitGroup
		for i := range dbs {
			wg.Go(func() {
				db, err := c.load(file)
				if err != nil {
					t.Error(err)
				}
				dbs[i] = db
			})
		}
		wg.Wait()
		if n := c.parsed.Load(); n != 1 {
			t.Errorf("40 loads parsed the file %d times, want 1", n)
		}
		for _, db := range dbs {
			if db != dbs[0] || !knows(db, "10.0.0.1", k1) {
				t.Fatal("loads disagree, or the cached database lacks the host")
			}
		}
	})

	t.Run("a_changed_file_is_parsed_again", func(t *testing.T) {
		f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(knownhosts.Line([]string{"10.0.0.2"}, k2) + "\n")
		f.Close()
		db, err := c.load(file)
		if err != nil {
			t.Fatal(err)
		}
		if n := c.parsed.Load(); n != 2 || !knows(db, "10.0.0.2", k2) || !knows(db, "10.0.0.1", k1) {
			t.Errorf("after an append: parsed %d times in all (want 2), knows the new host: %v", n, knows(db, "10.0.0.2", k2))
		}
	})

	t.Run("a_missing_file_is_empty_and_not_cached", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "none")
		db, err := c.load(missing)
		if err != nil || knows(db, "10.0.0.1", k1) {
			t.Fatalf("missing file: %v, %v", db, err)
		}
		if err := os.WriteFile(missing, []byte(knownhosts.Line([]string{"10.0.0.1"}, k1)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if db, err := c.load(missing); err != nil || !knows(db, "10.0.0.1", k1) {
			t.Errorf("file created after a load: %v", err)
		}
	})

	t.Run("a_broken_file_is_an_error_each_time", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad")
		os.WriteFile(bad, []byte("10.0.0.1 ssh-ed25519 not-base64!\n"), 0o600)
		for range 2 {
			if _, err := c.load(bad); err == nil {
				t.Error("broken known_hosts file loaded")
			}
		}
	})
}
