package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// yml joins lines into a YAML document; one string per line keeps the
// line and column numbers in the expectations easy to check by eye.
func yml(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

func TestParse_valid(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "id_test")
	if err := os.WriteFile(key, []byte("not really a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	inventoryFile := filepath.Join(dir, "hosts.yaml")

	tests := []struct {
		name string
		in   []byte
		want *Inventory
	}{
		{
			name: "minimal_inventory_gets_defaults_and_leaves_ssh_unset",
			in: yml(
				"hosts:",
				"  - name: d1",
				"    address: 10.0.0.11",
				"    roles: [load-driver]",
			),
			want: &Inventory{
				File: inventoryFile, Cluster: "default", CoordinatorPort: 1900,
				Hosts: []Host{{Name: "d1", Address: "10.0.0.11", Roles: []Role{RoleLoadDriver}, Workdir: "~/.rally", Line: 2}},
			},
		},
		{
			name: "host_override_wins_over_defaults_key_by_key",
			in: yml(
				"cluster: demo",
				"ssh:",
				"  user: root",
				"  port: 2222",
				"  known_hosts: ~/.ssh/known_hosts",
				"  jump: ops@bastion.example:2200",
				"  connect_timeout: 10s",
				"coordinator:",
				"  port: 1901",
				"hosts:",
				"  - name: driver-1",
				"    address: 10.0.0.11",
				"    roles: [load-driver]",
				"    ssh: {user: ubuntu, identity_file: id_test}",
				"  - name: es.1",
				"    address: es1.example",
				"    roles: [provisioner, load-driver]",
				"    workdir: /srv/rally",
			),
			want: &Inventory{
				File: inventoryFile, Cluster: "demo", CoordinatorPort: 1901,
				SSH: SSH{User: "root", Port: 2222, KnownHosts: filepath.Join(home, ".ssh/known_hosts"), Jump: "ops@bastion.example:2200", ConnectTimeout: 10 * time.Second},
				Hosts: []Host{
					{
						Name: "driver-1", Address: "10.0.0.11", Roles: []Role{RoleLoadDriver}, Workdir: "~/.rally", Line: 11,
						SSH: SSH{User: "ubuntu", Port: 2222, IdentityFile: key, KnownHosts: filepath.Join(home, ".ssh/known_hosts"), Jump: "ops@bastion.example:2200", ConnectTimeout: 10 * time.Second},
					},
					{
						Name: "es.1", Address: "es1.example", Roles: []Role{RoleProvisioner, RoleLoadDriver}, Workdir: "/srv/rally", Nodes: 1, Line: 15,
						SSH: SSH{User: "root", Port: 2222, KnownHosts: filepath.Join(home, ".ssh/known_hosts"), Jump: "ops@bastion.example:2200", ConnectTimeout: 10 * time.Second},
					},
				},
			},
		},
		{
			name: "null_values_mean_not_set_and_bare_tilde_workdir_is_home",
			in: yml(
				"cluster:",
				"ssh:",
				"coordinator: {port: }",
				"hosts:",
				"  - {name: d1, address: '::1', roles: [load-driver], workdir: ~, ssh: {port: 0x16}}",
			),
			want: &Inventory{
				File: inventoryFile, Cluster: "default", CoordinatorPort: 1900,
				Hosts: []Host{{Name: "d1", Address: "::1", Roles: []Role{RoleLoadDriver}, Workdir: "~", Line: 5, SSH: SSH{Port: 22}}},
			},
		},
		{
			name: "anchors_and_aliases_are_followed",
			in: yml(
				"ssh: &common {user: bench}",
				"hosts:",
				"  - {name: a, address: 10.0.0.1, roles: &r [load-driver], ssh: *common}",
				"  - {name: b, address: 10.0.0.2, roles: *r}",
			),
			want: &Inventory{
				File: inventoryFile, Cluster: "default", CoordinatorPort: 1900, SSH: SSH{User: "bench"},
				Hosts: []Host{
					{Name: "a", Address: "10.0.0.1", Roles: []Role{RoleLoadDriver}, Workdir: "~/.rally", Line: 3, SSH: SSH{User: "bench"}},
					{Name: "b", Address: "10.0.0.2", Roles: []Role{RoleLoadDriver}, Workdir: "~/.rally", Line: 4, SSH: SSH{User: "bench"}},
				},
			},
		},
		{
			name: "merge_keys_fill_in_what_a_host_does_not_set",
			in: yml(
				"hosts:",
				"  - &driver {name: a, address: 10.0.0.1, roles: [load-driver], workdir: /srv/rally}",
				"  - {<<: *driver, name: b, address: 10.0.0.2}",
				"  - {<<: [{ssh: {user: u}}, *driver], name: c, address: 10.0.0.3, workdir: /opt/rally}",
			),
			want: &Inventory{
				File: inventoryFile, Cluster: "default", CoordinatorPort: 1900,
				Hosts: []Host{
					{Name: "a", Address: "10.0.0.1", Roles: []Role{RoleLoadDriver}, Workdir: "/srv/rally", Line: 2},
					{Name: "b", Address: "10.0.0.2", Roles: []Role{RoleLoadDriver}, Workdir: "/srv/rally", Line: 3},
					{Name: "c", Address: "10.0.0.3", Roles: []Role{RoleLoadDriver}, Workdir: "/opt/rally", Line: 4, SSH: SSH{User: "u"}},
				},
			},
		},
		{
			name: "same_address_on_different_ports_is_two_hosts",
			in: yml(
				"hosts:",
				"  - {name: a, address: 127.0.0.1, roles: [load-driver], ssh: {port: 2201}}",
				"  - {name: b, address: 127.0.0.1, roles: [load-driver], ssh: {port: 2202}}",
			),
			want: &Inventory{
				File: inventoryFile, Cluster: "default", CoordinatorPort: 1900,
				Hosts: []Host{
					{Name: "a", Address: "127.0.0.1", Roles: []Role{RoleLoadDriver}, Workdir: "~/.rally", Line: 2, SSH: SSH{Port: 2201}},
					{Name: "b", Address: "127.0.0.1", Roles: []Role{RoleLoadDriver}, Workdir: "~/.rally", Line: 3, SSH: SSH{Port: 2202}},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(inventoryFile, tt.in)
			if err != nil {
				t.Fatalf("Parse: unexpected error:\n%v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParse_invalid(t *testing.T) {
	dir := t.TempDir()
	missingKey := filepath.Join(dir, "no_such_key")
	const host = "  - {name: d1, address: 10.0.0.1, roles: [load-driver]}"

	tests := []struct {
		name string
		in   []byte
		want []string // every problem, exactly, in order
	}{
		{
			name: "unknown_role_names_the_item_and_the_valid_roles",
			in:   yml("hosts:", "  - name: d1", "    address: 10.0.0.1", "    roles: [load-driver, loaddriver]"),
			want: []string{`hosts.yaml:4:26: hosts[0].roles[1]: unknown role "loaddriver" (want load-driver or provisioner)`},
		},
		{
			name: "nodes_and_run_as_only_on_provisioner_hosts_and_in_range",
			in: yml(
				"run_as: 'a b'",
				"hosts:",
				"  - {name: d1, address: 10.0.0.1, roles: [load-driver], nodes: 2, run_as: es}",
				"  - {name: p1, address: 10.0.0.2, roles: [provisioner], nodes: 0}",
				"  - {name: p2, address: 10.0.0.3, roles: [provisioner], nodes: two, run_as: x@y}",
			),
			want: []string{
				`hosts.yaml:1:9: run_as: invalid user "a b": contains a space, control character, '@', ':' or '/'`,
				`hosts.yaml:3:64: hosts[0].nodes: only provisioner hosts run nodes: add the role provisioner or remove nodes`,
				`hosts.yaml:3:75: hosts[0].run_as: only provisioner hosts run nodes: add the role provisioner or remove run_as`,
				`hosts.yaml:4:64: hosts[1].nodes: 0 out of range 1..16`,
				`hosts.yaml:5:64: hosts[2].nodes: want a number 1..16, got "two"`,
				`hosts.yaml:5:77: hosts[2].run_as: invalid user "x@y": contains a space, control character, '@', ':' or '/'`,
			},
		},
		{
			name: "unknown_keys_at_every_level_are_each_reported",
			in: yml(
				"clustr: x",
				"ssh: {usr: a}",
				"coordinator: {prt: 1}",
				"hosts:",
				"  - {name: d1, address: 10.0.0.1, roles: [load-driver], ssh: {identityfile: x}, extra: 1}",
			),
			want: []string{
				`hosts.yaml:1:1: clustr: unknown key "clustr" (did you mean "cluster"? valid keys: cluster, ssh, coordinator, run_as, hosts)`,
				`hosts.yaml:2:7: ssh.usr: unknown key "usr" (did you mean "user"? valid keys: user, port, identity_file, known_hosts, jump, connect_timeout)`,
				`hosts.yaml:3:15: coordinator.prt: unknown key "prt" (did you mean "port"? valid keys: port)`,
				`hosts.yaml:5:63: hosts[0].ssh.identityfile: unknown key "identityfile" (did you mean "identity_file"? valid keys: user, port, identity_file, known_hosts, jump, connect_timeout)`,
				`hosts.yaml:5:81: hosts[0].extra: unknown key "extra" (valid keys: name, address, roles, ssh, workdir, nodes, run_as)`,
			},
		},
		{
			name: "missing_name_address_and_roles_point_at_the_host",
			in:   yml("hosts:", "  - workdir: /tmp", host),
			want: []string{
				`hosts.yaml:2:5: hosts[0].name: missing: every host needs a unique name`,
				`hosts.yaml:2:5: hosts[0].address: missing: every host needs an address (IP, DNS name or ~/.ssh/config Host)`,
				`hosts.yaml:2:5: hosts[0].roles: missing: want a list of load-driver and/or provisioner`,
			},
		},
		{
			// Found by FuzzParse: keys without values are null, not unset.
			name: "null_name_and_address_are_errors",
			in:   []byte("hosts:\n- {name,address,roles: [load-driver]}"),
			want: []string{
				`hosts.yaml:2:8: hosts[0].name: empty: every host needs a unique name`,
				`hosts.yaml:2:16: hosts[0].address: empty: every host needs an address (IP, DNS name or ~/.ssh/config Host)`,
			},
		},
		{
			name: "duplicate_names_and_endpoints_point_at_the_second_and_name_the_first",
			in: yml(
				"hosts:",
				"  - {name: d1, address: 10.0.0.1, roles: [load-driver]}",
				"  - {name: d1, address: 10.0.0.1, roles: [load-driver], ssh: {port: 22}}",
			),
			want: []string{
				`hosts.yaml:3:12: hosts[1].name: duplicate name "d1" (first at line 2, hosts[0])`,
				`hosts.yaml:3:25: hosts[1].address: duplicate address and port 10.0.0.1:22 (first at line 2, hosts[0])`,
			},
		},
		{
			name: "no_load_driver",
			in:   yml("hosts:", "  - {name: es, address: 10.0.0.1, roles: [provisioner]}"),
			want: []string{`hosts.yaml:2:3: hosts: no host has role load-driver: want at least one`},
		},
		{
			name: "ports_out_of_range_or_not_numbers",
			in: yml(
				"ssh: {port: 0}",
				"coordinator: {port: 65536}",
				"hosts:",
				"  - {name: d1, address: 10.0.0.1, roles: [load-driver], ssh: {port: '22'}}",
				"  - {name: d2, address: 10.0.0.2, roles: [load-driver], ssh: {port: [22]}}",
			),
			want: []string{
				`hosts.yaml:1:13: ssh.port: port 0 out of range 1..65535`,
				`hosts.yaml:2:21: coordinator.port: port 65536 out of range 1..65535`,
				`hosts.yaml:4:69: hosts[0].ssh.port: want a port number 1..65535, got "22"`,
				`hosts.yaml:5:69: hosts[1].ssh.port: want a port number 1..65535, got a list`,
			},
		},
		{
			name: "unreadable_identity_file_is_reported_where_it_is_written",
			in:   yml("ssh:", "  identity_file: "+missingKey, "hosts:", host),
			want: []string{`hosts.yaml:2:18: ssh.identity_file: unreadable identity file: stat ` + missingKey + `: no such file or directory`},
		},
		{
			name: "bad_jump_syntax",
			in: yml(
				"ssh: {jump: 'ops@'}",
				"hosts:",
				"  - {name: d1, address: 10.0.0.1, roles: [load-driver], ssh: {jump: 'b:99999'}}",
			),
			want: []string{
				`hosts.yaml:1:13: ssh.jump: invalid jump "ops@": want [user@]host[:port]: empty host`,
				`hosts.yaml:3:69: hosts[0].ssh.jump: invalid jump "b:99999": want [user@]host[:port]: port "99999" out of range 1..65535`,
			},
		},
		{
			name: "empty_hosts_list",
			in:   yml("cluster: demo", "hosts: []"),
			want: []string{`hosts.yaml:2:8: hosts: empty list: want at least one host with role load-driver`},
		},
		{
			name: "missing_hosts",
			in:   yml("cluster: demo"),
			want: []string{`hosts.yaml:1:1: hosts: missing: want a list of hosts, each with name, address and roles`},
		},
		{
			name: "not_a_mapping",
			in:   yml("- name: d1"),
			want: []string{`hosts.yaml:1:1: want a mapping with keys cluster, ssh, coordinator, run_as, hosts, got a list`},
		},
		{
			name: "host_not_a_mapping",
			in:   yml("hosts:", "  - d1", host),
			want: []string{`hosts.yaml:2:5: hosts[0]: want a mapping with keys name, address, roles, ssh, workdir, nodes, run_as, got "d1"`},
		},
		{
			name: "yaml_syntax_error_has_the_line",
			in:   yml("hosts:", "  - name: d1", "    address: 10.0.0.1", "      roles: [load-driver]"),
			want: []string{`hosts.yaml:4: invalid YAML: mapping values are not allowed in this context`},
		},
		{
			name: "unknown_anchor_is_found_in_the_text",
			in:   yml("hosts:", "  - *driver"),
			want: []string{`hosts.yaml:2:5: invalid YAML: unknown anchor 'driver' referenced`},
		},
		{
			name: "empty_file",
			in:   []byte("# nothing yet\n"),
			want: []string{`hosts.yaml: empty inventory: want a mapping with a hosts list`},
		},
		{
			name: "second_document",
			in:   yml("hosts:", host, "---", "hosts: []"),
			want: []string{`hosts.yaml:4:1: a second YAML document: an inventory is one document; remove the '---' separator`},
		},
		{
			name: "unsafe_names_and_addresses",
			in: yml(
				"cluster: ../x",
				"hosts:",
				"  - {name: 'a b', address: ubuntu@10.0.0.1, roles: [load-driver]}",
				"  - {name: d2, address: 'h:2222', roles: [load-driver]}",
				"  - {name: d3, address: '[::1]', roles: [load-driver]}",
			),
			want: []string{
				`hosts.yaml:1:10: cluster: invalid cluster name "../x": use only letters, digits, '.', '_' and '-'`,
				`hosts.yaml:3:12: hosts[0].name: invalid host name "a b": use only letters, digits, '.', '_' and '-'`,
				`hosts.yaml:3:28: hosts[0].address: invalid address "ubuntu@10.0.0.1": contains a user: put it in ssh.user`,
				`hosts.yaml:4:25: hosts[1].address: invalid address "h:2222": contains a port: put it in ssh.port`,
				`hosts.yaml:5:25: hosts[2].address: invalid address "[::1]": write IPv6 addresses without brackets`,
			},
		},
		{
			name: "duplicate_keys_and_roles",
			in: yml(
				"hosts:",
				"  - name: d1",
				"    address: 10.0.0.1",
				"    roles: [load-driver, load-driver]",
				"    name: d2",
			),
			want: []string{
				`hosts.yaml:4:26: hosts[0].roles[1]: role "load-driver" listed twice (first at line 4)`,
				`hosts.yaml:5:5: hosts[0].name: duplicate key "name" (first at line 2)`,
			},
		},
		{
			name: "durations_need_a_unit_and_must_be_positive",
			in:   yml("ssh: {connect_timeout: 10}", "hosts:", "  - {name: d1, address: 10.0.0.1, roles: [load-driver], ssh: {connect_timeout: -1s}}"),
			want: []string{
				`hosts.yaml:1:24: ssh.connect_timeout: want a duration with a unit such as 10s, got "10"`,
				`hosts.yaml:3:80: hosts[0].ssh.connect_timeout: duration -1s must be positive`,
			},
		},
		{
			name: "roles_must_be_a_non_empty_list",
			in: yml(
				"hosts:",
				"  - {name: d1, address: 10.0.0.1, roles: load-driver}",
				"  - {name: d2, address: 10.0.0.2, roles: []}",
			),
			want: []string{
				`hosts.yaml:2:42: hosts[0].roles: want a list like [load-driver], got "load-driver"`,
				`hosts.yaml:3:42: hosts[1].roles: empty list: want at least one of load-driver, provisioner`,
			},
		},
		{
			name: "merged_mappings_are_checked_too",
			in:   yml("hosts:", "  - {<<: {rolez: [x]}, name: d1, address: 10.0.0.1, roles: [load-driver]}", "  - {<<: 3, name: d2, address: 10.0.0.2, roles: [load-driver]}"),
			want: []string{
				`hosts.yaml:2:11: hosts[0].rolez: unknown key "rolez" (did you mean "roles"? valid keys: name, address, roles, ssh, workdir, nodes, run_as)`,
				`hosts.yaml:3:10: hosts[1]: merge key <<: want a mapping or a list of mappings, got "3"`,
			},
		},
		{
			name: "empty_strings_are_not_values",
			in:   yml("ssh: {user: ''}", "hosts:", "  - {name: d1, address: '', roles: [load-driver]}"),
			want: []string{
				`hosts.yaml:1:13: ssh.user: empty value: remove the key to use the default, or give a value`,
				`hosts.yaml:3:25: hosts[0].address: empty value: remove the key to use the default, or give a value`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Parse("hosts.yaml", tt.in)
			if err == nil {
				t.Fatalf("Parse: want problems, got none (inventory %+v)", inv)
			}
			if inv != nil {
				t.Errorf("Parse: want a nil inventory with problems, got %+v", inv)
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Parse: error %T is not Problems: %v", err, err)
			}
			got := strings.Split(ps.Error(), "\n")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

func TestParse_problemsAreBoundedWhenAliasesRepeatThem(t *testing.T) {
	var b strings.Builder
	b.WriteString("roles: &bad [")
	for i := range 100 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("nope")
	}
	b.WriteString("]\nhosts:\n")
	for i := range 100 {
		fmt.Fprintf(&b, "  - {name: h%d, address: 10.0.0.%d, roles: *bad}\n", i, i)
	}
	_, err := Parse("hosts.yaml", []byte(b.String()))
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	// 10,001 problems (an unknown top-level key, 100 hosts x 100 bad roles):
	// the first 500 and a note saying how many more there were.
	if len(ps) != maxProblems+1 {
		t.Fatalf("got %d problems, want %d (the cap plus a note)", len(ps), maxProblems+1)
	}
	if last := ps[len(ps)-1].Error(); last != "hosts.yaml: 9501 more problems not shown; fix these first" {
		t.Errorf("last problem = %q", last)
	}
}

func TestProblem_Error(t *testing.T) {
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{"full_position_and_field", Problem{File: "hosts.yaml", Line: 12, Col: 5, Field: "hosts[1].roles[0]", Msg: `unknown role "loaddriver" (want load-driver or provisioner)`}, `hosts.yaml:12:5: hosts[1].roles[0]: unknown role "loaddriver" (want load-driver or provisioner)`},
		{"line_only", Problem{File: "h.yaml", Line: 3, Msg: "invalid YAML: x"}, "h.yaml:3: invalid YAML: x"},
		{"no_position", Problem{File: "h.yaml", Msg: "cannot read"}, "h.yaml: cannot read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	t.Run("missing_file_is_a_problem_that_unwraps_to_fs_ErrNotExist", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "hosts.yaml")
		_, err := Load(path)
		var ps Problems
		if !errors.As(err, &ps) || len(ps) != 1 {
			t.Fatalf("Load: want one Problem, got %v", err)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load: error does not unwrap to fs.ErrNotExist: %v", err)
		}
		if want := path + ": cannot read inventory: no such file or directory"; err.Error() != want {
			t.Errorf("Load: got %q, want %q", err, want)
		}
	})
	t.Run("reads_and_parses_a_file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "hosts.yaml")
		if err := os.WriteFile(path, yml("cluster: c1", "hosts:", "  - {name: d1, address: 10.0.0.1, roles: [load-driver]}"), 0o644); err != nil {
			t.Fatal(err)
		}
		inv, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if inv.File != path || inv.Cluster != "c1" || len(inv.Hosts) != 1 {
			t.Errorf("Load: got %+v", inv)
		}
	})
}

func TestLocalPaths(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, in, want, wantErr string
	}{
		{name: "tilde_slash_is_local_home", file: "/etc/rally/hosts.yaml", in: "~/.ssh/id", want: filepath.Join(home, ".ssh/id")},
		{name: "bare_tilde_is_local_home", file: "/etc/rally/hosts.yaml", in: "~", want: home},
		{name: "relative_is_next_to_the_inventory", file: "/etc/rally/hosts.yaml", in: "keys/id", want: "/etc/rally/keys/id"},
		{name: "absolute_is_kept", file: "/etc/rally/hosts.yaml", in: "/k/id", want: "/k/id"},
		{name: "tilde_user_is_refused", file: "hosts.yaml", in: "~bob/id", wantErr: `cannot expand "~bob/id": ~user paths are not supported, write the full path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := localPath(tt.file, tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("localPath(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("localPath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseJump(t *testing.T) {
	tests := []struct {
		in      string
		want    JumpHost
		wantErr string
	}{
		{in: "bastion", want: JumpHost{Host: "bastion"}},
		{in: "ops@bastion:2200", want: JumpHost{User: "ops", Host: "bastion", Port: 2200}},
		{in: "10.0.0.1:22", want: JumpHost{Host: "10.0.0.1", Port: 22}},
		{in: "ops@[fe80::1]:22", want: JumpHost{User: "ops", Host: "fe80::1", Port: 22}},
		{in: "fe80::1", want: JumpHost{Host: "fe80::1"}},
		{in: "a,b", wantErr: "only one jump host is supported"},
		{in: "@b", wantErr: "empty user before '@'"},
		{in: "b:", wantErr: "empty port after ':'"},
		{in: "b:x", wantErr: `port "x" out of range 1..65535`},
		{in: "a@b@c", wantErr: `'@' is not allowed in a host name`},
		{in: "ssh://b", wantErr: "URLs are not supported"},
		{in: "[::1", wantErr: "missing ']' after IPv6 address"},
		{in: "a:b:c", wantErr: "too many ':' (write an IPv6 address with a port as [addr]:port)"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseJump(tt.in)
			if tt.wantErr != "" {
				want := `invalid jump "` + tt.in + `": want [user@]host[:port]: ` + tt.wantErr
				if err == nil || err.Error() != want {
					t.Fatalf("ParseJump(%q) error = %v, want %q", tt.in, err, want)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseJump(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestInventory_Summary(t *testing.T) {
	inv := &Inventory{Cluster: "demo", Hosts: []Host{
		{Name: "a", Roles: []Role{RoleLoadDriver}},
		{Name: "b", Roles: []Role{RoleLoadDriver, RoleProvisioner}},
		{Name: "c", Roles: []Role{RoleProvisioner}},
	}}
	if got, want := inv.Summary(), "cluster demo, 3 hosts (2 load-driver, 2 provisioner)"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	one := &Inventory{Cluster: "x", Hosts: []Host{{Name: "a", Roles: []Role{RoleLoadDriver}}}}
	if got, want := one.Summary(), "cluster x, 1 host (1 load-driver)"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	if h, ok := inv.Host("b"); !ok || !h.Has(RoleProvisioner) || !h.Has(RoleLoadDriver) {
		t.Errorf("Host(b) = %+v, %v", h, ok)
	}
	if _, ok := inv.Host("zz"); ok {
		t.Error("Host(zz) found a host that does not exist")
	}
}

func TestLoad_exampleInventoryIsValid(t *testing.T) {
	inv, err := Load("../examples/hosts.yaml")
	if err != nil {
		t.Fatalf("examples/hosts.yaml:\n%v", err)
	}
	if got, want := inv.Summary(), "cluster demo, 3 hosts (2 load-driver, 1 provisioner)"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	if h, _ := inv.Host("driver-2"); h.SSH.User != "ubuntu" || h.SSH.Port != 22 {
		t.Errorf("driver-2 should override the user and inherit the port: %+v", h.SSH)
	}
}

func TestParse_nodesAndRunAs(t *testing.T) {
	inv, err := Parse("hosts.yaml", yml(
		"run_as: elastic",
		"hosts:",
		"  - {name: d1, address: 10.0.0.1, roles: [load-driver]}",
		"  - {name: p1, address: 10.0.0.2, roles: [provisioner]}",
		"  - {name: p2, address: 10.0.0.3, roles: [provisioner, load-driver], nodes: 3, run_as: search}",
	))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		nodes int
		runAs string
	}{{0, ""}, {1, "elastic"}, {3, "search"}}
	for i, h := range inv.Hosts {
		if h.Nodes != want[i].nodes || h.RunAs != want[i].runAs {
			t.Errorf("%s: nodes %d, run_as %q; want %d, %q", h.Name, h.Nodes, h.RunAs, want[i].nodes, want[i].runAs)
		}
	}
}
