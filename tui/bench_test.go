package tui

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/human"
	"github.com/bisonsync/bisonsync/sync"
)

// bigRegistry is n workspaces in assorted states, as a large agency's registry might be.
func bigRegistry(n int) []db.Workspace {
	out := make([]db.Workspace, n)
	for i := range out {
		w := db.Workspace{
			Name:     fmt.Sprintf("Workspace %04d %s", i, [...]string{"Leads", "Outreach", "Growth Partners", "Media"}[i%4]),
			Instance: fmt.Sprintf("bison-%d", i/500+1), BisonID: i + 1, IsActive: true,
			LiveAccounts: 15 + (i*37)%900, EstimatedAccounts: ptr(15 + (i*37)%900),
			LastDuration: ptr(time.Duration(200+i%3000) * time.Millisecond),
		}
		switch {
		case i%50 == 7:
			// never synced
			w.LiveAccounts, w.EstimatedAccounts, w.LastDuration = 0, nil, nil
		case i%20 == 3:
			w.LastSuccessAt, w.LastAttemptAt, w.LastStatus = ago(time.Duration(i)*time.Hour), ago(time.Hour), "failed"
			w.LastError = "the API key …ab12 of workspace was rejected (HTTP 401): fix client_registry.bison_api_key for it; nothing was written"
			w.ConsecutiveFailures = 3
		default:
			w.LastSuccessAt, w.LastAttemptAt, w.LastStatus = ago(time.Duration(i%40)*time.Hour), ago(time.Duration(i%40)*time.Hour), "succeeded"
		}
		out[i] = w
	}
	return out
}

func benchModel(b *testing.B, n, w, h int) (*model, *console) {
	b.Helper()
	fb := &fakeBackend{workspaces: bigRegistry(n)}
	c := newConsole(context.Background(), fb)
	b.Cleanup(c.Close)
	m := newModel(c, config{staleAfter: 24 * time.Hour, banner: "bench", where: fb.Where(), clock: func() time.Time { return testNow }})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	list, _ := fb.Workspaces(context.Background())
	m.Update(registryMsg{workspaces: list})
	return m, c
}

