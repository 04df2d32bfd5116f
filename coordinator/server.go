package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"rally/control"
)

// handler serves the control API.
func (c *Coordinator) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+control.PathStatus, func(w http.ResponseWriter, r *http.Request) {
		control.WriteJSON(w, http.StatusOK, c.Status())
	})
	mux.HandleFunc("POST "+control.PathDown, func(w http.ResponseWriter, r *http.Request) {
		var req control.DownRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			control.WriteJSON(w, http.StatusBadRequest, err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		rep := c.Down(ctx, req.KeepFiles)
		control.WriteJSON(w, http.StatusOK, rep)
		// The process ends once the answer is out: whoever runs the
		// coordinator waits on Done.
		go func() {
			time.Sleep(100 * time.Millisecond)
			c.Close()
		}()
	})
	mux.HandleFunc("POST "+control.PathRace, func(w http.ResponseWriter, r *http.Request) {
		var req control.RaceRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			control.WriteJSON(w, http.StatusBadRequest, err)
			return
		}
		started, err := c.StartRace(r.Context(), req)
		var bad *BadRequestError
		switch {
		case errors.As(err, &bad):
			control.WriteJSON(w, http.StatusUnprocessableEntity, err)
			return
		case err != nil:
			control.WriteJSON(w, http.StatusConflict, err)
			return
		}
		control.WriteJSON(w, http.StatusOK, started)
	})
	mux.HandleFunc("DELETE "+control.PathRace, func(w http.ResponseWriter, r *http.Request) {
		if err := c.AbortRace(); err != nil {
			control.WriteJSON(w, http.StatusConflict, err)
			return
		}
		control.WriteJSON(w, http.StatusOK, struct{}{})
	})
	mux.HandleFunc("GET "+control.PathRace, func(w http.ResponseWriter, r *http.Request) {
		if id := r.URL.Query().Get("id"); id != "" {
			control.WriteJSON(w, http.StatusOK, c.raceConductor().ByID(id))
			return
		}
		control.WriteJSON(w, http.StatusOK, c.raceConductor().Current())
	})
	mux.HandleFunc("GET "+control.PathEvents, func(w http.ResponseWriter, r *http.Request) {
		ch, cancel := c.events.subscribe(1024)
		defer cancel()
		w.Header().Set("Content-Type", "application/x-ndjson")
		fl, _ := w.(http.Flusher)
		enc := json.NewEncoder(w)
		// A snapshot first, so a late subscriber sees every host.
		for _, h := range c.Status().Hosts {
			hs := h
			_ = enc.Encode(control.Event{Time: time.Now(), Kind: control.EventHost, Host: h.Name, Phase: h.Phase, Text: h.Error, HostStatus: &hs})
		}
		if fl != nil {
			fl.Flush()
		}
		for {
			select {
			case <-r.Context().Done():
				return
			case ev, ok := <-ch:
				if !ok {
					return
				}
				if err := enc.Encode(ev); err != nil {
					return
				}
				if fl != nil && len(ch) == 0 {
					fl.Flush()
				}
			}
		}
	})
	return mux
}

// broadcaster fans events out to subscribers; a full subscriber loses the
// event (counted) rather than blocking the coordinator.
type broadcaster struct {
	mu      sync.Mutex
	subs    map[chan control.Event]struct{}
	dropped int64
	closed  bool
}

func newBroadcaster() *broadcaster {
	return &broadcaster{subs: make(map[chan control.Event]struct{})}
}

func (b *broadcaster) subscribe(buffer int) (<-chan control.Event, func()) {
	ch := make(chan control.Event, buffer)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch, func() {}
	}
	b.subs[ch] = struct{}{}
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
	}
}

func (b *broadcaster) publish(ev control.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- ev:
		default:
			b.dropped++
		}
	}
}

func (b *broadcaster) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}
