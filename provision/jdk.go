package provision

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// JDK is a Java installation: one found on the host by FindJDKs, or the one
// bundled in a distribution archive.
type JDK struct {
	// Home is the JDK's directory (JAVA_HOME). For a bundled JDK it is
	// relative to the distribution's top directory.
	Home string
	// Version is JAVA_VERSION from the release file, such as "17.0.15".
	Version string
	// Major is the Java feature release: 17 for "17.0.15", 8 for "1.8.0_392".
	Major int
	// OS and Arch are the platform from the release file in GOOS and
	// GOARCH spelling ("linux", "amd64"); empty when it does not say.
	OS, Arch string
	// Bundled is true for a JDK shipped inside a distribution.
	Bundled bool
}

// String names the JDK for messages: its home and Java version.
func (j JDK) String() string {
	s := fmt.Sprintf("%s (Java %s", j.Home, j.Version)
	if j.Arch != "" {
		s += ", " + j.Arch
	}
	if j.Bundled {
		s += ", bundled"
	}
	return s + ")"
}

// javaRange is the Java feature releases an engine version starts with.
type javaRange struct {
	min, max int    // max 0: no known upper bound
	why      string // why max is what it is, for messages
}

func (r javaRange) allows(major int) bool {
	return major >= r.min && (r.max == 0 || major <= r.max)
}

func (r javaRange) String() string {
	if r.max == 0 {
		return fmt.Sprintf("Java %d or later", r.min)
	}
	return fmt.Sprintf("Java %d to %d (%s)", r.min, r.max, r.why)
}

// securityManagerWhy explains the upper bound of every version that still
// installs the Java Security Manager: JDK 24 (JEP 486) refuses to install
// one at all, so those versions fail at start-up on Java 24 and later.
const securityManagerWhy = "it installs the Security Manager, which Java 24 no longer allows"

// javaRequirements lists, per engine and version range, the Java releases a
// distribution starts with. Elasticsearch replaced the Security Manager by
// entitlements in 8.18; OpenSearch replaced it by a Java agent in 3.0.
var javaRequirements = []struct {
	engine       string
	major        int
	minorFrom    int
	minorTo      int // inclusive; -1 for every later minor
	java         javaRange
	supportedFor string // how the supported versions are named in errors
}{
	{EngineElasticsearch, 7, 17, 17, javaRange{17, 23, securityManagerWhy}, "7.17"},
	{EngineElasticsearch, 8, 0, 17, javaRange{17, 23, securityManagerWhy}, "8.x"},
	{EngineElasticsearch, 8, 18, -1, javaRange{min: 17}, "8.x"},
	// Elasticsearch 9.0.x fails to start on Java 25; 9.1 fixed it.
	{EngineElasticsearch, 9, 0, 0, javaRange{21, 24, "9.0.x does not start on Java 25"}, "9.x"},
	{EngineElasticsearch, 9, 1, -1, javaRange{min: 21}, "9.x"},
	{EngineOpenSearch, 2, 0, -1, javaRange{17, 23, securityManagerWhy}, "2.x"},
	{EngineOpenSearch, 3, 0, -1, javaRange{min: 21}, "3.x"},
}

// RequiredJava returns the Java feature releases a distribution of engine
// at version runs on: min and max inclusive, max 0 when no upper bound is
// known. Elasticsearch 7.17 and 8.x and OpenSearch 2.x need Java 17 and
// fail on 24 and later (they install the Security Manager; Elasticsearch
// 8.18 moved to entitlements and lifts that limit); Elasticsearch 9.x and
// OpenSearch 3.x need Java 21, and Elasticsearch 9.0.x fails on Java 25.
// Other versions are an error naming the supported ones.
func RequiredJava(engine, version string) (min int, max int, err error) {
	r, err := requiredJavaRange(engine, version)
	if err != nil {
		return 0, 0, err
	}
	return r.min, r.max, nil
}

func requiredJavaRange(engine, version string) (javaRange, error) {
	v, err := parseDistVersion(version)
	if err != nil {
		return javaRange{}, fmt.Errorf("%s: %w", engine, err)
	}
	var supported []string
	for _, req := range javaRequirements {
		if req.engine != engine {
			continue
		}
		if !slices.Contains(supported, req.supportedFor) {
			supported = append(supported, req.supportedFor)
		}
		if v.major == req.major && v.minor >= req.minorFrom && (req.minorTo < 0 || v.minor <= req.minorTo) {
			return req.java, nil
		}
	}
	if supported == nil {
		return javaRange{}, fmt.Errorf("unknown engine %q: want %s or %s", engine, EngineElasticsearch, EngineOpenSearch)
	}
	return javaRange{}, fmt.Errorf("%s %s: unsupported version: supported are %s", engine, version, strings.Join(supported, ", "))
}

