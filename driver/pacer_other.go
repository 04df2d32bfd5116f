//go:build !linux

package driver

// newAlarm returns an alarm on a runtime timer: elsewhere than on Linux
// the pacer has nothing better.
func newAlarm() alarm { return newTimerAlarm() }
