// Package trackrepo is esrally's track repository: a git repository of
// tracks (by default the public rally-tracks), cloned and kept up to date
// under ~/.rally/benchmarks/tracks/<name>/ with package gitrepo, whose
// tracks are the directories holding a track.json, named by their path in
// the repository ("geonames", "elastic/logs"), as esrally names them.
//
// It finds a track by name (with a "did you mean" for a typo) and lists
// the repository's tracks with what `rally list tracks` shows. It must not
// run a race or talk to a cluster; loading a track is package track's job.
package trackrepo
