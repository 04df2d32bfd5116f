package enginetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEachEngineRunsOnItsJDK checks provision's choice under JDKRoots
// for the five engines the tests start: Java 17 where the engine installs
// the Security Manager, which Java 24 refuses; Java 21 or later where the
// engine needs it (Temurin 25 on this project's machines).
func TestEachEngineRunsOnItsJDK(t *testing.T) {
	for _, tc := range []struct {
		engine, version string
		min, max        int
	}{
		{"opensearch", "2.19.1", 17, 17},
		{"elasticsearch", "7.17.28", 17, 17},
		{"elasticsearch", "8.17.0", 17, 17},
		{"elasticsearch", "9.2.0", 21, 1000},
		{"opensearch", "3.0.0", 21, 1000},
	} {
		t.Run(tc.engine+"-"+tc.version, func(t *testing.T) {
			jdk, err := chooseJDK(tc.engine, tc.version, JDKRoots)
			if err != nil {
				msg := err.Error() + "; get it with: bash scripts/engines.sh"
				if os.Getenv("RALLY_ENGINES") == "skip" {
					t.Skip(msg + " (skipped: RALLY_ENGINES=skip)")
				}
				t.Fatal(msg + " (or set RALLY_ENGINES=skip to skip real-engine tests)")
			}
			if jdk.Major < tc.min || jdk.Major > tc.max {
				t.Errorf("%s %s runs on %s, want Java %d to %d", tc.engine, tc.version, jdk, tc.min, tc.max)
			}
			t.Logf("%s %s runs on %s", tc.engine, tc.version, jdk)
		})
	}
}

// TestChooseJDKAmongTestHomes checks the choice on JDK homes made for the
// test: Java 17 and 25 both there, each engine gets its own; with Java 17
// only, Elasticsearch 8 still runs and Elasticsearch 9 fails naming the
// Java it needs, what was found, and the JDK the project expects.
func TestChooseJDKAmongTestHomes(t *testing.T) {
	dir := t.TempDir()
	jdk17 := fakeJDK(t, filepath.Join(dir, "jvm", "java-17-openjdk-amd64"), "17.0.15")
	jdk25 := fakeJDK(t, filepath.Join(dir, "jvm", "temurin-25-jdk-amd64"), "25.0.3")
	both := []string{filepath.Join(dir, "jvm")}
	for _, tc := range []struct{ engine, version, home string }{
		{"opensearch", "2.19.1", jdk17},
		{"elasticsearch", "7.17.28", jdk17},
		{"elasticsearch", "8.17.0", jdk17},
		{"elasticsearch", "9.2.0", jdk25},
		{"opensearch", "3.0.0", jdk25},
	} {
		jdk, err := chooseJDK(tc.engine, tc.version, both)
		if err != nil || jdk.Home != tc.home {
			t.Errorf("%s %s: %v, %v; want %s", tc.engine, tc.version, jdk, err, tc.home)
		}
	}

	only17 := []string{jdk17, filepath.Join(dir, "no-jdk-here")}
	_, err := chooseJDK("elasticsearch", "9.2.0", only17)
	if err == nil {
		t.Fatal("elasticsearch 9.2.0 chose a JDK among Java 17 only")
	}
	for _, want := range []string{"elasticsearch 9.2.0 needs Java 21 or later", "found " + jdk17, Java25} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	_, err = chooseJDK("opensearch", "1.3.0", only17)
	if err == nil || !strings.Contains(err.Error(), "unsupported version") {
		t.Errorf("opensearch 1.3.0: %v, want it named unsupported", err)
	}
}

// fakeJDK makes a directory FindJDKs takes for a JDK of version.
func fakeJDK(t *testing.T, home, version string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(home, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "bin", "java"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	release := "JAVA_VERSION=\"" + version + "\"\nOS_NAME=\"Linux\"\nOS_ARCH=\"amd64\"\n"
	if err := os.WriteFile(filepath.Join(home, "release"), []byte(release), 0o644); err != nil {
		t.Fatal(err)
	}
	return home
}
