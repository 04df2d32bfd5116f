package coordinator

import (
	"errors"
	"fmt"
	"time"

	"rally/control"
	"rally/remote"
)

// Restart timing. A worker that stayed joined for restartStable was
// healthy, so its exit starts a new run of tries; the backoff between
// tries doubles up to maxRestartBackoff.
const (
	restartStable     = time.Minute
	maxRestartBackoff = 30 * time.Second
	// linkSettle is how long a worker's exit may precede the end of its
	// SSH connection when both die together (the host's sshd was killed,
	// the network cut): the session then ends without an exit status.
	linkSettle = 5 * time.Second
	// exitSettle is the same for an exit that sshd reported: the link
	// carried the report, so only a link that died just after it is
	// caught here, and a short look suffices.
	exitSettle = 200 * time.Millisecond
)

// errLinkDown stops a restart whose SSH link died: watchLink forms the
// host again.
var errLinkDown = errors.New("the ssh link is down")

// restartBackoff is the wait before restart try n (1-based): first,
// doubled per further try, at most maxRestartBackoff.
func restartBackoff(first time.Duration, n int) time.Duration {
	d := first
	for i := 1; i < n && d < maxRestartBackoff; i++ {
		d *= 2
	}
	return min(d, maxRestartBackoff)
}

// watchWorker starts the worker of a joined host again whenever it exits
// while the host's SSH link lives and the cluster is not being torn down:
// the same build (already on the host), the same tunnel, a new token.
// Tries follow RestartBackoff; after RestartTries tries in a row without a
// worker that stayed joined for restartStable, the host is failed. A worker
// that exits with its link is left to watchLink, which forms the host
// again from the start.
func (c *Coordinator) watchWorker(h *hostRun, client *remote.Client, proc *remote.Process, w workerLaunch) {
	defer c.wg.Done()
	name := string(h.inv.Name)
	tries := 0 // restarts since a worker last stayed joined for restartStable
	joinedAt := time.Now()
	for {
		exitErr := proc.Wait()
		if !c.workerDiedAlone(client, exitErr) {
			return
		}
		if time.Since(joinedAt) >= restartStable {
			tries = 0
		}
		why := "worker exited: " + exitReason(exitErr)
		c.log.Warn("worker exited while its ssh link lives", "host", name, "err", exitErr, "joined_for", time.Since(joinedAt).Round(time.Millisecond))
		h.mu.Lock()
		h.status.WorkerPID = 0
		h.mu.Unlock()
		for {
			if c.cfg.RestartTries < 0 {
				c.giveUp(h, why+"; restarts are disabled")
				return
			}
			if tries >= c.cfg.RestartTries {
				c.giveUp(h, fmt.Sprintf("%s; gave up after %d restarts", why, tries))
				return
			}
			tries++
			wait := restartBackoff(c.cfg.RestartBackoff, tries)
			c.setHostPhase(name, control.PhaseRestarting, fmt.Sprintf("%s; restart %d of %d in %s", why, tries, c.cfg.RestartTries, wait))
			select {
			case <-time.After(wait):
			case <-client.Done():
				return
			case <-h.stopping():
				return
			case <-c.life.Done():
				return
			}
			next, err := c.restartWorker(h, client, w)
			if errors.Is(err, errTearingDown) || errors.Is(err, errLinkDown) {
				return
			}
			if err == nil {
				c.log.Info("worker restarted", "host", name, "pid", h.snapshot().WorkerPID)
				c.setHostPhase(name, control.PhaseJoined, "")
				proc, joinedAt = next, time.Now()
				break
			}
			c.log.Warn("worker restart failed", "host", name, "try", tries, "err", err)
			why = "restart failed: " + err.Error()
		}
	}
}

// workerDiedAlone tells a worker that exited on its own (or was killed)
// from one that went with its SSH link, and whether anything should be
// done about it: not while the cluster is torn down.
func (c *Coordinator) workerDiedAlone(client *remote.Client, exitErr error) bool {
	settle := linkSettle
	var exit *remote.ExitError
	if exitErr == nil || errors.As(exitErr, &exit) {
		settle = exitSettle
	}
	select {
	case <-client.Done():
		return false
	case <-c.life.Done():
		return false
	case <-time.After(settle):
	}
	return !c.tearingDown()
}

// restartWorker starts the worker of h again over client, holding reform so
// that teardown waits for it (and cuts it short).
func (c *Coordinator) restartWorker(h *hostRun, client *remote.Client, w workerLaunch) (*remote.Process, error) {
	h.reform.Lock()
	defer h.reform.Unlock()
	if c.tearingDown() {
		return nil, errTearingDown
	}
	if linkDown(client) {
		return nil, errLinkDown
	}
	ctx, cancel := h.untilTeardown(c.life)
	defer cancel()
	h.mu.Lock()
	h.status.Restarts++
	h.mu.Unlock()
	proc, err := c.startWorker(ctx, h, client, w)
	switch {
	case err == nil:
		return proc, nil
	case c.tearingDown():
		return nil, fmt.Errorf("%w: %w", errTearingDown, err)
	case linkDown(client):
		return nil, fmt.Errorf("%w: %w", errLinkDown, err)
	}
	return nil, err
}

// giveUp fails a host whose worker could not be kept running. The SSH
// client and the tunnel stay for teardown.
func (c *Coordinator) giveUp(h *hostRun, reason string) {
	name := string(h.inv.Name)
	c.log.Error("worker restarts exhausted", "host", name, "reason", reason)
	h.mu.Lock()
	h.status.WorkerPID = 0
	h.mu.Unlock()
	if err := c.state.update(func(s *State) { s.host(name).WorkerPID = 0 }); err != nil && !errors.Is(err, errTearingDown) {
		c.log.Warn("state file not updated", "host", name, "err", err)
	}
	c.setHostPhase(name, control.PhaseFailed, reason)
}

// exitReason says how a worker process ended.
func exitReason(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
