package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The keys each mapping accepts, in the order they are documented.
var (
	topKeys         = []string{"cluster", "ssh", "coordinator", "run_as", "hosts"}
	sshKeys         = []string{"user", "port", "identity_file", "known_hosts", "jump", "connect_timeout"}
	coordinatorKeys = []string{"port"}
	hostKeys        = []string{"name", "address", "roles", "ssh", "workdir", "nodes", "run_as"}
)

// Parse parses and validates an inventory. file names the input in problems
// and anchors relative local paths; data is the file's content. On failure
// the error is a Problems holding every problem found, in file order.
func Parse(file string, data []byte) (*Inventory, error) {
	p := &parser{file: file}
	inv := p.inventory(data)
	if len(p.problems) > 0 {
		p.problems.sortByPosition()
		if p.dropped > 0 {
			p.problems = append(p.problems, Problem{File: file, Msg: fmt.Sprintf("%d more problems not shown; fix these first", p.dropped)})
		}
		return nil, p.problems
	}
	return inv, nil
}

// parser walks the YAML node tree and collects problems instead of
// stopping at the first one.
type parser struct {
	file     string
	problems Problems
	// badRoles is set when some host's roles could not be read; "no
	// load-driver" would then only repeat that problem.
	badRoles bool
	// dropped counts problems past maxProblems.
	dropped int
}

// maxProblems bounds the report: a hand-written inventory never gets near
// it, but aliases can repeat one bad list across thousands of hosts.
const maxProblems = 500

// add records a problem at node n (nil: no position).
func (p *parser) add(n *yaml.Node, field, format string, args ...any) {
	if len(p.problems) >= maxProblems {
		p.dropped++
		return
	}
	pr := Problem{File: p.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		pr.Line, pr.Col = n.Line, n.Column
	}
	p.problems = append(p.problems, pr)
}

// hostNodes remembers where a host's fields were written, for the checks
// that span hosts.
type hostNodes struct {
	node, name, address *yaml.Node
}

func (p *parser) inventory(data []byte) *Inventory {
	root := p.document(data)
	if root == nil {
		return nil
	}
	inv := &Inventory{File: p.file, Cluster: DefaultCluster, CoordinatorPort: DefaultCoordinatorPort}
	m := p.mapping(root, "", topKeys)
	if m == nil {
		return nil
	}
	if n, ok := m["cluster"]; ok {
		if s, set := p.str(n, "cluster"); set {
			if err := checkName(s); err != nil {
				p.add(n, "cluster", "invalid cluster name %q: %v", s, err)
			} else {
				inv.Cluster = s
			}
		}
	}
	if n, ok := m["ssh"]; ok {
		inv.SSH = p.ssh(n, "ssh")
	}
	if n, ok := m["coordinator"]; ok {
		if cm := p.mapping(n, "coordinator", coordinatorKeys); cm != nil {
			if pn, ok := cm["port"]; ok {
				if port, set := p.port(pn, "coordinator.port"); set {
					inv.CoordinatorPort = port
				}
			}
		}
	}
	if n, ok := m["run_as"]; ok {
		inv.RunAs = p.user(n, "run_as")
	}
	hostsNode, ok := m["hosts"]
	if !ok {
		p.add(root, "hosts", "missing: want a list of hosts, each with name, address and roles")
		return inv
	}
	seq := p.sequence(hostsNode, "hosts", "a list of hosts")
	if seq == nil {
		return inv
	}
	if len(seq) == 0 {
		p.add(hostsNode, "hosts", "empty list: want at least one host with role %s", RoleLoadDriver)
		return inv
	}
	nodes := make([]hostNodes, 0, len(seq))
	for i, hn := range seq {
		h, where := p.host(hn, fmt.Sprintf("hosts[%d]", i), inv.SSH, inv.RunAs)
		inv.Hosts = append(inv.Hosts, h)
		nodes = append(nodes, where)
	}
	p.crossHost(inv, hostsNode, nodes)
	return inv
}

