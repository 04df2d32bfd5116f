// Package gitrepo keeps a local clone of a git repository checked out at a
// revision, with the git command, the way esrally keeps its track and team
// repositories: the first use clones, later uses fetch into the same clone,
// and then a branch, tag or commit (or the remote's default branch) is
// checked out. Offline, the clone is used as it is and no git command that
// talks to the remote runs.
//
// It knows nothing of tracks or teams: callers choose where the clone
// lives (DirName helps) and read what is checked out. It must not prompt
// for credentials or touch any repository but the clone it was given.
package gitrepo
