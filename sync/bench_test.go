package sync_test

import (
	"context"
	"fmt"
	"os"
	stdsync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/internal/fleettest"
	"github.com/bisonsync/bisonsync/sync"
)

// Speed goals of the engine, as benchmarks that print figures (README "Performance"):
//
//	go test -run '^$' -bench 'IncidentFleet|OriginalAlgorithm' -benchtime 1x ./sync/
//	go test -run '^$' -bench 'FleetScale/accounts=100000$' -benchtime 1x ./sync/
//	go test -run '^$' -bench 'FleetScale/accounts=1000000$' -benchtime 1x -timeout 30m ./sync/
//
// Run the two FleetScale sizes as separate commands: peak RSS is per process.

// totalPages is what a complete fetch of the fleet costs in list requests.
func totalPages(f *sim.Fleet) int {
	n := 0
	for _, in := range f.Instances {
		for _, w := range in.Workspaces {
			n += max(1, (w.NumAccounts()+bison.PageSize-1)/bison.PageSize)
		}
	}
	return n
}

// chainBound is the floor that one-workspace-at-a-time on a super-admin key puts under any
// schedule, as issue 16 states it: two round trips a workspace (the switch, then its pages).
func chainBound(f *sim.Fleet, latency time.Duration) time.Duration {
	n := 0
	for _, in := range f.Instances {
		for _, w := range in.Workspaces {
			if w.Key == "" {
				n++
			}
		}
	}
	return time.Duration(2*n) * latency
}

// benchLatency is the API's observed latency, or a tenth of it under -short, where the
// benchmarks run only to show they still work (CI), not for their figures.
func benchLatency() time.Duration {
	if testing.Short() {
		return sim.ProductionLatency / 10
	}
	return sim.ProductionLatency
}

// BenchmarkIncidentFleet syncs the incident fleet at production latency (187 ms a page) with
// 4, 16, 32 and 64 requests in flight, next to the lower bound: the larger of pages × latency
// / in flight and, while six workspaces share the super-admin key, their chain at two round
// trips a workspace.
// sync=first is a first sync (sizes unknown: page 1 must come back before the rest is asked
// for); sync=steady is every later one (the last size is known, all pages are asked for at
// once). keys=own-keys gives every workspace its own key, to show the engine without the
// six workspaces that share a super-admin key and must go one at a time; keys=minted is the
// incident fleet after `bisonsync keys mint` (the keys minted at the simulator, untimed).
func BenchmarkIncidentFleet(b *testing.B) {
	for _, keys := range []string{"incident", "own-keys", "minted"} {
		for _, state := range []string{"first", "steady"} {
			for _, inFlight := range []int{4, 16, 32, 64} {
				b.Run(fmt.Sprintf("keys=%s/sync=%s/inflight=%d", keys, state, inFlight), func(b *testing.B) {
					benchIncident(b, keys, state == "first", inFlight)
				})
			}
		}
	}
}

func benchIncident(b *testing.B, keys string, first bool, inFlight int) {
	fleet := sim.IncidentFleet()
	if keys == "own-keys" {
		for i, w := range fleet.Instances[0].Workspaces {
			if w.Key == "" {
				w.Key = fmt.Sprintf("%d|own-key-for-the-benchmark-%032d", 900+i, i)
			}
		}
	}
	latency := benchLatency()
	f := fleettest.New(b, fleet, sim.Options{Latency: latency, RequestLogLimit: -1})
	cfg := sync.Config{Trigger: "bench", DefaultMaxInFlight: inFlight}
	if keys == "minted" {
		mintAll(b, f, cfg, latency)
	}
	if !first {
		f.Srv.SetLatency(sim.IncidentInstance, 0, 0)
		if s, err := sync.New(f.Store, cfg).Run(context.Background(), sync.Request{}); err != nil || !s.OK() {
			b.Fatalf("warm-up: %v %s", err, s.Status)
		}
		f.Srv.SetLatency(sim.IncidentInstance, latency, 0)
	}
	var wall time.Duration
	for b.Loop() {
		start := time.Now()
		s, err := sync.New(f.Store, cfg).Run(context.Background(), sync.Request{})
		wall = time.Since(start)
		if err != nil || !s.OK() {
			b.Fatalf("run: %v %s", err, s.Status)
		}
	}
	pages := time.Duration(totalPages(fleet)) * latency / time.Duration(inFlight)
	var chain time.Duration // minting gives the chain's workspaces keys of their own
	if keys == "incident" {
		chain = chainBound(fleet, latency)
	}
	bound := max(pages, chain)
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(bound.Seconds(), "bound-s")
	b.ReportMetric(wall.Seconds()/bound.Seconds(), "x-bound")
	b.ReportMetric(pages.Seconds(), "pages-bound-s")
	if chain > 0 {
		b.ReportMetric(chain.Seconds(), "chain-bound-s")
	}
}

