//go:build race

package driver

// raceEnabled is true when the race detector is on: its instrumentation
// allocates, so allocation counts mean nothing then.
const raceEnabled = true
