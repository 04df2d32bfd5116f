// Package worker is the `rally worker` process that the coordinator starts
// on every host over SSH (an exec without a pty). It reads this run's token
// from the first line of its stdin, dials the coordinator through the SSH
// reverse tunnel on its own loopback, joins the actor system and keeps the
// link: heartbeats, redial with backoff when the link drops, and an exit
// when the coordinator says stop, when the link stays gone longer than the
// grace period, or when its stdin ends (the SSH session, and with it the
// coordinator, is gone: without a pty there is no SIGHUP to say so).
//
// It leaves a trace a later `rally down` can find without it: its PID in
// <workdir>/run/worker.pid (removed on exit) and its log in
// <workdir>/logs/worker.log.
//
// It must not take secrets from its arguments or environment (other users
// can read those), and it does not know what a benchmark is: the load
// driver's message handlers are registered on the actor.Member it joins
// with.
package worker