// mintAll gives every workspace on the super-admin key a key of its own, as keys mint does,
// without latency (minting is not what is measured).
func mintAll(b testing.TB, f *fleettest.Fixture, cfg sync.Config, latency time.Duration) {
	f.Srv.SetLatency(sim.IncidentInstance, 0, 0)
	defer f.Srv.SetLatency(sim.IncidentInstance, latency, 0)
	res, err := sync.New(f.Store, cfg).MintKeys(context.Background(), sync.MintRequest{})
	if err != nil || len(res) != 6 {
		b.Fatalf("mint: %v, %d results", err, len(res))
	}
	for _, r := range res {
		if r.Outcome != sync.KeyMinted {
			b.Fatalf("mint %s: %s %s", r.Workspace, r.Outcome, r.Detail)
		}
	}
}

// BenchmarkOriginalAlgorithm is the job this project replaces, against the same simulator:
// workspaces in batches of three, each batch waiting for its slowest, pages fetched one
// after another. Only the fetching is timed (its database writes were the small part).
func BenchmarkOriginalAlgorithm(b *testing.B) {
	fleet := sim.IncidentFleet()
	srv := sim.NewServer(fleet, sim.Options{Latency: benchLatency(), RequestLogLimit: -1})
	defer srv.Close()
	inst := fleet.Instances[0]
	client := bison.NewClient(bison.Options{})
	handle := client.Instance(inst.Name, srv.BaseURL(inst.Name), bison.Limits{MaxInFlight: 64})
	var wall time.Duration
	for b.Loop() {
		start := time.Now()
		ws := inst.Workspaces
		for i := 0; i < len(ws); i += 3 {
			var wg stdsync.WaitGroup
			for _, w := range ws[i:min(i+3, len(ws))] {
				wg.Add(1)
				go func() {
					defer wg.Done()
					key := w.Key
					if key == "" {
						key = inst.SuperAdminKey
					}
					s := handle.Session(bison.NewKey(key), bison.Workspace{Name: w.Name, ID: w.ID}, nil)
					if w.Key == "" {
						_ = s.SwitchWorkspace(context.Background())
					}
					for n := 1; ; n++ {
						p, err := s.ListPage(context.Background(), n)
						if err != nil || p.Next == "" {
							return
						}
					}
				}()
			}
			wg.Wait()
		}
		wall = time.Since(start)
	}
	b.ReportMetric(wall.Seconds(), "wall-s")
}

func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 0
	}
	return float64(ru.Maxrss) / 1024 // Linux reports kilobytes
}

// BenchmarkRunFixedCosts measures what a run costs besides its workspaces, on the incident
// fleet at zero latency with nothing changed at the source: from the call to RunStarted
// (start: the abandoned-run check, the instances' listing, opening the run), and from the
// last workspace's end to the call's return (close: the shared-accounts check, which skips
// workspaces whose rows did not change, the pace kept, the run's totals). Per run, in ms.
//
//	go test -run '^$' -bench RunFixedCosts -benchtime 20x ./sync/
func BenchmarkRunFixedCosts(b *testing.B) {
	f := fleettest.New(b, sim.IncidentFleet(), sim.Options{RequestLogLimit: -1})
	engine := sync.New(f.Store, sync.Config{Trigger: "bench"})
	if s, err := engine.Run(context.Background(), sync.Request{}); err != nil || !s.OK() {
		b.Fatalf("first run: %v %s", err, s.Status)
	}
	var start, closing, total time.Duration
	for b.Loop() {
		var opened, lastDone time.Time
		var mu stdsync.Mutex
		begin := time.Now()
		s, err := engine.Run(context.Background(), sync.Request{Observer: func(e sync.Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e.(type) {
			case sync.RunStarted:
				opened = time.Now()
			case sync.WorkspaceFinished:
				lastDone = time.Now()
			}
		}})
		end := time.Now()
		if err != nil || !s.OK() {
			b.Fatalf("run: %v %s", err, s.Status)
		}
		start += opened.Sub(begin)
		closing += end.Sub(lastDone)
		total += end.Sub(begin)
	}
	n := float64(b.N)
	b.ReportMetric(float64(start.Microseconds())/1000/n, "start-ms")
	b.ReportMetric(float64(closing.Microseconds())/1000/n, "close-ms")
	b.ReportMetric(float64(total.Microseconds())/1000/n, "run-ms")
}
