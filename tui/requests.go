package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/human"
	"github.com/bisonsync/bisonsync/sync"
)

// The console's second read, beside the registry's: the instances (their learnt pace) and
// the requests other programs left in sync_requests (issue 13). It is made at start, at every
// poll and every registry refresh, one at a time.

// recentRequests is how many requests the console reads.
const recentRequests = 50

// flowState is what the second read brought.
type flowState struct {
	instances []db.Instance
	requests  []db.RequestRecord // newest first
	loading   bool
	err       string // the last read's error, cleaned; "" when it worked
}

// flowMsg is a read of the instances and the requests.
type flowMsg struct {
	instances []db.Instance
	requests  []db.RequestRecord
	err       error
}

func (c *console) loadFlow() tea.Cmd {
	return c.read(func(ctx context.Context) tea.Msg {
		inst, err := c.b.Instances(ctx)
		if err != nil {
			return flowMsg{err: err}
		}
		reqs, err := c.b.Requests(ctx, recentRequests)
		return flowMsg{instances: inst, requests: reqs, err: err}
	})
}

// reloadFlow reads the instances and requests unless a read is under way.
func (m *model) reloadFlow() tea.Cmd {
	if m.flow.loading {
		return nil
	}
	m.flow.loading = true
	return m.c.loadFlow()
}

func (m *model) onFlow(msg flowMsg) {
	m.flow.loading = false
	if msg.err != nil {
		m.flow.err = clean(msg.err.Error()) // kept: the registry's read says what is wrong
		return
	}
	m.flow.instances, m.flow.requests, m.flow.err = msg.instances, msg.requests, ""
}

// openRequests are the requests pending or being served, oldest first.
func (m *model) openRequests() []db.RequestRecord {
	var out []db.RequestRecord
	for i := len(m.flow.requests) - 1; i >= 0; i-- {
		if r := m.flow.requests[i]; r.Status == db.RequestPending || r.Status == db.RequestRunning {
			out = append(out, r)
		}
	}
	return out
}

// requestWhat is what a request asks for: a workspace, or every active one.
func requestWhat(r db.RequestRecord) string {
	if r.Workspace == "" {
		return "every workspace"
	}
	return clean(r.Workspace)
}

// requester names who asked, "someone" when the program did not say.
func requester(r db.RequestRecord) string {
	if r.RequestedBy == "" {
		return "someone"
	}
	return clean(r.RequestedBy)
}

// requestsLine is the strip of open requests: pending ones with their age, running ones
// with their run; "" when there are none.
func (m *model) requestsLine() string {
	open := m.openRequests()
	if len(open) == 0 {
		return ""
	}
	parts := make([]string, 0, len(open))
	for _, r := range open {
		s := fmt.Sprintf("#%d %s by %s", r.ID, requestWhat(r), requester(r))
		switch {
		case r.Status == db.RequestPending && r.RequestedAt != nil:
			s = styleKindWarn.render(symQueued+" pending") + " " + s + ", asked " + human.Since(r.RequestedAt, m.now) + " ago"
		case r.Status == db.RequestPending:
			s = styleKindWarn.render(symQueued+" pending") + " " + s
		case r.RunID != 0:
			s = styleKindRunning.render(symRunning+" running") + " " + s + fmt.Sprintf(" → run #%d", r.RunID)
		default:
			s = styleKindRunning.render(symRunning+" running") + " " + s + ", its run opening on " + clean(r.ClaimedBy)
		}
		parts = append(parts, s)
	}
	head := styleBold.Render(fmt.Sprintf("requests (%d open) ", len(open)))
	if m.pendingUnserved(open) {
		head += styleFaint.Render("(a bisonsync --every process serves them) ")
	}
	return clip(head+strings.Join(parts, "; "), m.width)
}

// pendingUnserved reports whether every open request is pending: nothing serves them yet.
func (m *model) pendingUnserved(open []db.RequestRecord) bool {
	for _, r := range open {
		if r.Status != db.RequestPending {
			return false
		}
	}
	return true
}

// requestsOf are the requests a run served, oldest first.
func (m *model) requestsOf(runID int64) []db.RequestRecord {
	var out []db.RequestRecord
	for i := len(m.flow.requests) - 1; i >= 0; i-- {
		if r := m.flow.requests[i]; r.RunID == runID && runID != 0 {
			out = append(out, r)
		}
	}
	return out
}

// askedBy says who asked for a run started by requests: "asked by dashboard (request #14)";
// "" for a run nobody asked for through sync_requests (or whose requests are no longer
// among the recent ones).
func (m *model) askedBy(runID int64, trigger string) string {
	reqs := m.requestsOf(runID)
	if len(reqs) == 0 {
		if trigger == sync.RequestTrigger {
			return "asked through sync_requests"
		}
		return ""
	}
	var who, ids []string
	for _, r := range reqs {
		if name := requester(r); !slices.Contains(who, name) {
			who = append(who, name)
		}
		ids = append(ids, fmt.Sprintf("#%d", r.ID))
	}
	word := "request"
	if len(ids) > 1 {
		word = "requests"
	}
	return fmt.Sprintf("asked by %s (%s %s)", strings.Join(who, ", "), word, strings.Join(ids, ", "))
}

// flowReader is what the console reads besides the registry and the history.
type flowReader interface {
	// Instances returns every instance with its limits and learnt pace, by name.
	Instances(ctx context.Context) ([]db.Instance, error)
	// Requests returns the latest sync_requests rows, newest first.
	Requests(ctx context.Context, limit int) ([]db.RequestRecord, error)
}

func (b storeBackend) Instances(ctx context.Context) ([]db.Instance, error) {
	return b.store.Instances(ctx)
}

func (b storeBackend) Requests(ctx context.Context, limit int) ([]db.RequestRecord, error) {
	return b.store.RecentRequests(ctx, limit)
}

// requestersOf names who asked for a run through sync_requests, "" when nobody did.
func (m *model) requestersOf(runID int64) string {
	var who []string
	for _, r := range m.requestsOf(runID) {
		if name := requester(r); !slices.Contains(who, name) {
			who = append(who, name)
		}
	}
	return strings.Join(who, ", ")
}

// hostCell is a run's host, with who asked for it: "cron-1 ⇠ dashboard".
func hostCell(host, askedBy string) string {
	if askedBy == "" {
		return clean(host)
	}
	return clean(host) + " " + symAsked + " " + askedBy
}
