package payload

import (
	"context"
	"fmt"
	"os"
	"strings"

	"rally/remote"
)

// finishScript turns an uploaded temporary file into the final one in a
// single command on the host (one round trip, whatever the link's latency):
// decompress it if it was sent compressed, check the result's SHA-256,
// make it executable or readable, and rename it into place (mv within one
// directory is rename(2): atomic, replacing a damaged file of the same
// name). The trap removes both temporary files on every way out, so a
// failure leaves nothing. Exit statuses name the step that failed; the
// variables sent, tmp, final, want, mode and gz are set before it.
const finishScript = `trap 'rm -f -- "$sent" "$tmp"' EXIT
if [ "$gz" = 1 ]; then
  command -v gzip >/dev/null 2>&1 || { echo "$PATH" >&2; exit 7; }
  gzip -dc -- "$sent" > "$tmp" || exit 3
  rm -f -- "$sent"
fi
got=$(sha256sum -- "$tmp") || exit 4
got=${got%% *}
if [ "$got" != "$want" ]; then echo "$got"; exit 5; fi
chmod "$mode" -- "$tmp" || exit 6
mv -f -- "$tmp" "$final" || exit 6
`

// Exit statuses of finishScript.
const (
	finishDecompress = 3
	finishChecksum   = 4
	finishMismatch   = 5
	finishRename     = 6
	finishNoGzip     = 7
)

// finishArgs are the paths and expectations of one finishScript run.
type finishArgs struct {
	sent  string // the uploaded file
	tmp   string // the file checked and renamed: sent itself unless gzip
	final string
	sum   string // the SHA-256 the final file must have
	mode  os.FileMode
	gzip  bool // sent is gzip-compressed: decompress it to tmp
}

func (a finishArgs) command() string {
	gz := 0
	if a.gzip {
		gz = 1
	} else {
		a.tmp = a.sent
	}
	return fmt.Sprintf("sent=%s tmp=%s final=%s want=%s mode=%s gz=%d\n%s",
		remote.ShellQuote(a.sent), remote.ShellQuote(a.tmp), remote.ShellQuote(a.final),
		remote.ShellQuote(strings.ToLower(a.sum)), fmt.Sprintf("%o", a.mode.Perm()), gz, finishScript)
}

// finish runs finishScript on the host and says what went wrong, if
// anything, in the words of the step that failed.
func finish(ctx context.Context, c *remote.Client, a finishArgs) error {
	res, err := c.Run(ctx, a.command(), nil)
	if err != nil {
		return fmt.Errorf("finish on the host: %w", err)
	}
	return a.outcome(res)
}

// outcome reads what finishScript's run gave.
func (a finishArgs) outcome(res remote.Result) error {
	stderr := strings.TrimSpace(string(res.Stderr))
	switch res.ExitStatus {
	case 0:
		return nil
	case finishDecompress:
		return &wrongBytesError{fmt.Sprintf("decompress on the host (gzip -dc): %s", orNothing(stderr))}
	case finishChecksum:
		return fmt.Errorf("verify: sha256sum failed: %s", orNothing(stderr))
	case finishMismatch:
		got := strings.TrimSpace(string(res.Stdout))
		return &wrongBytesError{fmt.Sprintf("checksum mismatch: got %s, want %s", abbrev(got), abbrev(a.sum))}
	case finishNoGzip:
		return fmt.Errorf("gzip not found on the host (PATH %s): rally sends its worker gzip-compressed; install gzip there", orNothing(stderr))
	case finishRename:
		return fmt.Errorf("move into place as %s: %s", a.final, orNothing(stderr))
	}
	return fmt.Errorf("finish on the host: exited with status %d: %s", res.ExitStatus, orNothing(stderr))
}

// wrongBytesError is finish's error when the bytes that arrived are not
// the file wanted: they did not decompress, or not to its checksum.
type wrongBytesError struct{ msg string }

func (e *wrongBytesError) Error() string { return e.msg }

func orNothing(s string) string {
	if s == "" {
		return "(no message)"
	}
	return s
}
