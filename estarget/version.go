package estarget

import (
	"fmt"
	"strconv"
	"strings"
)

// Flavors the target can impersonate.
const (
	FlavorElasticsearch = "elasticsearch"
	FlavorOpenSearch    = "opensearch"
)

// Default versions per flavor.
const (
	DefaultElasticsearchVersion = "8.15.0"
	DefaultOpenSearchVersion    = "2.17.0"
)

// buildHash is what GET / reports as build_hash. It is deliberately not a
// real Elasticsearch commit, so that nobody reading a race's metadata mistakes
// this target for a real build.
const buildHash = "estarget-test-target-not-elasticsearch"

// versionInfo is what GET / reports under "version".
type versionInfo struct {
	number    string
	major     int
	lucene    string
	minWire   string
	minIndex  string
	buildDate string
}

// resolveVersion expands short forms ("8", "9", "2") and fills in the Lucene
// and compatibility versions the real release line reports. Those are
// representative of the major line, not exact for every patch release.
func resolveVersion(flavor, v string) (versionInfo, error) {
	if v == "" {
		if flavor == FlavorOpenSearch {
			v = DefaultOpenSearchVersion
		} else {
			v = DefaultElasticsearchVersion
		}
	}
	short := map[string]string{}
	if flavor == FlavorOpenSearch {
		short["1"], short["2"], short["3"] = "1.3.19", DefaultOpenSearchVersion, "3.0.0"
	} else {
		short["7"], short["8"], short["9"] = "7.17.24", DefaultElasticsearchVersion, "9.0.0"
	}
	if full, ok := short[v]; ok {
		v = full
	}
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return versionInfo{}, fmt.Errorf("version %q: want MAJOR.MINOR.PATCH (or just the major)", v)
	}
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil {
			return versionInfo{}, fmt.Errorf("version %q: %q is not a number", v, p)
		}
	}
	major, _ := strconv.Atoi(parts[0])
	vi := versionInfo{number: v, major: major, buildDate: "2024-08-05T10:05:34.233336849Z"}
	switch flavor {
	case FlavorOpenSearch:
		switch major {
		case 1:
			vi.lucene, vi.minWire, vi.minIndex = "8.10.1", "6.8.0", "6.0.0-beta1"
		case 2:
			vi.lucene, vi.minWire, vi.minIndex = "9.11.1", "7.10.0", "7.0.0"
		case 3:
			vi.lucene, vi.minWire, vi.minIndex = "10.1.0", "2.19.0", "2.0.0"
		default:
			return versionInfo{}, fmt.Errorf("opensearch version %q: only majors 1, 2 and 3 are known", v)
		}
	default:
		switch major {
		case 7:
			vi.lucene, vi.minWire, vi.minIndex = "8.11.3", "6.8.0", "6.0.0-beta1"
		case 8:
			vi.lucene, vi.minWire, vi.minIndex = "9.11.1", "7.17.0", "7.0.0"
		case 9:
			vi.lucene, vi.minWire, vi.minIndex = "10.1.0", "8.18.0", "8.0.0"
		default:
			return versionInfo{}, fmt.Errorf("elasticsearch version %q: only majors 7, 8 and 9 are known", v)
		}
	}
	return vi, nil
}
