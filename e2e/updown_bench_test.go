package e2e

import (
	"fmt"
	"testing"
	"time"

	"rally/lab"
)

// BenchmarkUpDown forms and tears down a cluster of N lab hosts with the
// real binary (built as a release is: static, symbols stripped), reporting
// seconds per `up --detach` on hosts that hold nothing of rally (cold-up-s:
// the worker build is pushed to every host) and on hosts that already have
// the build (warm-up-s: kept by `down --keep-files`), seconds per `down`,
// and the bytes sent per host on a cold up. The very first up of each size
// also compresses the build into the user's cache; its time is logged.
// Each size's lab is torn down when its run ends.
//
//	go test -run '^$' -bench UpDown -benchtime 3x ./e2e/
//	go test -run '^$' -bench 'UpDown/hosts=40' -benchtime 1x ./e2e/
func BenchmarkUpDown(b *testing.B) {
	for _, n := range []int{1, 8, 40} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			l := lab.Require(b, n)
			u := newUser(b)
			inv := l.InventoryFile()
			// Before the lab closes (cleanups run last first): a run that
			// failed halfway leaves no coordinator behind.
			b.Cleanup(func() { u.rally("down", "-i", inv) })
			start := time.Now()
			u.must("up", "--detach", "-i", inv)
			b.Logf("%d hosts: first up (compress and push) %.2fs", n, time.Since(start).Seconds())
			u.must("down")
			var cold, warm, down time.Duration
			var wire int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				u.must("up", "--detach", "-i", inv)
				cold += time.Since(t0)
				st := u.status()
				if st.Uploads != n {
					b.Fatalf("cold up: %d uploads, want %d", st.Uploads, n)
				}
				wire += st.UploadedBytes
				t1 := time.Now()
				u.must("down", "--keep-files")
				down += time.Since(t1)
				t2 := time.Now()
				u.must("up", "--detach", "-i", inv)
				warm += time.Since(t2)
				if st := u.status(); st.Uploads != 0 {
					b.Fatalf("warm up: %d uploads, want 0", st.Uploads)
				}
				u.must("down")
			}
			b.StopTimer()
			b.ReportMetric(cold.Seconds()/float64(b.N), "cold-up-s")
			b.ReportMetric(warm.Seconds()/float64(b.N), "warm-up-s")
			b.ReportMetric(down.Seconds()/float64(b.N), "down-s")
			b.ReportMetric(float64(wire)/float64(b.N*n), "wire-B/host")
		})
	}
}
