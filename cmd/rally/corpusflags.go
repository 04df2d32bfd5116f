package main

import (
	"rally/control"
	"rally/race"
)

// corpusFlags say how a race's documents files reach the load drivers.
// Package coordinator pushes, package race readies them on each host;
// this only parses.
type corpusFlags struct {
	CorpusSource     string `name:"corpus-source" enum:"push,download,local," default:"" placeholder:"SOURCE" help:"How the documents files reach the load drivers: push (this machine sends each host the slices of the files its clients index, checksummed, resumable, skipped when already there), download (each host downloads whole files from the track's base-url) or local (each host must have them already). Default: push the files this machine has, each host downloads the others."`
	CorpusPushHosts  int    `name:"corpus-push-hosts" placeholder:"N" help:"Push corpora to at most N hosts at once (default: 8)."`
	CorpusPushWrites int    `name:"corpus-push-writes" placeholder:"N" help:"Write at most N files at once on each host during a corpus push (default: 4), each with up to 32 SFTP writes of 32 KiB in flight."`
}

// apply puts the flags into a race request.
func (f corpusFlags) apply(req *control.RaceRequest) error {
	req.Corpus = race.CorpusOptions{Source: race.CorpusSource(f.CorpusSource), PushHosts: f.CorpusPushHosts, PushWrites: f.CorpusPushWrites}
	if err := req.Corpus.Check(); err != nil {
		return &usageError{err: err}
	}
	return nil
}
