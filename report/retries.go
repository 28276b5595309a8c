package report

import (
	"context"
	"log/slog"
	"time"

	"github.com/bisonsync/bisonsync/sync"
)

// retrySeries is a workspace's retries for one cause in a row. A rate-limited instance
// answers 429 to dozens of pages of a workspace: the first retry is logged at once, the rest
// are counted, and one line with the count and what came next closes the series (issue 11).
type retrySeries struct {
	cause  string
	first  sync.Retrying
	last   sync.Retrying
	count  int
	waited time.Duration
}

// retryCause is what makes retries "the same": their scope and reason ("HTTP 429"), not the
// page they were for.
func retryCause(e sync.Retrying) string { return string(e.Scope) + ": " + e.Reason }

// retrying logs the first retry of a series and counts the others.
func (l *Logger) retrying(e sync.Retrying) {
	cause := retryCause(e)
	l.mu.Lock()
	prev := l.retries[e.Workspace]
	if prev != nil && prev.cause == cause {
		prev.last, prev.count, prev.waited = e, prev.count+1, prev.waited+e.Wait
		l.mu.Unlock()
		return
	}
	l.retries[e.Workspace] = &retrySeries{cause: cause, first: e, last: e, count: 1, waited: e.Wait}
	l.mu.Unlock()
	if prev != nil {
		l.logSeries(prev, "another cause", slog.String("next_reason", e.Reason))
	}
	l.log.Warn("retrying", "workspace", e.Workspace, "scope", e.Scope, "op", e.Op, "attempt", e.Attempt,
		"reason", e.Reason, l.duration("wait", e.Wait))
}

// flushRetries closes the retry series of workspace ("" closes them all) with outcome: the
// workspace's status, or the run's end.
func (l *Logger) flushRetries(workspace, outcome string) {
	l.mu.Lock()
	var done []*retrySeries
	for ws, s := range l.retries {
		if workspace == "" || ws == workspace {
			done = append(done, s)
			delete(l.retries, ws)
		}
	}
	l.mu.Unlock()
	for _, s := range done {
		l.logSeries(s, outcome)
	}
}

// logSeries writes a series' closing line; a series of one retry was said in full already.
func (l *Logger) logSeries(s *retrySeries, outcome string, extra ...any) {
	if s.count < 2 {
		return
	}
	args := append([]any{"workspace", s.first.Workspace, "scope", s.first.Scope, "reason", s.first.Reason,
		"count", s.count, "first_op", s.first.Op, "last_op", s.last.Op, "last_attempt", s.last.Attempt,
		l.duration("waited", s.waited), "outcome", outcome}, extra...)
	l.log.Log(context.Background(), slog.LevelWarn, "retried", args...)
}
