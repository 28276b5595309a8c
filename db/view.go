package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

const refreshViewSQL = `REFRESH MATERIALIZED VIEW CONCURRENTLY {view}`

const recordRefreshSQL = `
UPDATE {runs} SET view_refresh_ms = $2::integer, view_refresh_error = NULLIF($3::text, '')
WHERE id = $1::bigint`

// RefreshView refreshes email_accounts_view concurrently (readers keep the old contents
// meanwhile), bounded by timeout through a statement_timeout local to the transaction, and
// records the duration and any error on the run row (unless runID is 0). It returns how long
// the refresh took.
func (s *Store) RefreshView(ctx context.Context, runID int64, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if timeout > 0 {
			// SET LOCAL ends with the transaction, so it never leaks to the next user of a
			// pooled server connection. SET cannot take parameters, hence the formatting; the
			// value is an integer we produced.
			if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", max(timeout.Milliseconds(), 1))); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, s.q.refreshView)
		return err
	})
	took := time.Since(start)
	if err != nil {
		err = fmt.Errorf("refresh %s: %w", tableView, err)
	}
	if runID != 0 {
		errText := ""
		if err != nil {
			errText = err.Error()
		}
		// Recorded even when the caller's context is done: the run history should say why
		// the view is stale.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, rerr := s.pool.Exec(rctx, s.q.recordRefresh, runID, took.Milliseconds(), errText); rerr != nil && err == nil {
			err = fmt.Errorf("record view refresh on run %d: %w", runID, rerr)
		}
	}
	return took, err
}