// DefaultJDKRoots returns where FindJDKs looks for JDKs on a host: the
// given JAVA_HOME (may be empty) and the usual install directories of
// Debian, Red Hat, tarball installs and macOS.
func DefaultJDKRoots(javaHome string) []string {
	return []string{
		javaHome,
		"/usr/lib/jvm",
		"/usr/java",
		"/opt/*jdk*",
		"/opt/java",
		"/Library/Java/JavaVirtualMachines",
	}
}

// FindJDKs returns the JDKs under roots, lowest Java release first. A root
// is a JDK home, a directory holding JDK homes (/usr/lib/jvm) or a glob
// pattern (/opt/*jdk*); macOS bundles are followed into Contents/Home. A
// home counts when it has an executable bin/java and a release file giving
// JAVA_VERSION. Homes reached through symlinks are reported once, by their
// real path. Roots that do not exist are skipped: most hosts have only
// some of them.
func FindJDKs(roots []string) []JDK {
	seen := map[string]bool{}
	var found []JDK
	try := func(dir string) bool {
		for _, home := range []string{dir, filepath.Join(dir, "Contents", "Home")} {
			jdk, ok := readJDKHome(home)
			if !ok {
				continue
			}
			if !seen[jdk.Home] {
				seen[jdk.Home] = true
				found = append(found, jdk)
			}
			return true
		}
		return false
	}
	for _, root := range roots {
		if root == "" {
			continue
		}
		matches, err := filepath.Glob(root)
		if err != nil {
			continue
		}
		for _, m := range matches {
			if try(m) {
				continue
			}
			children, err := os.ReadDir(m)
			if err != nil {
				continue
			}
			for _, c := range children {
				try(filepath.Join(m, c.Name()))
			}
		}
	}
	slices.SortFunc(found, func(a, b JDK) int {
		return cmp.Or(cmp.Compare(a.Major, b.Major), compareJavaVersions(a.Version, b.Version), cmp.Compare(a.Home, b.Home))
	})
	return found
}

// readJDKHome reads dir/release and checks dir/bin/java.
func readJDKHome(dir string) (JDK, bool) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return JDK{}, false
	}
	st, err := os.Stat(filepath.Join(real, "bin", "java"))
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return JDK{}, false
	}
	f, err := os.Open(filepath.Join(real, "release"))
	if err != nil {
		return JDK{}, false
	}
	defer f.Close()
	data, err := readLimited(f)
	if err != nil {
		return JDK{}, false
	}
	info, err := parseRelease(data)
	if err != nil {
		return JDK{}, false
	}
	return info.jdk(real), true
}

// ChooseJDK picks the JDK a distribution runs on: its bundled JDK when it
// has one and want is 0; else a JDK of release want (the --runtime-jdk
// choice) among found; else the lowest Java release among found that the
// engine version supports (the newest patch of it). JDKs of another
// platform than the archive's host are never chosen. When none fits, the
// error names what was found and what the engine needs.
func ChooseJDK(arch Archive, want int, found []JDK) (JDK, error) {
	need, err := requiredJavaRange(arch.Engine, arch.Version)
	if err != nil {
		return JDK{}, fmt.Errorf("choose JDK: %w", err)
	}
	if want == 0 && arch.BundledJDK != nil {
		return *arch.BundledJDK, nil
	}
	if want != 0 && !need.allows(want) {
		return JDK{}, fmt.Errorf("choose JDK: Java %d was asked for, but %s %s needs %s", want, arch.Engine, arch.Version, need)
	}
	var fits []JDK
	for _, j := range found {
		if j.Arch != "" && arch.HostArch != "" && j.Arch != arch.HostArch || j.OS != "" && arch.HostOS != "" && j.OS != arch.HostOS {
			continue
		}
		if want != 0 && j.Major == want || want == 0 && need.allows(j.Major) {
			fits = append(fits, j)
		}
	}
	if len(fits) == 0 {
		names := make([]string, len(found))
		for i, j := range found {
			names[i] = j.String()
		}
		have := "found none"
		if len(names) > 0 {
			have = "found " + strings.Join(names, ", ")
		}
		asked := need.String()
		if want != 0 {
			asked = fmt.Sprintf("Java %d (asked for; it supports %s)", want, need)
		}
		return JDK{}, fmt.Errorf("choose JDK: %s %s needs %s; %s", arch.Engine, arch.Version, asked, have)
	}
	slices.SortStableFunc(fits, func(a, b JDK) int {
		return cmp.Or(cmp.Compare(a.Major, b.Major), -compareJavaVersions(a.Version, b.Version), cmp.Compare(a.Home, b.Home))
	})
	return fits[0], nil
}

