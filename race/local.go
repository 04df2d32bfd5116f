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

	"rally/actor"
	"rally/worker"
)

// LocalMember is the name of the in-process load driver.
const LocalMember = "local"

// Local is an actor system whose one member runs in this process: the
// coordinator's own machine as the load driver, speaking the same protocol
// as a worker on a remote host (over an in-memory pipe instead of a tunnel).
type Local struct {
	System *actor.System
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartLocal starts the system and joins the in-process member.
func StartLocal(ctx context.Context, version string, cfg MemberConfig) (*Local, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &Local{System: actor.NewSystem(actor.Options{Version: version, Logger: cfg.Logger}), cancel: cancel}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		cancel()
		return nil, err
	}
	token := hex.EncodeToString(b)
	l.System.Expect(LocalMember, token)
	coordSide, memberSide := net.Pipe()
	l.wg.Add(1)
	go func() { defer l.wg.Done(); l.System.ServeConn(ctx, coordSide, LocalMember) }()
	m, err := actor.Join(ctx, memberSide, actor.Hello{
		Protocol: actor.ProtocolVersion, Name: LocalMember, Token: token, Version: version,
		PID: os.Getpid(), Facts: worker.Facts(),
	}, actor.WithLogger(cfg.Logger))
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("in-process load driver: %w", err)
	}
	cfg.Context = ctx
	Serve(m, cfg)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		if err := m.Run(ctx); err != nil && !errors.Is(err, actor.ErrStopped) && ctx.Err() == nil {
			cfg.Logger.Error("in-process load driver stopped", "err", err)
		}
	}()
	if err := l.System.WaitMembers(ctx, LocalMember); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Close stops the member and the system.
func (l *Local) Close() {
	l.System.Close()
	l.cancel()
	l.wg.Wait()
}
