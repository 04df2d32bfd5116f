//go:build !linux

package worker

// kernelRelease is unknown off Linux; the coordinator shows it empty.
func kernelRelease() string { return "" }
