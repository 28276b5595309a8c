package tui

import (
	"fmt"
	"time"

	"github.com/bisonsync/bisonsync/internal/human"
	"github.com/bisonsync/bisonsync/sync"
)

// What the run waits for, from the engine's typed Waiting events: a super-admin key held by
// another process (a queued workspace waits), a Retry-After pause of an instance (its
// workspaces wait), the database (the whole run waits).

// dbWait is an outage of the database the run waits out.
type dbWait struct {
	since time.Time // when the console heard of it
	until time.Time // when the run stops waiting for it
}

func (r *runState) onWaiting(e sync.Waiting, now time.Time) {
	detail := clean(e.Detail)
	switch e.For {
	case sync.WaitKeyBusy:
		r.waitForKey(e, now)
		return
	case sync.WaitInstancePaused:
		inst := clean(e.Instance)
		reason := detail
		if e.Workspace != "" {
			reason += " on " + clean(e.Workspace)
		}
		r.pauses[inst] = instPause{until: e.Until, reason: reason}
		r.log.add(now, logWarn, fmt.Sprintf("%s instance %s paused after %s: every request to it waits %s (Retry-After)",
			symThrottled, inst, reason, human.Duration(e.Until.Sub(now).Round(100*time.Millisecond))))
	case sync.WaitDatabase:
		r.dbWait = &dbWait{since: now, until: e.Until}
		r.log.add(now, logWarn, fmt.Sprintf("%s the database is unreachable (%s): the run waits for it up to %s (not counted as attempts)",
			symPending, detail, human.Duration(e.Until.Sub(now).Round(time.Second))))
	default:
		r.log.add(now, logInfo, fmt.Sprintf("%s waiting (%s): %s", symPending, clean(string(e.For)), detail))
	}
}

// waitForKey files a queued workspace as waiting for its super-admin key.
func (r *runState) waitForKey(e sync.Waiting, now time.Time) {
	text := clean(e.String())
	if w := r.ws[e.Workspace]; w != nil && w.state == progQueued {
		if w.waitingFor == "" {
			r.waiting = append(r.waiting, e.Workspace)
		}
		w.waitingFor = text
	}
	r.log.add(now, logInfo, clean(e.Workspace)+": "+text)
}

// databaseAnswers ends the database wait: the engine wrote to it (a workspace started, or
// one committed), or the run ended.
func (r *runState) databaseAnswers() { r.dbWait = nil }

// dbWaitWords says that the run waits for the database, "" when it does not.
func (r *runState) dbWaitWords(now time.Time) string {
	d := r.dbWait
	if d == nil || r.finished {
		return ""
	}
	s := symPending + " waiting for the database"
	if left := d.until.Sub(now); left > 0 {
		s += fmt.Sprintf(" (up to %s more)", human.Duration(left.Round(time.Second)))
	}
	return s
}
