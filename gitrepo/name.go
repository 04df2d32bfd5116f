package gitrepo

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"path/filepath"
	"strings"
)

// IsURL says whether remote is a URL for git rather than a local path:
// scheme://..., or git's scp-like host:path (a colon before any slash).
func IsURL(remote string) bool {
	if strings.Contains(remote, "://") {
		return true
	}
	colon := strings.Index(remote, ":")
	return colon > 0 && !strings.Contains(remote[:colon], "/")
}

// Normalize returns remote as Sync uses it: a URL unchanged, a local path
// made absolute (so the clone's origin does not depend on the directory
// rally ran in).
func Normalize(remote string) string {
	if remote == "" || IsURL(remote) {
		return remote
	}
	abs, err := filepath.Abs(remote)
	if err != nil {
		return remote
	}
	return abs
}

// sameRemote compares remotes as git users write them: with or without a
// trailing slash or ".git".
func sameRemote(a, b string) bool {
	trim := func(s string) string {
		return strings.TrimSuffix(strings.TrimRight(s, "/"), ".git")
	}
	return trim(a) == trim(b)
}

// DirName is a directory name for a clone of remote: readable (the
// repository's base name) and distinct for distinct remotes (a hash of the
// normalized remote), e.g. "rally-teams-3f2a9c1e0b4d".
func DirName(remote string) string {
	remote = Normalize(remote)
	base := strings.TrimSuffix(path.Base(strings.TrimRight(filepath.ToSlash(remote), "/")), ".git")
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, base)
	if clean == "" || clean == "." || clean == ".." {
		clean = "repository"
	}
	sum := sha256.Sum256([]byte(remote))
	return clean + "-" + hex.EncodeToString(sum[:6])
}