func (p *parser) host(n *yaml.Node, path string, defaults SSH, runAs string) (Host, hostNodes) {
	h := Host{SSH: defaults, Workdir: DefaultWorkdir, Line: n.Line}
	where := hostNodes{node: n}
	m := p.mapping(n, path, hostKeys)
	if m == nil {
		p.badRoles = true
		return h, where
	}
	if v, ok := m["name"]; ok {
		if s, set := p.str(v, path+".name"); set {
			if err := checkName(s); err != nil {
				p.add(v, path+".name", "invalid host name %q: %v", s, err)
			} else {
				h.Name, where.name = HostName(s), v
			}
		} else if r := resolve(v); r != nil && isNull(r) {
			// A null name ("name:" or "{name}") is no name, not a default.
			p.add(v, path+".name", "empty: every host needs a unique name")
		}
	} else {
		p.add(n, path+".name", "missing: every host needs a unique name")
	}
	if v, ok := m["address"]; ok {
		if s, set := p.str(v, path+".address"); set {
			if err := checkAddress(s); err != nil {
				p.add(v, path+".address", "invalid address %q: %v", s, err)
			} else {
				h.Address, where.address = s, v
			}
		} else if r := resolve(v); r != nil && isNull(r) {
			p.add(v, path+".address", "empty: every host needs an address (IP, DNS name or ~/.ssh/config Host)")
		}
	} else {
		p.add(n, path+".address", "missing: every host needs an address (IP, DNS name or ~/.ssh/config Host)")
	}
	if v, ok := m["roles"]; ok {
		h.Roles = p.roles(v, path+".roles")
	} else {
		p.badRoles = true
		p.add(n, path+".roles", "missing: want a list of %s", roleList(" and/or "))
	}
	if v, ok := m["ssh"]; ok {
		h.SSH = defaults.merge(p.ssh(v, path+".ssh"))
	}
	if v, ok := m["workdir"]; ok {
		if s, set := p.pathStr(v, path+".workdir"); set {
			if strings.IndexFunc(s, isControl) >= 0 {
				p.add(v, path+".workdir", "invalid workdir %q: contains a control character", s)
			} else {
				h.Workdir = s
			}
		}
	}
	if h.Has(RoleProvisioner) {
		h.Nodes, h.RunAs = 1, runAs
	}
	for _, key := range []string{"nodes", "run_as"} {
		v, ok := m[key]
		if !ok {
			continue
		}
		if !h.Has(RoleProvisioner) {
			p.add(v, path+"."+key, "only provisioner hosts run nodes: add the role provisioner or remove %s", key)
			continue
		}
		if key == "nodes" {
			if c, set := p.count(v, path+".nodes", 1, MaxNodesPerHost); set {
				h.Nodes = c
			}
		} else if u := p.user(v, path+".run_as"); u != "" {
			h.RunAs = u
		}
	}
	return h, where
}

func (p *parser) roles(n *yaml.Node, field string) []Role {
	before := len(p.problems)
	defer func() { p.badRoles = p.badRoles || len(p.problems) > before }()
	seq := p.sequence(n, field, "a list like [load-driver]")
	if seq == nil {
		return nil
	}
	if len(seq) == 0 {
		p.add(n, field, "empty list: want at least one of %s", roleList(", "))
		return nil
	}
	var roles []Role
	seen := map[Role]*yaml.Node{}
	for i, rn := range seq {
		f := fmt.Sprintf("%s[%d]", field, i)
		s, set := p.str(rn, f)
		if !set {
			continue
		}
		r := Role(s)
		switch {
		case r != RoleLoadDriver && r != RoleProvisioner:
			p.add(rn, f, "unknown role %q (want %s)", s, roleList(" or "))
		case seen[r] != nil:
			p.add(rn, f, "role %q listed twice (first at line %d)", s, seen[r].Line)
		default:
			seen[r] = rn
			roles = append(roles, r)
		}
	}
	return roles
}

func (p *parser) ssh(n *yaml.Node, path string) SSH {
	var s SSH
	m := p.mapping(n, path, sshKeys)
	if m == nil {
		return s
	}
	if v, ok := m["user"]; ok {
		s.User = p.user(v, path+".user")
	}
	if v, ok := m["port"]; ok {
		s.Port, _ = p.port(v, path+".port")
	}
	if v, ok := m["identity_file"]; ok {
		if raw, set := p.pathStr(v, path+".identity_file"); set {
			if f, err := localPath(p.file, raw); err != nil {
				p.add(v, path+".identity_file", "%v", err)
			} else if err := checkReadable(f); err != nil {
				p.add(v, path+".identity_file", "unreadable identity file: %v", err)
			} else {
				s.IdentityFile = f
			}
		}
	}
	if v, ok := m["known_hosts"]; ok {
		if raw, set := p.pathStr(v, path+".known_hosts"); set {
			if f, err := localPath(p.file, raw); err != nil {
				p.add(v, path+".known_hosts", "%v", err)
			} else {
				s.KnownHosts = f
			}
		}
	}
	if v, ok := m["jump"]; ok {
		if j, set := p.str(v, path+".jump"); set {
			if _, err := ParseJump(j); err != nil {
				p.add(v, path+".jump", "%v", err)
			} else {
				s.Jump = j
			}
		}
	}
	if v, ok := m["connect_timeout"]; ok {
		s.ConnectTimeout = p.duration(v, path+".connect_timeout")
	}
	return s
}

