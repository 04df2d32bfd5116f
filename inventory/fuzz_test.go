package inventory

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse checks that no input crashes the parser, that every failure is
// a non-empty Problems naming the file, and that every success satisfies
// the promises the rest of rally relies on.
func FuzzParse(f *testing.F) {
	if example, err := os.ReadFile("../examples/hosts.yaml"); err == nil {
		f.Add(example)
	}
	for _, seed := range [][]byte{
		yml("hosts:", "  - {name: d1, address: 10.0.0.1, roles: [load-driver]}"),
		yml("cluster: demo", "ssh: &s {user: root, port: 22, jump: 'a@b:1', connect_timeout: 10s}",
			"coordinator: {port: 1900}", "hosts:", "  - {name: d1, address: '::1', roles: [load-driver, provisioner], ssh: *s, workdir: ~}"),
		yml("hosts:", "  - *missing"),
		yml("hosts: [", "---"),
		yml("? [a]", ": b"),
		[]byte("hosts:\n\t- x\n"),
		[]byte(""),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse("hosts.yaml", data)
		if err != nil {
			checkProblems(t, inv, err)
			return
		}
		checkInventory(t, inv)
	})
}

func checkProblems(t *testing.T, inv *Inventory, err error) {
	t.Helper()
	if inv != nil {
		t.Fatalf("got both an inventory and an error: %v", err)
	}
	var ps Problems
	if !errors.As(err, &ps) || len(ps) == 0 {
		t.Fatalf("error is not a non-empty Problems: %T %v", err, err)
	}
	for _, p := range ps {
		if p.File != "hosts.yaml" || p.Msg == "" || p.Line < 0 || p.Col < 0 || (p.Col > 0 && p.Line == 0) {
			t.Fatalf("malformed problem %#v", p)
		}
	}
}

func checkInventory(t *testing.T, inv *Inventory) {
	t.Helper()
	if inv == nil || len(inv.Hosts) == 0 {
		t.Fatalf("success without hosts: %+v", inv)
	}
	if checkName(inv.Cluster) != nil || inv.CoordinatorPort < 1 || inv.CoordinatorPort > 65535 {
		t.Fatalf("bad cluster or coordinator port: %+v", inv)
	}
	names := map[HostName]bool{}
	drivers := 0
	for _, h := range inv.Hosts {
		if checkName(string(h.Name)) != nil || names[h.Name] {
			t.Fatalf("bad or duplicate host name %q", h.Name)
		}
		names[h.Name] = true
		if h.Address == "" || checkAddress(h.Address) != nil || len(h.Roles) == 0 || h.Workdir == "" || h.Line < 1 {
			t.Fatalf("bad host %+v", h)
		}
		if h.SSH.Port < 0 || h.SSH.Port > 65535 || h.SSH.ConnectTimeout < 0 {
			t.Fatalf("bad ssh settings %+v", h.SSH)
		}
		if h.SSH.Jump != "" {
			if _, err := ParseJump(h.SSH.Jump); err != nil {
				t.Fatalf("accepted a jump ParseJump refuses: %v", err)
			}
		}
		if h.Has(RoleLoadDriver) {
			drivers++
		}
	}
	if drivers == 0 {
		t.Fatal("success without a load-driver host")
	}
}
