package inventory

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"rally/spelling"
)

// maxAliasHops bounds alias chains; the YAML library already rejects
// cycles, so this only guards against surprises.
const maxAliasHops = 64

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxAliasHops; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node is, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	default:
		return "something else"
	}
}

// mapping checks that n is a mapping with only valid, unique, plain keys
// and returns its values by key (aliases resolved). A null value counts as
// an empty mapping. It returns nil after recording a problem when n is not
// a mapping at all.
func (p *parser) mapping(n *yaml.Node, path string, valid []string) map[string]*yaml.Node {
	at := n
	n = resolve(n)
	if n == nil {
		p.add(at, path, "want a mapping, got an unresolvable alias")
		return nil
	}
	if isNull(n) {
		return map[string]*yaml.Node{}
	}
	if n.Kind != yaml.MappingNode {
		p.add(at, path, "want a mapping with keys %s, got %s", strings.Join(valid, ", "), describe(n))
		return nil
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	keys := map[string]*yaml.Node{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			p.add(n.Content[i], path, "want a plain key, got %s", describe(n.Content[i]))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		field := join(path, k.Value)
		if first, dup := keys[k.Value]; dup {
			p.add(k, field, "duplicate key %q (first at line %d)", k.Value, first.Line)
			continue
		}
		keys[k.Value] = k
		if !contains(valid, k.Value) {
			p.add(k, field, "unknown key %q (%svalid keys: %s)", k.Value, suggest(k.Value, valid), strings.Join(valid, ", "))
			continue
		}
		out[k.Value] = v
	}
	for _, m := range merges {
		p.merge(out, m, path, valid)
	}
	return out
}

// merge applies a YAML merge key ("<<: *defaults"): keys of the merged
// mapping, or of each mapping in a merged list (the first one wins), that
// the mapping does not set itself.
func (p *parser) merge(out map[string]*yaml.Node, src *yaml.Node, path string, valid []string) {
	sources := []*yaml.Node{src}
	if r := resolve(src); r != nil && r.Kind == yaml.SequenceNode {
		sources = r.Content
	}
	for _, s := range sources {
		if r := resolve(s); r == nil || r.Kind != yaml.MappingNode {
			p.add(s, path, "merge key <<: want a mapping or a list of mappings, got %s", describeOrAlias(r))
			continue
		}
		for k, v := range p.mapping(s, path, valid) {
			if _, set := out[k]; !set {
				out[k] = v
			}
		}
	}
}

// sequence checks that n is a list and returns its items (aliases
// resolved), or nil after recording a problem. A null value counts as an
// empty list.
func (p *parser) sequence(n *yaml.Node, field, want string) []*yaml.Node {
	at := n
	if n = resolve(n); n == nil {
		p.add(at, field, "want %s, got an unresolvable alias", want)
		return nil
	}
	if isNull(n) {
		return []*yaml.Node{}
	}
	if n.Kind != yaml.SequenceNode {
		p.add(at, field, "want %s, got %s", want, describe(n))
		return nil
	}
	items := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		if items[i] = resolve(c); items[i] == nil {
			items[i] = c
		}
	}
	return items
}

// str returns a scalar's text. set is false when the value is null (not
// set) or after a problem was recorded (not a scalar, or an empty string).
func (p *parser) str(n *yaml.Node, field string) (s string, set bool) {
	at := n
	if n = resolve(n); n == nil || n.Kind != yaml.ScalarNode {
		got := "an unresolvable alias"
		if n != nil {
			got = describe(n)
		}
		p.add(at, field, "want a string, got %s", got)
		return "", false
	}
	if isNull(n) {
		return "", false
	}
	if strings.TrimSpace(n.Value) == "" {
		p.add(at, field, "empty value: remove the key to use the default, or give a value")
		return "", false
	}
	return n.Value, true
}

// pathStr is str for paths, where a bare ~ (which YAML reads as null)
// means the home directory.
func (p *parser) pathStr(n *yaml.Node, field string) (string, bool) {
	if r := resolve(n); r != nil && r.Kind == yaml.ScalarNode && r.Value == "~" && r.Style == 0 {
		return "~", true
	}
	return p.str(n, field)
}

// port returns a port number in 1..65535; set is false when null or wrong.
func (p *parser) port(n *yaml.Node, field string) (port int, set bool) {
	at := n
	if n = resolve(n); n == nil || n.Kind != yaml.ScalarNode {
		p.add(at, field, "want a port number 1..65535, got %s", describeOrAlias(n))
		return 0, false
	}
	if isNull(n) {
		return 0, false
	}
	var v int64
	if n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		p.add(at, field, "want a port number 1..65535, got %s", describe(n))
		return 0, false
	}
	if v < 1 || v > 65535 {
		p.add(at, field, "port %s out of range 1..65535", n.Value)
		return 0, false
	}
	return int(v), true
}

// count returns an integer in lo..hi; set is false when null or wrong.
func (p *parser) count(n *yaml.Node, field string, lo, hi int) (c int, set bool) {
	at := n
	if n = resolve(n); n == nil || n.Kind != yaml.ScalarNode {
		p.add(at, field, "want a number %d..%d, got %s", lo, hi, describeOrAlias(n))
		return 0, false
	}
	if isNull(n) {
		return 0, false
	}
	var v int64
	if n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		p.add(at, field, "want a number %d..%d, got %s", lo, hi, describe(n))
		return 0, false
	}
	if v < int64(lo) || v > int64(hi) {
		p.add(at, field, "%s out of range %d..%d", n.Value, lo, hi)
		return 0, false
	}
	return int(v), true
}

// duration returns a positive duration written with a unit ("10s"); zero
// when null or wrong.
func (p *parser) duration(n *yaml.Node, field string) time.Duration {
	at := n
	if n = resolve(n); n == nil || n.Kind != yaml.ScalarNode {
		p.add(at, field, "want a duration such as 10s, got %s", describeOrAlias(n))
		return 0
	}
	if isNull(n) {
		return 0
	}
	d, err := time.ParseDuration(n.Value)
	switch {
	case err != nil && n.ShortTag() == "!!int":
		p.add(at, field, "want a duration with a unit such as %ss, got %s", n.Value, describe(n))
	case err != nil:
		p.add(at, field, "want a duration such as 10s or 1m30s, got %s", describe(n))
	case d <= 0:
		p.add(at, field, "duration %s must be positive", n.Value)
	default:
		return d
	}
	return 0
}

func describeOrAlias(n *yaml.Node) string {
	if n == nil {
		return "an unresolvable alias"
	}
	return describe(n)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// suggest returns `did you mean "x"? ` for the valid key closest to key,
// when one is close enough to be a typo.
func suggest(key string, valid []string) string {
	best, ok := spelling.Nearest(strings.ToLower(key), valid, 2)
	if !ok {
		return ""
	}
	return fmt.Sprintf("did you mean %q? ", best)
}
