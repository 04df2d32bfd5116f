package e2e

import (
	"fmt"
	"testing"
	"time"

	"rally/lab"
)

// BenchmarkUpDown forms and tears down a cluster of N lab hosts with the
// real binary, reporting seconds per `up --detach` and per `down`. The
// first up of each size pushes the worker build; later ones find it there
// (down --keep-files), so up-s is the steady-state figure and the first
// up's time is logged.
//
//	go test -run '^$' -bench UpDown -benchtime 3x ./e2e/
func BenchmarkUpDown(b *testing.B) {
	for _, n := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			l := lab.Require(b, n)
			u := newUser(b)
			inv := l.InventoryFile()
			start := time.Now()
			u.must("up", "--detach", "-i", inv)
			b.Logf("%d hosts: first up (with upload) %.2fs", n, time.Since(start).Seconds())
			u.must("down", "--keep-files")
			var up, down time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				u.must("up", "--detach", "-i", inv)
				t1 := time.Now()
				u.must("down", "--keep-files")
				up += t1.Sub(t0)
				down += time.Since(t1)
			}
			b.ReportMetric(up.Seconds()/float64(b.N), "up-s")
			b.ReportMetric(down.Seconds()/float64(b.N), "down-s")
			u.must("up", "--detach", "-i", inv)
			u.must("down")
		})
	}
}
