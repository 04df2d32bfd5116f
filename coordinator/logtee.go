package coordinator

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"rally/control"
)

// teeHandler passes log records on and also publishes them as log
// events of the coordinator, so the terminal UI shows the coordinator's
// log beside the workers'.
type teeHandler struct {
	inner   slog.Handler
	publish func(control.Event)
	attrs   []slog.Attr
}

func (h teeHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	host := "coordinator"
	add := func(a slog.Attr) bool {
		if a.Key == "host" || a.Key == "member" {
			host = a.Value.String()
		}
		if a.Key == "line" && a.Value.Kind() == slog.KindString {
			return true // worker output is published by pipeLog already
		}
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	if r.Message != "worker output" {
		h.publish(control.Event{Time: r.Time, Kind: control.EventLog, Host: host, Text: b.String()})
	}
	return h.inner.Handle(ctx, r)
}

func (h teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return teeHandler{inner: h.inner.WithAttrs(as), publish: h.publish, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h teeHandler) WithGroup(name string) slog.Handler {
	return teeHandler{inner: h.inner.WithGroup(name), publish: h.publish, attrs: h.attrs}
}
