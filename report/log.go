package report

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	stdsync "sync"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// Logger writes engine events as log lines. Text from the API and the database goes through
// slog, whose handlers quote and escape control characters, so it cannot drive a terminal.
type Logger struct {
	log       *slog.Logger
	pageEvery time.Duration

	mu       stdsync.Mutex
	lastPage map[string]time.Time
}

// NewLogger writes to w in format "text" or "json". Page events are logged at most once per
// pageEvery per workspace (the first and last page of a pass always are); 0 means 1s.
func NewLogger(w io.Writer, format string, pageEvery time.Duration) (*Logger, error) {
	var h slog.Handler
	switch format {
	case "", "text":
		h = slog.NewTextHandler(w, nil)
	case "json":
		h = slog.NewJSONHandler(w, nil)
	default:
		return nil, fmt.Errorf("unknown log format %q: use text or json", format)
	}
	if pageEvery <= 0 {
		pageEvery = time.Second
	}
	return &Logger{log: slog.New(h), pageEvery: pageEvery, lastPage: map[string]time.Time{}}, nil
}

// Observe logs one event; it is a sync.Observer.
func (l *Logger) Observe(e sync.Event) {
	switch e := e.(type) {
	case sync.RunStarted:
		l.log.Info("run started", "run_id", e.RunID, "trigger", e.Trigger, "workspaces", len(e.Workspaces))
	case sync.WorkspaceStarted:
		l.log.Info("workspace started", "workspace", e.Workspace, "attempt", e.Attempt)
	case sync.PageFetched:
		if !l.pageDue(e) {
			return
		}
		l.log.Info("page fetched", "workspace", e.Workspace, "page", e.Page, "last_page", e.LastPage,
			"pages_fetched", e.PagesFetched, "accounts", e.Accounts, "total", e.Total, "pass", e.Pass)
	case sync.Retrying:
		l.log.Warn("retrying", "workspace", e.Workspace, "scope", e.Scope, "op", e.Op, "attempt", e.Attempt,
			"reason", e.Reason, "wait", e.Wait.Round(time.Millisecond).String())
	case sync.Notice:
		level := slog.LevelInfo
		if e.Level == sync.LevelWarn {
			level = slog.LevelWarn
		}
		if e.Workspace != "" {
			l.log.Log(context.Background(), level, e.Message, "workspace", e.Workspace)
		} else {
			l.log.Log(context.Background(), level, e.Message)
		}
	case sync.WorkspaceFinished:
		r := e.Result
		args := []any{"workspace", r.Name, "status", r.Status, "attempts", r.Attempts, "pages", r.PagesFetched,
			"expected", r.AccountsExpected, "fetched", r.AccountsFetched, "upserted", r.AccountsUpserted,
			"deleted", r.AccountsDeleted, "duration", r.Duration.Round(time.Millisecond).String()}
		if r.Error != "" {
			args = append(args, "error", r.Error)
		}
		if r.Warning != "" {
			args = append(args, "warning", r.Warning)
		}
		level := slog.LevelInfo
		if r.Status == db.WorkspaceFailed || r.Status == db.WorkspaceCancelled {
			level = slog.LevelError
		}
		l.log.Log(context.Background(), level, "workspace finished", args...)
	case sync.RunFinished:
		s := e.Summary
		level := slog.LevelInfo
		if !s.OK() {
			level = slog.LevelError
		}
		l.log.Log(context.Background(), level, "run finished", "run_id", s.RunID, "status", s.Status,
			"succeeded", s.WorkspacesSucceeded, "failed", s.WorkspacesFailed, "cancelled", s.WorkspacesCancelled,
			"skipped", s.WorkspacesSkipped, "accounts", s.AccountsSynced,
			"duration", (time.Duration(s.DurationMS) * time.Millisecond).String(), "error", s.Error)
	}
}

// Info logs a line of the program's own (not an engine event).
func (l *Logger) Info(msg string, args ...any) { l.log.Info(msg, args...) }

// Error logs a failure of the program's own, such as a notification that did not go out.
func (l *Logger) Error(msg string, args ...any) { l.log.Error(msg, args...) }

// pageDue rate-limits page lines per workspace; the first and the last page always pass.
func (l *Logger) pageDue(e sync.PageFetched) bool {
	if e.Page == 1 || e.Page >= e.LastPage {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.lastPage[e.Workspace]) < l.pageEvery {
		return false
	}
	l.lastPage[e.Workspace] = now
	return true
}
