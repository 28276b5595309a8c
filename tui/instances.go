package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/human"
	"github.com/bisonsync/bisonsync/sync"
)

// Each instance's pace (issue 11): the requests per second and in flight the engine sends to
// it, as the run's PaceChanged events tell it, else as the last run kept it in
// bison_instances (learnt); and whether it is throttled now: paused by a Retry-After, or
// slowed down by a 429 and not yet sped up again.

// paceNow is an instance's pace as the run's engine last changed it.
type paceNow struct {
	pace   sync.Pace
	cut    bool   // the last change slowed it down (a 429)
	reason string // cleaned: "HTTP 429 (Retry-After 1s)", "no 429 for 8s"
	at     time.Time
}

func (r *runState) onPace(e sync.PaceChanged, now time.Time) {
	inst := clean(e.Instance)
	p := paceNow{pace: e.To, cut: slower(e.From, e.To), reason: clean(e.Reason), at: e.At}
	r.paces[inst] = p
	if p.cut {
		r.log.add(now, logWarn, fmt.Sprintf("%s instance %s slowed to %s after %s", symThrottled, inst, paceText(e.To), p.reason))
		return
	}
	r.log.add(now, logInfo, fmt.Sprintf("%s instance %s sped up to %s (%s)", symRising, inst, paceText(e.To), p.reason))
}

// slower reports whether a change of pace slows the instance down: fewer requests in flight,
// or a rate limit where there was none or a lower one.
func slower(from, to sync.Pace) bool {
	if to.InFlight < from.InFlight {
		return true
	}
	return to.RequestsPerSecond > 0 && (from.RequestsPerSecond <= 0 || to.RequestsPerSecond < from.RequestsPerSecond)
}

// paceText is a pace in few words: "4.5 req/s, 8 in flight".
func paceText(p sync.Pace) string {
	rate := "no rate limit"
	if p.RequestsPerSecond > 0 {
		rate = fmt.Sprintf("%.3g req/s", p.RequestsPerSecond)
	}
	if p.InFlight <= 0 {
		return rate
	}
	return fmt.Sprintf("%s, %d in flight", rate, p.InFlight)
}

// instanceView is what the console shows of one instance.
type instanceView struct {
	name     string // cleaned
	inst     db.Instance
	live     *paceNow   // this run's pace, nil when the run changed none
	pause    *instPause // a Retry-After pause under way
	inUse    bool       // an active workspace uses it
	learnt   *sync.Pace // kept in bison_instances by the last run
	runsHere bool       // a workspace of the watched run is on it
}

// throttled reports whether the instance is held back now: paused, or slowed by a 429.
func (v instanceView) throttled() bool { return v.pause != nil || (v.live != nil && v.live.cut) }

// paceWords is the instance's pace now: this run's, else the learnt one, else its limits.
func (v instanceView) paceWords() string {
	switch {
	case v.live != nil:
		return paceText(v.live.pace)
	case v.learnt != nil:
		return "learnt " + paceText(*v.learnt)
	}
	return limitsWords(v.inst) + ", no pace learnt yet"
}

// marker says why the instance is throttled, or that it is speeding up again; "" otherwise.
func (v instanceView) marker(now time.Time) string {
	switch {
	case v.pause != nil:
		return fmt.Sprintf("%s throttled: paused %s more after %s", symThrottled,
			human.Duration(v.pause.until.Sub(now).Round(100*time.Millisecond)), v.pause.reason)
	case v.live != nil && v.live.cut:
		return fmt.Sprintf("%s throttled since %s: %s", symThrottled, clock(v.live.at), v.live.reason)
	case v.live != nil:
		return symRising + " speeding up"
	}
	return ""
}

// limitsWords are the instance's ceilings as configured in bison_instances.
func limitsWords(in db.Instance) string {
	var lim []string
	if in.RequestsPerSecond != nil {
		lim = append(lim, fmt.Sprintf("≤%g req/s", *in.RequestsPerSecond))
	}
	if in.MaxConcurrency != nil {
		lim = append(lim, fmt.Sprintf("≤%d in flight", *in.MaxConcurrency))
	}
	if len(lim) == 0 {
		return "no client-side limit"
	}
	return strings.Join(lim, ", ")
}

