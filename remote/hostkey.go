package remote

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

// hostKeyChecker verifies one server's host key against a known_hosts
// file. It remembers the typed error it produced, because x/crypto/ssh
// wraps callback errors in its own text.
type hostKeyChecker struct {
	t   Target
	db  *knownhosts.HostKeyDB
	err error
}

func newHostKeyChecker(t Target) (*hostKeyChecker, error) {
	db, err := knownHostsDBs.load(t.KnownHostsFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t, err)
	}
	return &hostKeyChecker{t: t, db: db}, nil
}

// knownHostsCache keeps parsed known_hosts files while their size and
// modification time stay the same. A bring-up dials every host at once,
// each against the same file: parsing it once per dial costs each host
// time in proportion to the number of hosts (1.4 ms for 1,000 lines).
// A parsed file is only read from, so dials share it.
type knownHostsCache struct {
	mu      sync.Mutex
	entries map[string]knownHostsEntry
	parsed  atomic.Int64 // files parsed, for tests
}

type knownHostsEntry struct {
	size  int64
	mtime time.Time
	db    *knownhosts.HostKeyDB
}

var knownHostsDBs = &knownHostsCache{entries: map[string]knownHostsEntry{}}

// load returns file's database, parsing the file only when it is not
// cached at its current size and modification time. The file is looked at
// before it is read, so a change while it is read is seen at the next load.
func (c *knownHostsCache) load(file string) (*knownhosts.HostKeyDB, error) {
	st, err := os.Stat(file)
	if err != nil || !st.Mode().IsRegular() {
		return loadKnownHosts(file) // missing: empty; anything else: its error
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[file]; ok && e.size == st.Size() && e.mtime.Equal(st.ModTime()) {
		return e.db, nil
	}
	db, err := loadKnownHosts(file)
	if err != nil {
		delete(c.entries, file)
		return nil, err
	}
	c.parsed.Add(1)
	c.entries[file] = knownHostsEntry{size: st.Size(), mtime: st.ModTime(), db: db}
	return db, nil
}

// loadKnownHosts reads file; a missing file is an empty database (every
// host unknown) so that AcceptNewHostKey can create it.
func loadKnownHosts(file string) (*knownhosts.HostKeyDB, error) {
	db, err := knownhosts.NewDB(file)
	if errors.Is(err, fs.ErrNotExist) {
		db, err = knownhosts.NewDB()
	}
	if err != nil {
		return nil, fmt.Errorf("read known hosts %s: %w", file, err)
	}
	return db, nil
}

// algorithms returns the host-key algorithms the file holds for the host,
// or nil (x/crypto's defaults) for an unknown host. Offering only these
// keeps the server from presenting a key type the file has no line for,
// which would look like a changed key.
func (h *hostKeyChecker) algorithms() []string {
	return h.db.HostKeyAlgorithms(h.t.HostPort())
}

func (h *hostKeyChecker) callback(hostname string, remote net.Addr, key ssh.PublicKey) error {
	err := h.check(hostname, remote, key)
	h.err = err
	return err
}

func (h *hostKeyChecker) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	err := h.db.HostKeyCallback()(hostname, remote, key)
	switch {
	case err == nil:
		return nil
	case knownhosts.IsHostKeyChanged(err):
		return h.changedError(err, key)
	case knownhosts.IsHostUnknown(err):
		if !h.t.AcceptNewHostKey {
			return h.keyError(key, false, 0)
		}
		return h.appendKnownHost(hostname, remote, key)
	default:
		return fmt.Errorf("%s: host key rejected: %w", h.t, err)
	}
}

func (h *hostKeyChecker) keyError(key ssh.PublicKey, changed bool, line int) *HostKeyError {
	return &HostKeyError{
		Name:        h.t.Name,
		Host:        h.t.HostPort(),
		KeyType:     key.Type(),
		Fingerprint: ssh.FingerprintSHA256(key),
		Changed:     changed,
		File:        h.t.KnownHostsFile,
		Line:        line,
	}
}

func (h *hostKeyChecker) changedError(err error, key ssh.PublicKey) *HostKeyError {
	line := 0
	var ke *xknownhosts.KeyError
	if errors.As(err, &ke) && len(ke.Want) > 0 && ke.Want[0].Filename == h.t.KnownHostsFile {
		line = ke.Want[0].Line
	}
	return h.keyError(key, true, line)
}

// appendKnownHost trusts key on first use. It holds an exclusive flock on
// the file while it re-reads it (another dial, in this process or another,
// may have added the host meanwhile) and appends one line with a single
// O_APPEND write.
func (h *hostKeyChecker) appendKnownHost(hostname string, remote net.Addr, key ssh.PublicKey) error {
	file := h.t.KnownHostsFile
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("%s: trust new host key: %w", h.t, err)
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("%s: trust new host key: %w", h.t, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("%s: trust new host key: lock %s: %w", h.t, file, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)

	db, err := loadKnownHosts(file)
	if err != nil {
		return fmt.Errorf("%s: %w", h.t, err)
	}
	switch err := db.HostKeyCallback()(hostname, remote, key); {
	case err == nil:
		return nil
	case knownhosts.IsHostKeyChanged(err):
		return h.changedError(err, key)
	case !knownhosts.IsHostUnknown(err):
		return fmt.Errorf("%s: host key rejected: %w", h.t, err)
	}

	line := knownhosts.Line([]string{hostname}, key) + "\n"
	if needsNewline(f) {
		line = "\n" + line
	}
	if _, err := f.WriteString(line); err != nil {
		return fmt.Errorf("%s: trust new host key: write %s: %w", h.t, file, err)
	}
	return nil
}

// needsNewline reports whether f is non-empty and lacks a final newline.
func needsNewline(f *os.File) bool {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return false
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, st.Size()-1); err != nil && err != io.EOF {
		return false
	}
	return b[0] != '\n'
}
