package report

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	stdsync "sync"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/human"
	"github.com/bisonsync/bisonsync/internal/safetext"
	"github.com/bisonsync/bisonsync/sync"
)

// Logger writes engine events as log lines. Text from the API and the database goes through
// slog, whose handlers quote and escape control characters, so it cannot drive a terminal.
//
// Every fact is a field of its own. Durations are numbers with their unit in the key in
// JSON (duration_ms, wait_ms), for programs, and words in text (duration=3.9s), for people.
type Logger struct {
	log       *slog.Logger
	json      bool
	pageEvery time.Duration

	mu       stdsync.Mutex
	lastPage map[string]time.Time
	retries  map[string]*retrySeries // by workspace
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
	return &Logger{log: slog.New(h), json: format == "json", pageEvery: pageEvery,
		lastPage: map[string]time.Time{}, retries: map[string]*retrySeries{}}, nil
}

// Observe logs one event; it is a sync.Observer.
func (l *Logger) Observe(e sync.Event) {
	switch e := e.(type) {
	case sync.RunStarted:
		l.log.Info("run started", "run_id", e.RunID, "trigger", e.Trigger, "workspaces", len(e.Workspaces),
			"abandoned_runs", len(e.Abandoned))
	case sync.WorkspaceStarted:
		l.log.Info("workspace started", "workspace", e.Workspace, "attempt", e.Attempt)
	case sync.PageFetched:
		if !l.pageDue(e) {
			return
		}
		l.log.Info("page fetched", "workspace", e.Workspace, "page", e.Page, "last_page", e.LastPage,
			"pages_fetched", e.PagesFetched, "accounts", e.Accounts, "total", e.Total, "pass", e.Pass)
	case sync.Retrying:
		l.retrying(e)
	case sync.Notice:
		l.notice(e)
	case sync.Waiting:
		l.waiting(e)
	case sync.PaceChanged:
		l.paceChanged(e)
	case sync.WorkspaceFinished:
		l.flushRetries(e.Result.Name, string(e.Result.Status))
		l.workspaceFinished(e.Result)
	case sync.RunFinished:
		l.flushRetries("", "run finished")
		l.runFinished(e.Summary)
	case sync.WorkspacesDiscovered:
		l.discovered(e.InstanceDiscovery)
	}
}

func (l *Logger) notice(e sync.Notice) {
	level := slog.LevelInfo
	if e.Level == sync.LevelWarn {
		level = slog.LevelWarn
	}
	if e.Workspace != "" {
		l.log.Log(context.Background(), level, e.Message, "workspace", e.Workspace)
	} else {
		l.log.Log(context.Background(), level, e.Message)
	}
}

// waiting logs a wait the engine announced: a super-admin key held by another process or a
// Retry-After pause at info level (nothing is wrong), an unreachable database as a warning.
// The time left is a duration field (until_ms in JSON), the wait's end a timestamp.
func (l *Logger) waiting(e sync.Waiting) {
	args := []any{"for", string(e.For)}
	if e.Workspace != "" {
		args = append(args, "workspace", e.Workspace)
	}
	if e.Instance != "" {
		args = append(args, "instance", e.Instance)
	}
	args = append(args, "detail", e.Detail)
	if !e.Until.IsZero() {
		args = append(args, "until", e.Until, l.duration("left", time.Until(e.Until).Round(time.Millisecond)))
	}
	level := slog.LevelInfo
	if e.For == sync.WaitDatabase {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, e.String(), args...)
}

// paceChanged logs a change of an instance's pace: a cut after a 429 as a warning (the
// server pushes back), a step back up at info level.
// paceChanged logs a change of pace: once per change, never per 429, the change in words and
// its facts as fields; a cut is a warning (the instance pushed back).
func (l *Logger) paceChanged(e sync.PaceChanged) {
	level, verb := slog.LevelInfo, "raised"
	if e.To.InFlight < e.From.InFlight || (e.To.RequestsPerSecond > 0 &&
		(e.From.RequestsPerSecond <= 0 || e.To.RequestsPerSecond < e.From.RequestsPerSecond)) {
		level, verb = slog.LevelWarn, "cut"
	}
	msg := fmt.Sprintf("pace of instance %s %s: %s -> %s (%s)", safetext.Clean(e.Instance), verb, e.From, e.To, safetext.Clean(e.Reason))
	l.log.Log(context.Background(), level, msg, "instance", e.Instance, "requests_per_second", e.To.RequestsPerSecond,
		"in_flight", e.To.InFlight, "previous_requests_per_second", e.From.RequestsPerSecond,
		"previous_in_flight", e.From.InFlight, "reason", e.Reason)
}

// workspaceFinished logs a workspace's outcome: failed at error level, cancelled (the run
// was stopped, nothing wrong with the workspace) at warning level.
func (l *Logger) workspaceFinished(r sync.WorkspaceResult) {
	args := []any{"workspace", r.Name, "instance", r.Instance, "status", r.Status, "attempts", r.Attempts,
		"pages_fetched", r.PagesFetched, "pages_total", r.PagesTotal, "accounts_expected", r.AccountsExpected,
		"accounts_fetched", r.AccountsFetched, "accounts_upserted", r.AccountsUpserted,
		"accounts_deleted", r.AccountsDeleted, l.duration("duration", r.Duration)}
	if r.Error != "" {
		args = append(args, "error", r.Error)
	}
	if r.Warning != "" {
		args = append(args, "warning", r.Warning)
	}
	level := slog.LevelInfo
	switch r.Status {
	case db.WorkspaceFailed:
		level = slog.LevelError
	case db.WorkspaceCancelled:
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, "workspace finished", args...)
}

// runFinished logs the run's closing line, with why it ended as it did.
func (l *Logger) runFinished(s sync.Summary) {
	level := slog.LevelInfo
	switch {
	case s.Interrupted:
		level = slog.LevelWarn
	case !s.OK():
		level = slog.LevelError
	}
	l.log.Log(context.Background(), level, "run finished", "run_id", s.RunID, "status", s.Status,
		"workspaces", s.WorkspacesTotal, "succeeded", s.WorkspacesSucceeded, "failed", s.WorkspacesFailed,
		"cancelled", s.WorkspacesCancelled, "skipped", s.WorkspacesSkipped,
		"accounts_expected", s.AccountsExpected, "accounts_synced", s.AccountsSynced,
		l.duration("duration", time.Duration(s.DurationMS)*time.Millisecond), "reason", RunReason(s))
}

// duration is a duration field: key_ms as a number in JSON, key as words in text.
func (l *Logger) duration(key string, d time.Duration) slog.Attr {
	if l.json {
		return slog.Int64(key+"_ms", d.Milliseconds())
	}
	return slog.String(key, human.Duration(d))
}

// Info logs a line of the program's own (not an engine event).
func (l *Logger) Info(msg string, args ...any) { l.log.Info(msg, args...) }

// Warn logs a line of the program's own that an operator should notice.
func (l *Logger) Warn(msg string, args ...any) { l.log.Warn(msg, args...) }

// Error logs a failure of the program's own, such as a notification that did not go out.
func (l *Logger) Error(msg string, args ...any) { l.log.Error(msg, args...) }

// Duration is a duration field for Info, Warn and Error, in the format's convention.
func (l *Logger) Duration(key string, d time.Duration) slog.Attr { return l.duration(key, d) }

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
