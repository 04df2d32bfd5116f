package track

import (
	"os"
	"strings"
	"testing"
)

func TestScratch(t *testing.T) {
	b, err := os.ReadFile(os.Getenv("SCRATCH"))
	if err != nil {
		t.Skip()
	}
	te := newTemplateEnv(t.TempDir(), nil, fixedNow, "default", false, func(s string) string { return s })
	for _, c := range strings.Split(string(b), "\n====\n") {
		out, err := te.render(&source{text: c, main: "x"})
		if err != nil {
			t.Logf("ERR %v", err)
		} else {
			t.Logf("%q", out)
		}
	}
}