// crossHost checks what no single host can: unique names and address:port
// pairs, and that someone will drive load.
func (p *parser) crossHost(inv *Inventory, hostsNode *yaml.Node, nodes []hostNodes) {
	names := map[HostName]int{}
	endpoints := map[string]int{}
	drivers := 0
	for i, h := range inv.Hosts {
		w := nodes[i]
		if h.Has(RoleLoadDriver) {
			drivers++
		}
		if w.name != nil {
			if j, dup := names[h.Name]; dup {
				p.add(w.name, fmt.Sprintf("hosts[%d].name", i), "duplicate name %q (first at line %d, hosts[%d])", h.Name, nodes[j].name.Line, j)
			} else {
				names[h.Name] = i
			}
		}
		if w.address != nil {
			port := h.SSH.Port
			if port == 0 {
				port = 22 // unset means the SSH default; two hosts both unset still collide
			}
			ep := net.JoinHostPort(strings.ToLower(h.Address), strconv.Itoa(port))
			if j, dup := endpoints[ep]; dup {
				p.add(w.address, fmt.Sprintf("hosts[%d].address", i), "duplicate address and port %s (first at line %d, hosts[%d])", ep, nodes[j].address.Line, j)
			} else {
				endpoints[ep] = i
			}
		}
	}
	if drivers == 0 && !p.badRoles {
		p.add(hostsNode, "hosts", "no host has role %s: want at least one", RoleLoadDriver)
	}
}

// yamlLineError matches the position the YAML library puts in its messages.
var (
	yamlLineError   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlAnchorError = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// document decodes the single YAML document of data and returns its root
// node, or nil after recording why there is none.
func (p *parser) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := decodeNode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.add(nil, "", "empty inventory: want a mapping with a hosts list")
		} else {
			p.syntaxError(err, data)
		}
		return nil
	}
	var extra yaml.Node
	switch err := decodeNode(dec, &extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.syntaxError(err, data)
		return nil
	default:
		at := &extra
		if len(extra.Content) > 0 {
			at = extra.Content[0]
		}
		p.add(at, "", "a second YAML document: an inventory is one document; remove the '---' separator")
		return nil
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	if root = resolve(root); root == nil || isNull(root) || root.Kind == yaml.DocumentNode {
		at := root
		if at == nil || at.Line == 0 {
			at = nil
		}
		p.add(at, "", "empty inventory: want a mapping with a hosts list")
		return nil
	}
	return root
}

// decodeNode decodes the next document, turning a panic inside the YAML
// library (a bug there, but input must never crash rally) into an error.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: parser failed: %v", r)
		}
	}()
	return dec.Decode(n)
}

// syntaxError records a YAML library error with the best position it has.
// The library gives a line but no column for syntax errors, and for some
// (an unclosed flow list, a missing '-') the line where the enclosing
// construct starts rather than where it broke. It gives nothing for an
// unknown anchor, whose first use we then find in the text.
func (p *parser) syntaxError(err error, data []byte) {
	msg := err.Error()
	if m := yamlLineError.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		p.problems = append(p.problems, Problem{File: p.file, Line: line, Msg: "invalid YAML: " + m[2], Err: err})
		return
	}
	pr := Problem{File: p.file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: "), Err: err}
	if m := yamlAnchorError.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			pr.Line = bytes.Count(data[:i], []byte("\n")) + 1
			pr.Col = utf8.RuneCount(data[bytes.LastIndexByte(data[:i], '\n')+1:i]) + 1
		}
	}
	p.problems = append(p.problems, pr)
}

// user returns a user name, or "" when null or wrong.
func (p *parser) user(v *yaml.Node, field string) string {
	u, set := p.str(v, field)
	if !set {
		return ""
	}
	if strings.ContainsFunc(u, func(r rune) bool { return isControl(r) || r == ' ' || r == '\t' || r == '@' || r == ':' || r == '/' }) {
		p.add(v, field, "invalid user %q: contains a space, control character, '@', ':' or '/'", u)
		return ""
	}
	return u
}
