package bison

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Slots given back go to urgent waiters first, then in arrival order; a waiter that gives up
// leaves no slot stranded.
func TestLimiterUrgentFirst(t *testing.T) {
	l := NewLimiter(Limits{MaxInFlight: 1})
	hold, err := l.acquire(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	start := func(name string, urgent bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rel, err := l.acquire(context.Background(), urgent)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			l.finish(rel, outcome{})
		}()
		time.Sleep(20 * time.Millisecond) // arrival order
	}
	start("ordinary-1", false)
	start("ordinary-2", false)
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error)
	go func() { _, err := l.acquire(ctx, true); gaveUp <- err }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-gaveUp; err == nil {
		t.Fatal("a cancelled waiter got a slot")
	}
	start("urgent", true)
	l.finish(hold, outcome{})
	wg.Wait()
	if got := order; len(got) != 3 || got[0] != "urgent" || got[1] != "ordinary-1" || got[2] != "ordinary-2" {
		t.Fatalf("order %v, want urgent, ordinary-1, ordinary-2", got)
	}
	if l.inFlight != 0 || l.ordinary != 0 || len(l.urgentQ)+len(l.ordinaryQ) != 0 {
		t.Fatalf("left %d in flight, %d waiting", l.inFlight, len(l.urgentQ)+len(l.ordinaryQ))
	}
}

// Reserved slots are never taken by ordinary requests: urgent work finds them free.
func TestLimiterReserve(t *testing.T) {
	l := NewLimiter(Limits{MaxInFlight: 4})
	l.Reserve(2)
	var held []ticket
	for range 2 {
		rel, err := l.acquire(context.Background(), false)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, rel)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.acquire(ctx, false); err == nil {
		t.Fatal("an ordinary request took a reserved slot")
	}
	for range 2 {
		rel, err := l.acquire(context.Background(), true)
		if err != nil {
			t.Fatal("an urgent request found no reserved slot")
		}
		held = append(held, rel)
	}
	for _, rel := range held {
		l.finish(rel, outcome{})
	}
	if l.inFlight != 0 || l.ordinary != 0 {
		t.Fatalf("left %d in flight (%d ordinary)", l.inFlight, l.ordinary)
	}
}