// JavaEnv returns the environment entries ("NAME=value") that make a
// distribution's start script use jdk. Each engine reads its own variable
// first and falls back to JAVA_HOME, then to the bundled JDK:
//   - Elasticsearch 7.12 and later read ES_JAVA_HOME; 8.0 ignores JAVA_HOME
//     (with a warning, so it is cleared), 7.12 to 7.17 only fall back to it.
//   - Elasticsearch before 7.12 reads only JAVA_HOME.
//   - OpenSearch reads OPENSEARCH_JAVA_HOME, then JAVA_HOME; both are set
//     because early 1.x releases read only JAVA_HOME.
//
// For a bundled JDK the variables are set empty: the scripts treat empty as
// unset and use the JDK inside the distribution, whatever the host's
// environment held.
func JavaEnv(engine, version string, jdk JDK) []string {
	home := jdk.Home
	if jdk.Bundled {
		home = ""
	}
	switch engine {
	case EngineOpenSearch:
		return []string{"OPENSEARCH_JAVA_HOME=" + home, "JAVA_HOME=" + home}
	case EngineElasticsearch:
		if v, err := parseDistVersion(version); err == nil && !v.atLeast(7, 12) {
			return []string{"JAVA_HOME=" + home}
		}
		return []string{"ES_JAVA_HOME=" + home, "JAVA_HOME="}
	}
	return []string{"JAVA_HOME=" + home}
}

// releaseInfo is what a JDK's release file says about it.
type releaseInfo struct {
	version        string
	major          int
	os, arch       string // GOOS and GOARCH spelling
	rawOS, rawArch string // as written in the file
}

func (r releaseInfo) jdk(home string) JDK {
	return JDK{Home: home, Version: r.version, Major: r.major, OS: r.os, Arch: r.arch}
}

// parseRelease reads a JDK release file: lines of KEY="value" (quotes
// optional). Lines of another shape are skipped, as the format has no
// specification; JAVA_VERSION is required.
func parseRelease(data []byte) (releaseInfo, error) {
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxReleaseFileSize+1)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || !isReleaseKey(key) {
			continue
		}
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		fields[key] = value
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return releaseInfo{}, fmt.Errorf("read release file: %w", err)
	}
	version, ok := fields["JAVA_VERSION"]
	if !ok {
		return releaseInfo{}, errors.New("no JAVA_VERSION")
	}
	major, err := javaMajor(version)
	if err != nil {
		return releaseInfo{}, err
	}
	return releaseInfo{
		version: version,
		major:   major,
		os:      goosOf(fields["OS_NAME"]),
		arch:    goarchOf(fields["OS_ARCH"]),
		rawOS:   fields["OS_NAME"],
		rawArch: fields["OS_ARCH"],
	}, nil
}

func isReleaseKey(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// javaMajor returns the feature release of a JAVA_VERSION: "17.0.15" → 17,
// "21" → 21, "25-ea" → 25, and the pre-9 scheme "1.8.0_392" → 8.
func javaMajor(version string) (int, error) {
	nums := versionNumbers(version)
	if len(nums) == 0 || !startsWithDigit(version) {
		return 0, fmt.Errorf("JAVA_VERSION %q: want a version such as 17.0.15", version)
	}
	major := nums[0]
	if major == 1 && len(nums) > 1 {
		major = nums[1]
	}
	if major < 1 || major > 1000 {
		return 0, fmt.Errorf("JAVA_VERSION %q: feature release %d is out of range", version, major)
	}
	return major, nil
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// versionNumbers returns the leading dotted numbers of a Java version,
// stopping at the first character that is neither a digit nor a dot
// ("17.0.15+6" → 17 0 15, "1.8.0_392" → 1 8 0).
func versionNumbers(v string) []int {
	var nums []int
	for part := range strings.SplitSeq(v, ".") {
		end := 0
		for end < len(part) && part[end] >= '0' && part[end] <= '9' {
			end++
		}
		if end == 0 {
			break
		}
		n, err := strconv.Atoi(part[:end])
		if err != nil {
			break
		}
		nums = append(nums, n)
		if end < len(part) {
			break
		}
	}
	return nums
}

// compareJavaVersions orders Java versions by their dotted numbers.
func compareJavaVersions(a, b string) int {
	return slices.Compare(versionNumbers(a), versionNumbers(b))
}

// goarchOf maps a release file's OS_ARCH to GOARCH spelling.
func goarchOf(osArch string) string {
	switch a := strings.ToLower(strings.TrimSpace(osArch)); a {
	case "x86_64", "amd64", "x64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	case "i386", "i586", "i686", "x86":
		return "386"
	default:
		return a
	}
}

// goosOf maps a release file's OS_NAME to GOOS spelling.
func goosOf(osName string) string {
	switch n := strings.ToLower(strings.TrimSpace(osName)); {
	case n == "darwin" || n == "mac os x" || n == "macos":
		return "darwin"
	case strings.HasPrefix(n, "windows"):
		return "windows"
	default:
		return n
	}
}
