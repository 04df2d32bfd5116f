package payload

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"rally/remote"
)

// Probe is what one command on a host tells before a push: the host's
// platform, whether the SSH user is root, its work directory (made if
// missing) and the worker builds already there.
type Probe struct {
	Platform Platform
	// Root is true when the SSH user is root (uid 0).
	Root bool
	// Workdir is the work directory, absolute.
	Workdir string
	// Created is true when the probe made the work directory (and left
	// ProbeOptions.Marker in it).
	Created bool
	// Builds are the worker builds in <Workdir>/bin: file name to size.
	Builds map[string]int64
}

// Has tells whether the host has build b: a file of b's name and size (the
// name is its checksum; a file gets that name only after its checksum was
// checked on the host).
func (p Probe) Has(b Build) bool {
	size, ok := p.Builds[b.RemoteName()]
	return ok && size == b.Size
}

// BuildPath is where build b is, or goes, on the host.
func (p Probe) BuildPath(b Build) string { return path.Join(p.Workdir, "bin", b.RemoteName()) }

// ProbeOptions says what ProbeHost asks for.
type ProbeOptions struct {
	// Workdir is "~" or "~/..." (the SSH user's home) or absolute;
	// empty means "~/.rally".
	Workdir string
	// Marker is a file name left in a work directory the probe makes.
	Marker string
	// RefuseRoot makes the probe fail with ErrRoot, before it makes
	// anything, when the SSH user is root.
	RefuseRoot bool
}

// ErrRoot is ProbeHost's error for a root SSH user under RefuseRoot.
var ErrRoot = errors.New("the SSH user is root")

// probeScript is ProbeHost's command; wd, marker and refuse are set before
// it. It makes <workdir>/bin too, where a push writes. Exit statuses: 3
// uname or id failed, 4 root refused, 5 the workdir could not be made.
const probeScript = `m=$(uname -sm) || exit 3
u=$(id -u) || exit 3
if [ "$refuse" = 1 ] && [ "$u" = 0 ]; then exit 4; fi
printf 'platform %s\nuid %s\nhome %s\n' "$m" "$u" "$HOME"
created=0
if [ ! -d "$wd" ]; then
  mkdir -p -- "$wd" || exit 5
  : > "$wd/$marker" || exit 5
  created=1
fi
mkdir -p -- "$wd/bin" || exit 5
echo "created $created"
for f in "$wd"/bin/rally-*; do
  if [ -f "$f" ] && [ ! -h "$f" ]; then printf 'build %s %s\n' "$(wc -c < "$f")" "${f##*/}"; fi
done
exit 0
`

// ProbeHost runs one command on the host (one round trip, whatever the
// link's latency) that tells its platform (uname -sm) and user, makes the
// work directory when missing (leaving opts.Marker in it) and lists the
// worker builds already in it.
func ProbeHost(ctx context.Context, c *remote.Client, opts ProbeOptions) (Probe, error) {
	host := c.Target().Name
	wd, rel, err := workdirWord(opts.Workdir)
	if err != nil {
		return Probe{}, fmt.Errorf("%s: workdir: %w", host, err)
	}
	if strings.ContainsAny(opts.Marker, "/\x00") || opts.Marker == "" {
		return Probe{}, fmt.Errorf("%s: workdir: bad marker name %q", host, opts.Marker)
	}
	refuse := 0
	if opts.RefuseRoot {
		refuse = 1
	}
	cmd := fmt.Sprintf("wd=%s marker=%s refuse=%d\n%s", wd, remote.ShellQuote(opts.Marker), refuse, probeScript)
	res, err := c.Run(ctx, cmd, nil)
	if err != nil {
		return Probe{}, fmt.Errorf("%s: probe: %w", host, err)
	}
	stderr := orNothing(strings.TrimSpace(string(res.Stderr)))
	switch res.ExitStatus {
	case 0:
	case 3:
		return Probe{}, fmt.Errorf("%s: detect platform: %s", host, stderr)
	case 4:
		return Probe{}, fmt.Errorf("%s: %w", host, ErrRoot)
	case 5:
		return Probe{}, fmt.Errorf("%s: workdir: %s", host, stderr)
	default:
		return Probe{}, fmt.Errorf("%s: probe: exited with status %d: %s", host, res.ExitStatus, stderr)
	}
	p, home, err := parseProbe(string(res.Stdout))
	if err != nil {
		return Probe{}, fmt.Errorf("%s: probe: %w", host, err)
	}
	if rel != "" {
		if !path.IsAbs(home) {
			return Probe{}, fmt.Errorf("%s: workdir: the SSH user's home %q is not an absolute path", host, home)
		}
		p.Workdir = path.Join(home, rel)
	} else {
		p.Workdir = path.Clean(opts.Workdir)
	}
	return p, nil
}

// workdirWord turns a workdir into a shell word: "$HOME"/'rest' for one
// under the SSH user's home (rest returned too), quoted as it is when
// absolute.
func workdirWord(workdir string) (word, rel string, err error) {
	if workdir == "" {
		workdir = "~/.rally"
	}
	switch {
	case workdir == "~":
		return `"$HOME"`, ".", nil
	case strings.HasPrefix(workdir, "~/"):
		rel = path.Clean(workdir[2:])
		if rel == "." {
			return `"$HOME"`, ".", nil
		}
		return `"$HOME"/` + remote.ShellQuote(rel), rel, nil
	case strings.HasPrefix(workdir, "~"):
		return "", "", fmt.Errorf("%q: only ~ (the SSH user's home) is supported, not ~user", workdir)
	case !path.IsAbs(workdir):
		return "", "", fmt.Errorf("%q is not absolute and does not start with ~/", workdir)
	}
	return remote.ShellQuote(path.Clean(workdir)), "", nil
}

// parseProbe reads probeScript's output (after the login shell's own
// lines, which Run drops).
func parseProbe(out string) (Probe, string, error) {
	p := Probe{Builds: map[string]int64{}}
	var home string
	var seen struct{ platform, uid, home, created bool }
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		key, val, _ := strings.Cut(line, " ")
		if seen.created && key != "build" {
			// Only build lines follow; a file name with a newline in it
			// must not pass for anything else.
			continue
		}
		switch key {
		case "platform":
			plat, err := ParseUname(val)
			if err != nil {
				return Probe{}, "", fmt.Errorf("detect platform: %w", err)
			}
			p.Platform, seen.platform = plat, true
		case "uid":
			uid, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil {
				return Probe{}, "", fmt.Errorf("unexpected `id -u` output %q", val)
			}
			p.Root, seen.uid = uid == 0, true
		case "home":
			home, seen.home = val, true
		case "created":
			p.Created, seen.created = val == "1", true
		case "build":
			sizeText, name, ok := strings.Cut(strings.TrimLeft(val, " "), " ")
			size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 10, 64)
			if !ok || err != nil || size < 0 || name == "" {
				return Probe{}, "", fmt.Errorf("unexpected build line %q", line)
			}
			p.Builds[name] = size
		}
	}
	if !seen.platform || !seen.uid || !seen.home || !seen.created {
		return Probe{}, "", fmt.Errorf("incomplete answer %q", out)
	}
	return p, home, nil
}
