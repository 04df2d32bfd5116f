package driver

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestFirstErrorKeepsExactlyTheFirst(t *testing.T) {
	var f firstError
	if f.get() != nil {
		t.Fatal("a fresh firstError has an error")
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var winners []error
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := fmt.Errorf("client %d", i)
			if f.set(err) {
				mu.Lock()
				winners = append(winners, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(winners) != 1 || f.get() != winners[0] {
		t.Fatalf("winners %v, kept %v", winners, f.get())
	}
	if f.set(errors.New("late")) || f.get() != winners[0] {
		t.Fatalf("a later error replaced the first: %v", f.get())
	}
}
