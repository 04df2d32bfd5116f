package race

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"rally/actor"
)

// LocalMember is the name of the in-process load driver.
const LocalMember = "local"

// Local is an actor system whose members run in this process: the
// coordinator's own machine as the load driver, speaking the same protocol
// as a worker on a remote host (over an in-memory pipe instead of a
// tunnel).
type Local struct {
	System *actor.System
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	members map[string]context.CancelFunc
	// closing is set once Close began: a member's link ending then is
	// the normal end, not an error to report.
	closing atomic.Bool
}

// StartLocal starts the system and joins the in-process member; facts
// describe this machine in the actor status.
func StartLocal(ctx context.Context, version string, facts actor.HostFacts, cfg MemberConfig) (*Local, error) {
	return startLocal(ctx, version, facts, cfg, LocalMember)
}

// startLocal joins one in-process member per name (tests race on several).
func startLocal(ctx context.Context, version string, facts actor.HostFacts, cfg MemberConfig, names ...string) (*Local, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &Local{System: actor.NewSystem(actor.Options{Version: version, Logger: cfg.Logger}), cancel: cancel,
		members: map[string]context.CancelFunc{}}
	for _, name := range names {
		if err := l.join(ctx, version, facts, cfg, name); err != nil {
			l.Close()
			return nil, err
		}
	}
	if err := l.System.WaitMembers(ctx, names...); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// join connects one in-process member to the system.
func (l *Local) join(ctx context.Context, version string, facts actor.HostFacts, cfg MemberConfig, name string) error {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	token := hex.EncodeToString(b)
	l.System.Expect(name, token)
	mctx, mcancel := context.WithCancel(ctx)
	l.mu.Lock()
	l.members[name] = mcancel
	l.mu.Unlock()
	coordSide, memberSide := net.Pipe()
	l.wg.Add(1)
	go func() { defer l.wg.Done(); l.System.ServeConn(mctx, coordSide, name) }()
	m, err := actor.Join(mctx, memberSide, actor.Hello{
		Protocol: actor.ProtocolVersion, Name: name, Token: token, Version: version,
		PID: os.Getpid(), Facts: facts,
	}, actor.WithLogger(cfg.Logger))
	if err != nil {
		return fmt.Errorf("in-process load driver %s: %w", name, err)
	}
	cfg.Context = mctx
	Serve(m, cfg)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		if err := m.Run(mctx); err != nil && !errors.Is(err, actor.ErrStopped) && mctx.Err() == nil && !l.closing.Load() {
			cfg.Logger.Error("in-process load driver stopped", "member", name, "err", err)
		}
	}()
	return nil
}

// kill ends one in-process member as a killed worker ends: its link closes
// and whatever it ran stops (tests).
func (l *Local) kill(name string) {
	l.mu.Lock()
	cancel := l.members[name]
	l.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// Close asks the members to leave (so that neither side reports a lost
// link), then stops them and the system.
func (l *Local) Close() {
	l.closing.Store(true)
	l.mu.Lock()
	names := make([]string, 0, len(l.members))
	for name := range l.members {
		names = append(names, name)
	}
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	for _, name := range names {
		_ = l.System.StopMember(ctx, name, "the race is over")
	}
	cancel()
	l.System.Close()
	l.cancel()
	l.wg.Wait()
}
