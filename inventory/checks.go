package inventory

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
)

// maxNameLen keeps names short enough for the paths they end up in (the
// control socket ~/.rally/run/<cluster>.sock must fit in 108 bytes).
const maxNameLen = 64

// checkName accepts the safe names used for clusters and hosts: they become
// path components, so only [A-Za-z0-9._-], at most 64, and not "." or "..".
func checkName(s string) error {
	if len(s) > maxNameLen {
		return fmt.Errorf("longer than %d characters", maxNameLen)
	}
	if s == "." || s == ".." {
		return errors.New(`"." and ".." are not names`)
	}
	for _, r := range s {
		if !isNameRune(r) {
			return errors.New("use only letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}

func isNameRune(r rune) bool {
	return r < unicode.MaxASCII && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
}

func isControl(r rune) bool { return unicode.IsControl(r) }

// checkAddress accepts an IP address (IPv6 without brackets, zones
// allowed) or a DNS name / ~/.ssh/config Host alias, and says where a user
// or port written into the address belongs instead.
func checkAddress(s string) error {
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if strings.Contains(s, "@") {
		return errors.New("contains a user: put it in ssh.user")
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		return errors.New("write IPv6 addresses without brackets")
	}
	if strings.Contains(s, ":") {
		return errors.New("contains a port: put it in ssh.port")
	}
	return checkHostname(s)
}

func checkHostname(s string) error {
	if s == "" {
		return errors.New("empty host")
	}
	for _, r := range s {
		if !isNameRune(r) {
			return fmt.Errorf("%q is not allowed in a host name", r)
		}
	}
	return nil
}

// JumpHost is a parsed ssh.jump value. Port is zero when not written.
type JumpHost struct {
	User string
	Host string
	Port int
}

// ParseJump parses a jump host written as [user@]host[:port]; an IPv6
// host with a port is written [addr]:port. One jump host only.
func ParseJump(s string) (JumpHost, error) {
	j, err := parseJump(s)
	if err != nil {
		return JumpHost{}, fmt.Errorf("invalid jump %q: want [user@]host[:port]: %w", s, err)
	}
	return j, nil
}

func parseJump(s string) (JumpHost, error) {
	var j JumpHost
	if strings.Contains(s, ",") {
		return j, errors.New("only one jump host is supported")
	}
	if strings.Contains(s, "://") {
		return j, errors.New("URLs are not supported")
	}
	rest := s
	if user, host, ok := strings.Cut(s, "@"); ok {
		if user == "" {
			return j, errors.New("empty user before '@'")
		}
		if strings.ContainsFunc(user, func(r rune) bool { return isControl(r) || unicode.IsSpace(r) || r == ':' }) {
			return j, errors.New("user contains a space, control character or ':'")
		}
		j.User, rest = user, host
	}
	host, port := rest, ""
	switch {
	case strings.HasPrefix(rest, "["):
		end := strings.Index(rest, "]")
		if end < 0 {
			return j, errors.New("missing ']' after IPv6 address")
		}
		host, port = rest[1:end], rest[end+1:]
		if _, err := netip.ParseAddr(host); err != nil {
			return j, fmt.Errorf("bad IPv6 address %q", host)
		}
		if port != "" {
			if !strings.HasPrefix(port, ":") {
				return j, fmt.Errorf("unexpected %q after ']'", port)
			}
			port = port[1:]
			if port == "" {
				return j, errors.New("empty port after ':'")
			}
		}
	case strings.Count(rest, ":") == 1:
		host, port, _ = strings.Cut(rest, ":")
		if port == "" {
			return j, errors.New("empty port after ':'")
		}
	case strings.Count(rest, ":") > 1:
		if _, err := netip.ParseAddr(rest); err != nil {
			return j, errors.New("too many ':' (write an IPv6 address with a port as [addr]:port)")
		}
	}
	if _, err := netip.ParseAddr(host); err != nil {
		if err := checkHostname(host); err != nil {
			return j, err
		}
	}
	j.Host = host
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return j, fmt.Errorf("port %q out of range 1..65535", port)
		}
		j.Port = n
	}
	return j, nil
}

// localPath expands a leading ~ to the local home directory and makes a
// relative path relative to the inventory file's directory.
func localPath(inventoryFile, p string) (string, error) {
	if strings.ContainsFunc(p, isControl) {
		return "", fmt.Errorf("path %q contains a control character", p)
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot expand %q: %w", p, err)
		}
		return filepath.Join(home, p[1:]), nil
	}
	if strings.HasPrefix(p, "~") {
		return "", fmt.Errorf("cannot expand %q: ~user paths are not supported, write the full path", p)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(inventoryFile), p)
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
	}
	return p, nil
}

// checkReadable makes sure a local file can be opened for reading. It
// refuses anything but a regular file before opening it, so a FIFO or
// device never blocks or streams.
func checkReadable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}

// roleList joins the valid roles with sep, e.g. "load-driver or provisioner".
func roleList(sep string) string {
	s := make([]string, len(Roles))
	for i, r := range Roles {
		s[i] = string(r)
	}
	return strings.Join(s, sep)
}
