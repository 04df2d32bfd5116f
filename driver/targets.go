package driver

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Target is one node the driver sends requests to.
type Target struct {
	// Scheme is "http" or "https". Client option use_ssl turns "http" into
	// "https" when the client is made.
	Scheme string `json:"scheme"`
	// Host is "host:port" (IPv6 in brackets).
	Host string `json:"host"`
	// PathPrefix is prepended to every request path ("/es" behind a proxy);
	// empty or starting with "/" and never ending with "/".
	PathPrefix string `json:"path-prefix,omitempty"`
}

// String returns the target as a URL.
func (t Target) String() string { return t.Scheme + "://" + t.Host + t.PathPrefix }

// defaultPort is Elasticsearch's HTTP port, used when a host gives none.
const defaultPort = "9200"

// ParseTargetHosts parses Rally's --target-hosts: a comma-separated list of
// "host:port" or URLs ("http://proxy:8080/es", "https://node:9200"), a JSON
// array of them, or a JSON object whose "default" key holds such a list
// (Rally's multi-cluster form; only the default cluster is used).
func ParseTargetHosts(s string) ([]Target, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("target hosts: empty (want e.g. 127.0.0.1:9200)")
	}
	var items []string
	first := s[0]
	if first == '[' && !strings.HasPrefix(strings.TrimSpace(s[1:]), `"`) && !strings.HasPrefix(strings.TrimSpace(s[1:]), "]") {
		first = 0 // a bracketed IPv6 address, not a JSON array
	}
	switch first {
	case '[':
		if err := json.Unmarshal([]byte(s), &items); err != nil {
			return nil, fmt.Errorf("target hosts: JSON array of strings: %w", err)
		}
	case '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return nil, fmt.Errorf("target hosts: JSON object: %w", err)
		}
		raw, ok := m["default"]
		if !ok {
			return nil, fmt.Errorf(`target hosts: JSON object has no "default" cluster`)
		}
		if err := json.Unmarshal(raw, &items); err != nil {
			var one string
			if json.Unmarshal(raw, &one) != nil {
				return nil, fmt.Errorf(`target hosts: "default": want a list of hosts: %w`, err)
			}
			items = strings.Split(one, ",")
		}
	default:
		items = strings.Split(s, ",")
	}
	targets := make([]Target, 0, len(items))
	for i, item := range items {
		t, err := parseTarget(strings.TrimSpace(item))
		if err != nil {
			return nil, fmt.Errorf("target host #%d: %w", i+1, err)
		}
		targets = append(targets, t)
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("target hosts: none given")
	}
	return targets, nil
}

// parseTarget parses one entry. Errors never repeat the entry when it may
// hold credentials.
func parseTarget(s string) (Target, error) {
	if s == "" {
		return Target{}, fmt.Errorf("empty entry")
	}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return Target{}, fmt.Errorf("not a URL")
		}
		if u.User != nil {
			return Target{}, fmt.Errorf("credentials in the URL are not supported: give basic_auth_user and basic_auth_password in the client options")
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return Target{}, fmt.Errorf("%q: scheme %q is not http or https", s, u.Scheme)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return Target{}, fmt.Errorf("%q: a target URL takes no query or fragment", s)
		}
		host, err := hostPort(u.Host)
		if err != nil {
			return Target{}, fmt.Errorf("%q: %w", s, err)
		}
		return Target{Scheme: u.Scheme, Host: host, PathPrefix: strings.TrimRight(u.EscapedPath(), "/")}, nil
	}
	if strings.ContainsAny(s, "@/?# ") {
		return Target{}, fmt.Errorf("not host:port or a URL (want e.g. 127.0.0.1:9200 or http://proxy:8080/es)")
	}
	host, err := hostPort(s)
	if err != nil {
		return Target{}, fmt.Errorf("%q: %w", s, err)
	}
	return Target{Scheme: "http", Host: host}, nil
}

// hostPort checks "host[:port]" and adds the default port when missing.
func hostPort(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("no host")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		// No port: a bare name, IPv4 or bracketed IPv6 address.
		h := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		if h == "" || strings.ContainsAny(h, "[]") || (strings.Contains(h, ":") && net.ParseIP(h) == nil) {
			return "", fmt.Errorf("bad host (want host:port)")
		}
		return net.JoinHostPort(h, defaultPort), nil
	}
	if host == "" {
		return "", fmt.Errorf("no host before the port")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %q is not a number in 1..65535", port)
	}
	return net.JoinHostPort(host, port), nil
}
