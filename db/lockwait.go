package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// LockWait is a commit waiting for a lock that another session holds: which table, for how
// long, and who holds it. A commit that waits is not stalled; it says so while it lasts.
type LockWait struct {
	// Relation is the table waited for, schema-qualified; "" for a row's lock (the wait is
	// then for another transaction touching the same rows).
	Relation string
	Waited   time.Duration
	// HeldBy are the sessions it waits for: pid and application_name.
	HeldBy []LockHolder
}

// LockHolder is a session holding a lock another waits for.
type LockHolder struct {
	PID         int32
	Application string
}

func (w LockWait) String() string {
	what := "a row lock"
	if w.Relation != "" {
		what = "a lock on " + w.Relation
	}
	var holders []string
	for _, h := range w.HeldBy {
		s := fmt.Sprintf("pid %d", h.PID)
		if h.Application != "" {
			s += fmt.Sprintf(" (%s)", h.Application)
		}
		holders = append(holders, s)
	}
	msg := fmt.Sprintf("waiting %s for %s", w.Waited.Round(time.Second), what)
	if len(holders) > 0 {
		msg += " held by " + strings.Join(holders, ", ")
	}
	return msg
}

// Lock-wait reports: the first after lockWaitFirst, then every lockWaitEvery while it lasts.
const (
	lockWaitPoll  = 500 * time.Millisecond
	lockWaitFirst = 2 * time.Second
	lockWaitEvery = 5 * time.Second
)

const backendPIDSQL = `SELECT pg_backend_pid()`

// A session's wait for a lock, from the statistics views every session can read.
const lockWaitSQL = `
SELECT coalesce(l.relation::regclass::text, ''),
       (extract(epoch FROM clock_timestamp() - a.query_start) * 1000)::bigint,
       coalesce((SELECT array_agg(b.pid ORDER BY b.pid) FROM pg_stat_activity b
                 WHERE b.pid = ANY (pg_blocking_pids(a.pid))), '{}'),
       coalesce((SELECT array_agg(coalesce(b.application_name, '') ORDER BY b.pid) FROM pg_stat_activity b
                 WHERE b.pid = ANY (pg_blocking_pids(a.pid))), '{}')
FROM pg_stat_activity a
LEFT JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
WHERE a.pid = $1::integer AND a.wait_event_type = 'Lock'
LIMIT 1`

// watchLocks reports, through report, while the transaction tx waits for a lock: it reads
// the transaction's backend and then polls the statistics views on another connection. The
// returned function stops it.
func (s *Store) watchLocks(ctx context.Context, tx pgx.Tx, report func(LockWait)) (stop func(), err error) {
	var pid int32
	if err := tx.QueryRow(ctx, backendPIDSQL).Scan(&pid); err != nil {
		return nil, fmt.Errorf("read the commit's backend: %w", err)
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.pollLockWait(wctx, pid, report)
	}()
	return func() { cancel(); <-done }, nil
}

func (s *Store) pollLockWait(ctx context.Context, pid int32, report func(LockWait)) {
	t := time.NewTicker(lockWaitPoll)
	defer t.Stop()
	var reported time.Duration
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w, waiting := s.lockWait(ctx, pid)
		switch {
		case !waiting:
			reported = 0
		case w.Waited >= lockWaitFirst && (reported == 0 || w.Waited-reported >= lockWaitEvery):
			reported = w.Waited
			report(w)
		}
	}
}

// lockWait reads whether the backend pid waits for a lock now.
func (s *Store) lockWait(ctx context.Context, pid int32) (LockWait, bool) {
	var (
		w    LockWait
		ms   int64
		pids []int32
		apps []string
	)
	err := s.ctl.QueryRow(ctx, lockWaitSQL, pid).Scan(&w.Relation, &ms, &pids, &apps)
	if err != nil {
		return LockWait{}, false // not waiting (no row), or the question failed: nothing to say
	}
	w.Waited = time.Duration(ms) * time.Millisecond
	w.HeldBy = holders(pids, apps)
	return w, true
}

// bisonsync's sessions waiting for a lock on a table of the schema, longest first.
const schemaLockWaitsSQL = `
SELECT l.relation::regclass::text,
       (extract(epoch FROM clock_timestamp() - a.query_start) * 1000)::bigint,
       coalesce((SELECT array_agg(b.pid ORDER BY b.pid) FROM pg_stat_activity b
                 WHERE b.pid = ANY (pg_blocking_pids(a.pid))), '{}'),
       coalesce((SELECT array_agg(coalesce(b.application_name, '') ORDER BY b.pid) FROM pg_stat_activity b
                 WHERE b.pid = ANY (pg_blocking_pids(a.pid))), '{}')
FROM pg_stat_activity a
JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted AND l.locktype = 'relation'
JOIN pg_class c ON c.oid = l.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.application_name = 'bisonsync' AND a.wait_event_type = 'Lock' AND n.nspname = $1::text
ORDER BY 2 DESC`

// LockWaits returns bisonsync's sessions that wait now for a lock on one of the schema's
// tables, longest first, with who holds it. It reads on the control pool, so that it answers
// while blocked sessions hold the main pool's connections.
func (s *Store) LockWaits(ctx context.Context) ([]LockWait, error) {
	rows, err := s.ctl.Query(ctx, s.q.schemaLockWaits, s.schema)
	if err != nil {
		return nil, fmt.Errorf("read lock waits: %w", err)
	}
	var (
		out  []LockWait
		w    LockWait
		ms   int64
		pids []int32
		apps []string
	)
	_, err = pgx.ForEachRow(rows, []any{&w.Relation, &ms, &pids, &apps}, func() error {
		w.Waited = time.Duration(ms) * time.Millisecond
		w.HeldBy = holders(pids, apps)
		out = append(out, w)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read lock waits: %w", err)
	}
	return out, nil
}

func holders(pids []int32, apps []string) []LockHolder {
	var out []LockHolder
	for i, p := range pids {
		h := LockHolder{PID: p}
		if i < len(apps) {
			h.Application = apps[i]
		}
		out = append(out, h)
	}
	return out
}
