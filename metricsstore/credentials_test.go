package metricsstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCredentialsFromEnv(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	private := file("private", "rally:pa:ss\n", 0o600)
	readOnly := file("readonly", "rally:pass", 0o400)
	shared := file("shared", "rally:pass\n", 0o644)
	empty := file("empty", "\n", 0o600)
	tests := []struct {
		name string
		env  map[string]string
		want Credentials
		err  string
	}{
		{"none", nil, Credentials{}, ""},
		{"user_and_password", map[string]string{EnvUser: "rally", EnvPassword: "pw"}, Credentials{"rally", "pw"}, ""},
		{"user_without_password", map[string]string{EnvUser: "rally"}, Credentials{}, "go together"},
		{"file_0600_password_with_colons", map[string]string{EnvCredentials: private}, Credentials{"rally", "pa:ss"}, ""},
		{"file_0400", map[string]string{EnvCredentials: readOnly}, Credentials{"rally", "pass"}, ""},
		{"file_readable_by_others_is_refused", map[string]string{EnvCredentials: shared}, Credentials{}, "mode 0644 lets others read it"},
		{"file_without_user_password", map[string]string{EnvCredentials: empty}, Credentials{}, "want user:password"},
		{"missing_file", map[string]string{EnvCredentials: filepath.Join(dir, "nope")}, Credentials{}, "no such file"},
		{"file_and_variables", map[string]string{EnvCredentials: private, EnvUser: "x", EnvPassword: "y"}, Credentials{}, "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CredentialsFromEnv(func(k string) string { return tt.env[k] })
			if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if s := (Credentials{"rally", "secret"}).String(); strings.Contains(s, "secret") {
		t.Errorf("String shows the password: %s", s)
	}
}