// learntPace is the pace an instance row keeps, nil when nothing was learnt.
func learntPace(in db.Instance) *sync.Pace {
	if in.LearnedRequestsPerSecond == nil && in.LearnedInFlight == nil {
		return nil
	}
	var p sync.Pace
	if in.LearnedRequestsPerSecond != nil {
		p.RequestsPerSecond = *in.LearnedRequestsPerSecond
	}
	if in.LearnedInFlight != nil {
		p.InFlight = *in.LearnedInFlight
	}
	return &p
}

// instanceViews are the instances worth showing, by name: those in use, those of the watched
// run, and any the run changed the pace of.
func (m *model) instanceViews() []instanceView {
	byName := map[string]*instanceView{}
	get := func(name string) *instanceView {
		v := byName[name]
		if v == nil {
			v = &instanceView{name: name}
			byName[name] = v
		}
		return v
	}
	for _, in := range m.flow.instances {
		v := get(clean(in.Name))
		v.inst, v.inUse, v.learnt = in, in.InUse, learntPace(in)
	}
	if r := m.run; r != nil {
		m.addRunPaces(r, get)
	}
	out := make([]instanceView, 0, len(byName))
	for _, v := range byName {
		if v.inUse || v.runsHere || v.live != nil || v.pause != nil {
			out = append(out, *v)
		}
	}
	slices.SortFunc(out, func(a, b instanceView) int { return strings.Compare(a.name, b.name) })
	return out
}

// addRunPaces adds what the watched run knows: its instances, their paces and pauses (a
// finished run's pauses are over, and its paces are what the instances keep now).
func (m *model) addRunPaces(r *runState, get func(string) *instanceView) {
	if r.finished {
		return
	}
	for inst := range r.insts {
		get(inst).runsHere = true
	}
	if r.foreign != nil {
		// A followed run's rows do not name their instances: the registry does.
		for name, w := range r.ws {
			if inst := m.instanceOf(name, w); inst != "" {
				get(inst).runsHere = true
			}
		}
	}
	for name, p := range r.paces {
		get(name).live = &p
	}
	for name, p := range r.pauses {
		if m.now.Before(p.until) {
			get(name).pause = &p
		}
	}
}

// instanceOf is a run workspace's instance: as the run planned it, else the registry's (a
// followed run's rows do not name it).
func (m *model) instanceOf(name string, w *wsProgress) string {
	if w.instance != "" {
		return w.instance
	}
	if row := m.ws.row(name); row != nil {
		return row.instance
	}
	return ""
}

// instanceView returns the view of one instance (cleaned name), zero when unknown.
func (m *model) instanceView(name string) (instanceView, bool) {
	for _, v := range m.instanceViews() {
		if v.name == name {
			return v, true
		}
	}
	return instanceView{}, false
}

// instancesLine is the run view's strip: every instance's pace and marker on one line.
func (m *model) instancesLine() string {
	views := m.instanceViews()
	if len(views) == 0 {
		return ""
	}
	parts := make([]string, 0, len(views))
	for _, v := range views {
		s := v.name + " " + v.paceWords()
		if mk := v.marker(m.now); mk != "" {
			kind := styleKindRunning
			if v.throttled() {
				kind = styleKindWarn
			}
			s += " " + kind.render(mk)
		}
		parts = append(parts, s)
	}
	return clip(styleBold.Render("instances ")+strings.Join(parts, " · "), m.width)
}

// paceLegend explains the instances strip and its markers, for the help.
func paceLegend(w int) []string {
	return wrap("Pace: the Run view's instances line and the detail pane give each instance's pace, the requests per second "+
		"and in flight the engine sends now (\"learnt\": as the last run kept it in bison_instances), and its limits. "+
		symThrottled+" throttled: the instance asked for a pause (429 with Retry-After) or was slowed down after a 429; "+
		symRising+" speeding up: the pace is being raised again after sustained success. A 429 is back-pressure, not a failure.", w)
}