// BenchmarkView2000 times View() on a 2,000-workspace registry: the workspaces view (sorted
// by status, so the sort key is not the load order), and the run view of a 2,000-workspace
// run with every workspace active at once (the worst case for the active list).
func BenchmarkView2000(b *testing.B) {
	b.Run("workspaces", func(b *testing.B) {
		m, _ := benchModel(b, 2000, 160, 50)
		m.Update(keyPress("o"))
		m.Update(keyPress("pgdown"))
		b.ReportAllocs()
		for b.Loop() {
			_ = m.View()
		}
	})
	b.Run("run", func(b *testing.B) {
		m, c := benchModel(b, 2000, 160, 50)
		f := c.newFeed()
		m.feed, m.running, m.run, m.view = f, true, newRunState("full sync", testNow), viewRun
		var plan []sync.PlannedWorkspace
		for _, r := range m.ws.rows {
			plan = append(plan, sync.PlannedWorkspace{Name: r.ws.Name, Instance: r.ws.Instance, Estimated: r.ws.LiveAccounts})
		}
		m.run.apply(sync.RunStarted{RunID: 1, At: testNow, Workspaces: plan}, testNow)
		for i, p := range plan {
			m.run.apply(sync.WorkspaceStarted{Workspace: p.Name, Attempt: 1, At: testNow}, testNow)
			m.run.apply(sync.PageFetched{Workspace: p.Name, Pass: 1, Page: 2, LastPage: 9, PagesFetched: 2, Accounts: 30, Total: 130}, testNow)
			if i%3 == 0 {
				m.run.apply(sync.Retrying{Workspace: p.Name, Scope: sync.ScopeRequest, Op: "list page 3", Attempt: 1, Reason: "HTTP 429", Wait: 2 * time.Second}, testNow)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			_ = m.View()
		}
	})
}

// BenchmarkRunFeed10kPagesPerSecond feeds the console a 2,000-workspace run at 10,000 page
// events a second, through the real feed (the engine's observer side) and the model's
// Update and View, as Bubble Tea's loop would: each iteration is one frame. It reports the
// frame time percentiles (Update of the whole batch plus View), the most events pending at
// one take (the backlog: coalesced pages, at most one per workspace, plus the rare events,
// which peak with the run's opening burst of starts), and the rate actually fed. Run it for a
// few hundred frames:
//
//	go test -run '^$' -bench RunFeed -benchtime 300x ./tui/
func BenchmarkRunFeed10kPagesPerSecond(b *testing.B) {
	for _, workers := range []int{32, 2000} {
		b.Run(fmt.Sprintf("active=%d", workers), func(b *testing.B) {
			benchFeed(b, 2000, workers, 10_000)
		})
	}
}

func benchFeed(b *testing.B, n, workers, pagesPerSecond int) {
	m, c := benchModel(b, n, 160, 50)
	f := c.newFeed()
	m.feed, m.running, m.run, m.view = f, true, newRunState("full sync", testNow), viewRun

	names := make([]string, n)
	plan := make([]sync.PlannedWorkspace, n)
	for i, r := range m.ws.rows {
		names[i] = r.ws.Name
		plan[i] = sync.PlannedWorkspace{Name: r.ws.Name, Instance: r.ws.Instance, Estimated: r.ws.LiveAccounts}
	}
	stop := make(chan struct{})
	produced := make(chan int, 1)
	go func() { produced <- produce(f, names, plan, workers, pagesPerSecond, stop) }()

	frames := make([]time.Duration, 0, b.N)
	cmd := f.next()
	start := time.Now()
	for b.Loop() {
		msg := cmd()
		t0 := time.Now()
		_, next := m.Update(msg)
		_ = m.View()
		frames = append(frames, time.Since(t0))
		if next == nil {
			b.Fatal("the listener was not re-armed")
		}
		cmd = next
	}
	elapsed := time.Since(start)
	close(stop)
	pages := <-produced
	f.close()

	slices.Sort(frames)
	pct := func(p float64) float64 {
		return float64(frames[min(int(float64(len(frames)-1)*p+0.5), len(frames)-1)]) / float64(time.Millisecond)
	}
	st := f.Stats()
	b.ReportMetric(pct(0.50), "p50-ms/frame")
	b.ReportMetric(pct(0.99), "p99-ms/frame")
	b.ReportMetric(pct(1), "max-ms/frame")
	b.ReportMetric(float64(st.MaxBacklog), "max-backlog-events")
	b.ReportMetric(float64(st.MaxPages), "max-pending-pages")
	b.ReportMetric(float64(pages)/elapsed.Seconds(), "pages/s-fed")
	b.ReportMetric(float64(len(frames))/elapsed.Seconds(), "frames/s")
	b.ReportMetric(float64(st.Coalesced)/float64(max(st.Observed, 1))*100, "%-coalesced")
}

// produce plays the engine: workers workspaces in progress at once, pagesPerSecond page
// events a second spread over them, starts and finishes as workspaces complete (all 2,000
// over and over). It returns the number of pages emitted.
func produce(f *feed, names []string, plan []sync.PlannedWorkspace, workers, pagesPerSecond int, stop <-chan struct{}) int {
	f.observe(sync.RunStarted{RunID: 1, At: time.Now(), Trigger: "bench", Workspaces: plan})
	type slot struct {
		name            string
		page, last, acc int
	}
	next := 0
	take := func() *slot {
		name := names[next%len(names)]
		next++
		f.observe(sync.WorkspaceStarted{Workspace: name, Attempt: 1, At: time.Now()})
		return &slot{name: name, last: 20 + (next*7)%100}
	}
	slots := make([]*slot, workers)
	for i := range slots {
		slots[i] = take()
	}
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	start := time.Now()
	pages, turn := 0, 0
	for {
		select {
		case <-stop:
			return pages
		case <-t.C:
		}
		// Catch up with the schedule: tickers on a busy machine fire late.
		due := int(time.Since(start).Seconds()*float64(pagesPerSecond)) - pages
		for range due {
			i := turn % len(slots)
			turn++
			s := slots[i]
			s.page++
			s.acc = min(s.acc+15, s.last*15)
			f.observe(sync.PageFetched{Workspace: s.name, Pass: 1, Page: s.page, LastPage: s.last, PagesFetched: s.page, Accounts: s.acc, Total: s.last * 15})
			pages++
			if s.page%17 == 0 {
				f.observe(sync.Retrying{Workspace: s.name, Scope: sync.ScopeRequest, Op: fmt.Sprintf("list page %d", s.page+1), Attempt: 1, Reason: "HTTP 503", Wait: 100 * time.Millisecond})
			}
			if s.page >= s.last {
				f.observe(sync.WorkspaceFinished{Result: sync.WorkspaceResult{Name: s.name, Status: db.WorkspaceSucceeded, Attempts: 1,
					PagesFetched: s.page, PagesTotal: s.last, AccountsExpected: s.acc, AccountsFetched: s.acc, AccountsUpserted: s.acc,
					Duration: time.Second}})
				slots[i] = take()
			}
		}
	}
}

// BenchmarkBubblesTable2000 is the same 2,000-workspace table drawn by the bubbles table
// component, as a frame during a run must: every row's cells rebuilt (statuses and pages
// change between frames), then View. It is here to compare with BenchmarkView2000: the
// workspaces view keeps its own table because this costs several times more a frame (figures
// in README.md).
func BenchmarkBubblesTable2000(b *testing.B) {
	m, _ := benchModel(b, 2000, 160, 50)
	cols := wsLayout(160)
	tcols := []table.Column{{Title: "WORKSPACE", Width: cols.name}, {Title: "INSTANCE", Width: cols.instance},
		{Title: "LIVE/API", Width: cols.accounts}, {Title: "LAST OK", Width: cols.age}, {Title: "TOOK", Width: cols.took},
		{Title: "STATUS", Width: cols.status}, {Title: "LAST ERROR", Width: cols.err}}
	t := table.New(table.WithColumns(tcols), table.WithHeight(40), table.WithWidth(160), table.WithFocused(true))
	rows := make([]table.Row, len(m.ws.rows))
	b.ReportAllocs()
	for b.Loop() {
		for i := range m.ws.rows {
			r := &m.ws.rows[i]
			status, kind := statusCell(r, liveNone, nil)
			api, known := m.apiTotal(r)
			rows[i] = table.Row{r.name, r.instance, accountsCell(r.ws.LiveAccounts, api, known), human.Since(r.ws.LastSuccessAt, m.now),
				tookCell(r.ws), kind.render(status), r.errText}
		}
		t.SetRows(rows)
		t.SetCursor(1000)
		_ = t.View()
	}
}
