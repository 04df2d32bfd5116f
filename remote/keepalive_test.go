package remote_test

import (
	"strings"
	"testing"
	"time"

	"rally/remote/sshtest"
)

func TestDone(t *testing.T) {
	const interval, count = 200 * time.Millisecond, 3

	t.Run("healthy_connection_survives_keepalives", func(t *testing.T) {
		s := sshtest.Start(t, sshtest.Options{})
		tg := baseTarget(s)
		tg.KeepaliveInterval, tg.KeepaliveCountMax = interval, count
		c := dial(t, tg)
		select {
		case <-c.Done():
			t.Fatalf("connection closed: %v", c.Err())
		case <-time.After(interval * (count + 3)):
		}
		if c.Err() != nil {
			t.Errorf("Err() = %v on a live connection", c.Err())
		}
		mustEcho(t, c)
	})

	t.Run("frozen_host_is_detected_by_keepalive", func(t *testing.T) {
		s := sshtest.Start(t, sshtest.Options{})
		tg := baseTarget(s)
		tg.KeepaliveInterval, tg.KeepaliveCountMax = interval, count
		c := dial(t, tg)
		mustEcho(t, c)
		s.Freeze()
		defer s.Thaw()
		frozen := time.Now()
		// One interval until the next keepalive goes out, count intervals
		// for it to expire, plus scheduling slack.
		limit := interval*(count+1) + time.Second
		select {
		case <-c.Done():
		case <-time.After(limit):
			t.Fatalf("Done not closed %s after the host froze", limit)
		}
		t.Logf("detected after %s", time.Since(frozen).Round(time.Millisecond))
		if err := c.Err(); err == nil || !strings.Contains(err.Error(), "no reply to keepalive") ||
			!strings.HasPrefix(err.Error(), "h1 ("+s.Addr()+")") {
			t.Errorf("Err() = %v", err)
		}
	})

	t.Run("server_gone_closes_done", func(t *testing.T) {
		s := sshtest.Start(t, sshtest.Options{})
		tg := baseTarget(s)
		tg.KeepaliveInterval = -1 // EOF alone must be noticed
		c := dial(t, tg)
		s.Stop()
		select {
		case <-c.Done():
		case <-time.After(15 * time.Second):
			t.Fatal("Done not closed after the server died")
		}
		if err := c.Err(); err == nil || !strings.Contains(err.Error(), "connection lost") {
			t.Errorf("Err() = %v", err)
		}
	})

	t.Run("close_closes_done", func(t *testing.T) {
		s := sshtest.Start(t, sshtest.Options{})
		c := dial(t, baseTarget(s))
		if err := c.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
		select {
		case <-c.Done():
		default:
			t.Fatal("Done open after Close returned")
		}
		if err := c.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
	})
}
