//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package gitrepo

import "context"

// lock does nothing where flock(2) is missing: concurrent syncs of one
// clone may then fail on git's own locks.
func lock(context.Context, string, func()) (unlock func(), err error) { return func() {}, nil }
