package remote

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestTargetResolved(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "/agent.sock")
	cfg := filepath.Join(home, "cfg")
	if err := os.WriteFile(cfg, []byte(`
Host web*
  HostName %h.example.net
  User deploy
  Port 2222
  IdentityFile ~/.ssh/web_key
  IdentityFile %d/other_%r
  ProxyJump bastion
  UserKnownHostsFile ~/kh /etc/ignored

Host *
  User fallback
`), 0o600); err != nil {
		t.Fatal(err)
	}
	local := currentUser()

	tests := []struct {
		name string
		in   Target
		want Target
	}{
		{
			name: "defaults_without_config",
			in:   Target{Address: "10.0.0.12", SSHConfigFile: "none"},
			want: Target{Name: "10.0.0.12", Address: "10.0.0.12", Port: 22, User: local, IdentityFiles: []string{},
				AgentSocket: "/agent.sock", KnownHostsFile: filepath.Join(home, ".ssh", "known_hosts"),
				ConnectTimeout: 10 * time.Second, KeepaliveInterval: 5 * time.Second, KeepaliveCountMax: 3, SSHConfigFile: "none"},
		},
		{
			name: "config_fills_zero_fields_with_tokens_expanded",
			in:   Target{Name: "h2", Address: "web1", SSHConfigFile: cfg},
			want: Target{Name: "h2", Address: "web1.example.net", Port: 2222, User: "deploy",
				IdentityFiles: []string{filepath.Join(home, ".ssh/web_key"), filepath.Join(home, "other_deploy")},
				AgentSocket:   "/agent.sock", KnownHostsFile: filepath.Join(home, "kh"), Jump: "bastion",
				ConnectTimeout: 10 * time.Second, KeepaliveInterval: 5 * time.Second, KeepaliveCountMax: 3, SSHConfigFile: cfg},
		},
		{
			name: "explicit_fields_win_and_identities_come_first",
			in: Target{Address: "web1", Port: 22, User: "ops", IdentityFiles: []string{"/k"}, KnownHostsFile: "/kh",
				Jump: "none", AgentSocket: "none", ConnectTimeout: time.Second, KeepaliveInterval: -1, SSHConfigFile: cfg},
			want: Target{Name: "web1", Address: "web1.example.net", Port: 22, User: "ops",
				IdentityFiles: []string{"/k", filepath.Join(home, ".ssh/web_key"), filepath.Join(home, "other_ops")},
				AgentSocket:   "none", KnownHostsFile: "/kh", ConnectTimeout: time.Second, KeepaliveInterval: -1,
				KeepaliveCountMax: 3, SSHConfigFile: cfg},
		},
		{
			name: "host_star_applies_to_others",
			in:   Target{Address: "db1", SSHConfigFile: cfg},
			want: Target{Name: "db1", Address: "db1", Port: 22, User: "fallback", IdentityFiles: []string{},
				AgentSocket: "/agent.sock", KnownHostsFile: filepath.Join(home, ".ssh", "known_hosts"),
				ConnectTimeout: 10 * time.Second, KeepaliveInterval: 5 * time.Second, KeepaliveCountMax: 3, SSHConfigFile: cfg},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.resolved()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("resolved =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}

	t.Run("missing_named_config_is_an_error", func(t *testing.T) {
		if _, err := (Target{Name: "h3", Address: "x", SSHConfigFile: filepath.Join(home, "nope")}).resolved(); err == nil {
			t.Error("no error for a missing config file the caller named")
		}
	})
	t.Run("missing_default_config_is_fine", func(t *testing.T) {
		if _, err := (Target{Address: "x"}).resolved(); err != nil {
			t.Error(err)
		}
	})
}

func TestJumpTarget(t *testing.T) {
	base := Target{Name: "h1", Address: "10.0.0.1", Port: 22, User: "me", IdentityFiles: []string{"/k"},
		KnownHostsFile: "/kh", AcceptNewHostKey: true, SSHConfigFile: "none", AgentSocket: "none"}
	tests := []struct {
		hop                string
		wantUser, wantAddr string
		wantPort           int
		wantErr            bool
	}{
		{hop: "bastion", wantUser: currentUser(), wantAddr: "bastion", wantPort: 22},
		{hop: "ops@bastion:2200", wantUser: "ops", wantAddr: "bastion", wantPort: 2200},
		{hop: "ssh://ops@[::1]:2201", wantUser: "ops", wantAddr: "::1", wantPort: 2201},
		{hop: "bastion:notaport", wantErr: true},
		{hop: "ops@", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.hop, func(t *testing.T) {
			j, err := base.jumpTarget(tt.hop)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if j.User != tt.wantUser || j.Address != tt.wantAddr || j.Port != tt.wantPort {
				t.Errorf("got %s@%s:%d", j.User, j.Address, j.Port)
			}
			if j.KnownHostsFile != "/kh" || !j.AcceptNewHostKey || !reflect.DeepEqual(j.IdentityFiles, []string{"/k"}) || j.Jump != "" {
				t.Errorf("jump host does not share the target's settings: %+v", j)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"": "''", "a b": "'a b'", "it's": `'it'\''s'`} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
