//go:build !linux

package telemetry

import (
	"errors"
	"fmt"
	"runtime"
)

// supported explains that /proc sampling is Linux-only: other systems have
// no /proc of this shape (macOS has none, the BSDs' differs).
func supported() error {
	return fmt.Errorf("telemetry: reading /proc needs Linux, this is %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
