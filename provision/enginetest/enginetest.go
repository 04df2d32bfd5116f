// Package enginetest starts real Elasticsearch and OpenSearch nodes for
// tests: the integ-test archives that scripts/engines.sh fetches into the
// Maven cache, each on the JDK provision chooses for it under JDKRoots
// (JDK 17 for Elasticsearch 7 and 8 and OpenSearch 2, a JDK 21 or later,
// Temurin 25 here, for Elasticsearch 9 and OpenSearch 3), as the
// unprivileged user rally-node when the tests run as root. A missing
// archive or JDK fails the test saying how to get it, or skips it, saying
// so, when RALLY_ENGINES=skip.
package enginetest

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"rally/provision"
)

// JDKDir is where the JDKs of the tests are: scripts/engines.sh installs
// JDK 17 there (Debian's openjdk-17) and looks there for a JDK 21 or
// later, which Debian bookworm does not package; this project's machines
// have Java17 and Java25 (Eclipse Temurin 25) there.
const (
	JDKDir = "/usr/lib/jvm"
	Java17 = "/usr/lib/jvm/java-17-openjdk-amd64"
	Java25 = "/usr/lib/jvm/temurin-25-jdk-amd64"
)

// JDKRoots are where the JDK a node runs on is found. Which one is
// provision's choice (provision.ChooseJDK, as for every node rally
// starts): the lowest Java release the engine version supports, so Java
// 17 for Elasticsearch 7.17 and 8.x and OpenSearch 2.x, which install the
// Security Manager that Java 24 refuses, and the lowest Java 21 or later
// (Temurin 25 on this project's machines) for Elasticsearch 9 and
// OpenSearch 3.
var JDKRoots = []string{JDKDir}

// NodeUser is the unprivileged user real nodes run as when the tests run
// as root (scripts/deps.sh creates it).
const NodeUser = "rally-node"

// Archive returns the integ-test archive of engine ("opensearch" or
// "elasticsearch") at version from the Maven cache, after checking that
// a JDK it runs on is among JDKRoots.
func Archive(t testing.TB, engine, version string) string {
	t.Helper()
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	group := "org/elasticsearch/distribution/integ-test-zip/elasticsearch"
	if engine == "opensearch" {
		group = "org/opensearch/distribution/integ-test-zip/opensearch"
	}
	archive := filepath.Join(home, ".m2", "repository", filepath.FromSlash(group), version, engine+"-"+version+".zip")
	var missing []string
	if _, err := os.Stat(archive); err != nil {
		missing = append(missing, "archive "+archive)
	}
	if _, err := chooseJDK(engine, version, JDKRoots); err != nil {
		missing = append(missing, "a JDK: "+err.Error())
	}
	if len(missing) == 0 {
		return archive
	}
	msg := fmt.Sprintf("%s-%s: missing %s; get them with: bash scripts/engines.sh", engine, version, strings.Join(missing, " and "))
	if os.Getenv("RALLY_ENGINES") == "skip" {
		t.Skip(msg + " (skipped: RALLY_ENGINES=skip)")
	}
	t.Fatal(msg + " (or set RALLY_ENGINES=skip to skip real-engine tests)")
	return ""
}

// chooseJDK returns the JDK among roots that a node of engine at version
// runs on, as StartCluster will choose it; the error says which Java the
// engine needs, what was found, and where the project expects it.
func chooseJDK(engine, version string, roots []string) (provision.JDK, error) {
	arch := provision.Archive{Engine: engine, Version: version, HostOS: runtime.GOOS, HostArch: runtime.GOARCH}
	jdk, err := provision.ChooseJDK(arch, 0, provision.FindJDKs(roots))
	if err != nil {
		return provision.JDK{}, fmt.Errorf("%w (looked in %s; Java 17 is Debian's openjdk-17-jdk-headless, Java 21 or later e.g. Eclipse Temurin 25 at %s)",
			err, strings.Join(roots, ", "), Java25)
	}
	return jdk, nil
}

// RunAs is the user nodes run as: NodeUser when the tests run as root,
// else the tests' own user ("").
func RunAs(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		return ""
	}
	if _, err := user.Lookup(NodeUser); err != nil {
		t.Fatalf("user %s: %v; create it with: bash scripts/deps.sh", NodeUser, err)
	}
	return NodeUser
}

// Dir makes a directory every user can reach (t.TempDir's parents are
// 0700, which the node user cannot pass), removed when the test ends.
func Dir(t testing.TB, prefix string, mode os.FileMode) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Options say how to start a node beyond the archive.
type Options struct {
	// Name is the cluster's name.
	Name string
	// Car and CarParams configure the node (provision.ClusterOptions).
	Car       string
	CarParams map[string]any
}

// Start starts a one-node cluster of archive and returns it with a
// function that stops it, which also runs when the test ends (before the
// node's directory is removed).
func Start(t testing.TB, archive string, o Options) (*provision.Cluster, func()) {
	t.Helper()
	runAs := RunAs(t)
	dir := Dir(t, "rally-"+o.Name+"-", 0o755)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl, err := provision.StartCluster(ctx, provision.ClusterOptions{
		Archive: archive, JDKRoots: JDKRoots, RunAs: runAs, Car: o.Car, CarParams: o.CarParams,
		Dir: filepath.Join(dir, "cluster"), Name: o.Name, Timeout: 3 * time.Minute,
		Progress: func(line string) { t.Log(line) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := cl.Stop(sctx, 30*time.Second, "", false); err != nil {
				t.Errorf("stop the node: %v", err)
			}
		})
	}
	// Registered after the directory's removal, so it runs first.
	t.Cleanup(stop)
	return cl, stop
}
