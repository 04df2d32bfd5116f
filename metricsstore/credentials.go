package metricsstore

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Environment variables that carry the metrics store's credentials; a
// command line would show them to every user of the machine.
const (
	EnvUser        = "RALLY_METRICS_STORE_USER"
	EnvPassword    = "RALLY_METRICS_STORE_PASSWORD"
	EnvCredentials = "RALLY_METRICS_STORE_CREDENTIALS"
)

// Credentials are the metrics store's basic authentication; zero means
// none.
type Credentials struct {
	User     string
	Password string
}

// String shows the user only, so that credentials printed by mistake do
// not show the password.
func (c Credentials) String() string {
	if c.User == "" {
		return "no credentials"
	}
	return c.User + ":***"
}

// CredentialsFromEnv reads the credentials from the environment (getenv is
// os.Getenv, or a map in tests): RALLY_METRICS_STORE_USER and
// RALLY_METRICS_STORE_PASSWORD, or RALLY_METRICS_STORE_CREDENTIALS naming a
// file that holds "user:password" on its first line. The file must be
// readable by its owner only (mode 0600 or 0400): one that others can read
// is refused, as ssh refuses such a key.
func CredentialsFromEnv(getenv func(string) string) (Credentials, error) {
	user, password, file := getenv(EnvUser), getenv(EnvPassword), getenv(EnvCredentials)
	if file != "" {
		if user != "" || password != "" {
			return Credentials{}, fmt.Errorf("metrics store credentials: give %s or %s and %s, not both", EnvCredentials, EnvUser, EnvPassword)
		}
		return credentialsFile(file)
	}
	switch {
	case user == "" && password == "":
		return Credentials{}, nil
	case user == "" || password == "":
		return Credentials{}, fmt.Errorf("metrics store credentials: %s and %s go together", EnvUser, EnvPassword)
	}
	return Credentials{User: user, Password: password}, nil
}

// credentialsFile reads "user:password" from path, refusing a file others
// can read or write.
func credentialsFile(path string) (Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("metrics store credentials (%s): %w", EnvCredentials, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Credentials{}, fmt.Errorf("metrics store credentials %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return Credentials{}, fmt.Errorf("metrics store credentials %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return Credentials{}, fmt.Errorf("metrics store credentials %s: mode %04o lets others read it: chmod 600 %s", path, perm, path)
	}
	buf := make([]byte, 4096)
	n, err := f.Read(buf)
	if err != nil && n == 0 {
		return Credentials{}, fmt.Errorf("metrics store credentials %s: %w", path, err)
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\n")
	line = strings.TrimRight(line, "\r")
	user, password, ok := strings.Cut(line, ":")
	if !ok || user == "" || password == "" {
		return Credentials{}, errors.New("metrics store credentials " + path + ": want user:password on the first line")
	}
	return Credentials{User: user, Password: password}, nil
}
