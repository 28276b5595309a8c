package sync

import (
	"context"
	"math"
	"sort"
	stdsync "sync"
	"time"
)

// job is one workspace waiting for, or taking, its turn.
type job struct {
	plan      planned
	attempt   int       // attempts made so far
	started   time.Time // when the first attempt began; zero if it never did
	leased    bool      // this run holds the workspace's lease
	waitNoted bool      // the wait for a busy super-admin key was reported
	holdsKey  bool      // the job holds its super-admin key in this process (queue.mu)
	notBefore time.Time // a retry waits at the back of the queue until then
}

// queue hands workspaces to workers: largest first (minimising the makespan), failed ones
// again at the back after a wait, and never two workspaces that share a super-admin key at
// once (the key's selected workspace is server-side state).
type queue struct {
	mu       stdsync.Mutex
	jobs     []*job
	busyKeys map[string]bool
	order    []string      // workspace names in schedule order, for reports
	active   int           // jobs handed out and not yet done or requeued
	changed  chan struct{} // closed and replaced on every change: a broadcast
}

func newQueue(plans []planned) *queue {
	q := &queue{busyKeys: map[string]bool{}, changed: make(chan struct{})}
	for _, p := range plans {
		q.jobs = append(q.jobs, &job{plan: p})
	}
	// Workspaces sharing a super-admin key run one after another: together they are one long
	// job, weighed as the sum of their sizes, and start before anything smaller.
	chain := map[string]int{}
	for _, j := range q.jobs {
		if k := j.plan.exclusiveKey; k != "" {
			chain[k] = satAdd(chain[k], sizeRank(j.plan))
		}
	}
	weight := func(j *job) int {
		if k := j.plan.exclusiveKey; k != "" {
			return chain[k]
		}
		return sizeRank(j.plan)
	}
	sort.SliceStable(q.jobs, func(a, b int) bool {
		ja, jb := q.jobs[a], q.jobs[b]
		if wa, wb := weight(ja), weight(jb); wa != wb {
			return wa > wb
		}
		return sizeRank(ja.plan) > sizeRank(jb.plan)
	})
	for _, j := range q.jobs {
		q.order = append(q.order, j.plan.ws.Name)
	}
	return q
}

// sizeRank orders by the last complete fetch; an unknown size counts as large, so a new or
// never-synced workspace does not end up alone at the tail of the run.
func sizeRank(p planned) int {
	if p.ws.EstimatedAccounts == nil {
		return math.MaxInt
	}
	return *p.ws.EstimatedAccounts
}

func satAdd(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

func (q *queue) broadcast() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// next blocks until a job can start and returns it, or returns nil when there is nothing
// left to do (no job waiting and none in progress that might come back) or ctx is done.
func (q *queue) next(ctx context.Context) *job {
	for {
		q.mu.Lock()
		if len(q.jobs) == 0 && q.active == 0 {
			q.mu.Unlock()
			return nil
		}
		now := time.Now()
		var wait time.Duration = -1
		for i, j := range q.jobs {
			if q.busyKeys[j.plan.exclusiveKey] && j.plan.exclusiveKey != "" {
				continue
			}
			if d := j.notBefore.Sub(now); d > 0 {
				if wait < 0 || d < wait {
					wait = d
				}
				continue
			}
			q.jobs = append(q.jobs[:i], q.jobs[i+1:]...)
			if j.plan.exclusiveKey != "" {
				q.busyKeys[j.plan.exclusiveKey] = true
				j.holdsKey = true
			}
			q.active++
			q.mu.Unlock()
			return j
		}
		changed := q.changed
		q.mu.Unlock()

		var timer *time.Timer
		var fire <-chan time.Time
		if wait >= 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-changed:
		case <-fire:
		case <-ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// done ends a job for good. It reports whether that was the last job of a super-admin
// chain (no other job on its key is waiting).
func (q *queue) done(j *job) (chainOver bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.release(j)
	if j.plan.exclusiveKey == "" {
		return false
	}
	for _, other := range q.jobs {
		if other.plan.exclusiveKey == j.plan.exclusiveKey {
			return false
		}
	}
	return true
}

// requeue puts a job back at the tail, to start no sooner than after wait.
func (q *queue) requeue(j *job, wait time.Duration) {
	q.mu.Lock()
	j.notBefore = time.Now().Add(wait)
	q.jobs = append(q.jobs, j)
	q.release(j)
	q.mu.Unlock()
}

func (q *queue) release(j *job) {
	q.freeKey(j)
	q.active--
	q.broadcast()
}

// releaseKey lets the next workspace on the job's super-admin key start while this one is
// still committing: its requests are done.
func (q *queue) releaseKey(j *job) {
	q.mu.Lock()
	q.freeKey(j)
	q.broadcast()
	q.mu.Unlock()
}

func (q *queue) freeKey(j *job) {
	if j.plan.exclusiveKey != "" && j.holdsKey {
		delete(q.busyKeys, j.plan.exclusiveKey)
	}
	j.holdsKey = false
}

// drain removes and returns the jobs that never got (another) turn.
func (q *queue) drain() []*job {
	q.mu.Lock()
	defer q.mu.Unlock()
	left := q.jobs
	q.jobs = nil
	q.broadcast()
	return left
}
