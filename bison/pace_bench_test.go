package bison_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/bison/sim"
)

// paceFleet is a small fleet of about pages pages in all: up to 26 workspaces with their own
// keys (so they run in parallel, as the engine runs them), none over 29 pages.
func paceFleet(pages int) *sim.Fleet {
	n := min(26, max(3, pages/3))
	sizes := make([]int, n)
	for i := range sizes {
		sizes[i] = 1
	}
	for left, i := pages-n, 0; left > 0; i = (i + 1) % n {
		if sizes[i] < 29 {
			sizes[i]++
			left--
		}
	}
	in := &sim.Instance{Name: "pace"}
	for i, p := range sizes {
		in.Workspaces = append(in.Workspaces, &sim.Workspace{
			ID: i + 1, Name: fmt.Sprintf("ws-%02d", i+1), Key: fmt.Sprintf("%d|pace-bench-key-%02d-abcdefghijklmnopqrstuvwxyz", i+1, i+1),
			Seed: int64(i), Count: p * bison.PageSize,
		})
	}
	return &sim.Fleet{Instances: []*sim.Instance{in}}
}

// syncFleet fetches every workspace as the engine does, all at once: page 1 tells
// last_page, then the other pages go concurrently. It returns the first error.
func syncFleet(inst *bison.Instance, fleet *sim.Fleet) error {
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	for _, w := range fleet.Instances[0].Workspaces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := inst.Session(bison.NewKey(w.Key), bison.Workspace{Name: w.Name, ID: w.ID}, nil)
			p, err := s.ListPage(context.Background(), 1)
			if err != nil {
				fail(err)
				return
			}
			var pages sync.WaitGroup
			for n := 2; n <= p.LastPage; n++ {
				pages.Go(func() {
					if _, err := s.ListPage(context.Background(), n); err != nil {
						fail(err)
					}
				})
			}
			pages.Wait()
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// paceRun is one sync of the fleet under the throttle, as the server's log tells it.
type paceRun struct {
	took      time.Duration
	tooMany   int
	early     int // requests sent before a Retry-After had passed
	pace      bison.Pace
	requests  int
	bound     time.Duration
	paceTold  int
	firstPace bison.Pace
}

func runPace(b *testing.B, srv *sim.Server, fleet *sim.Fleet, limits bison.Limits, rl sim.RateLimit) paceRun {
	b.Helper()
	srv.SetThrottle("pace", rl) // a full bucket, as a server left alone for a while has
	srv.ResetRequests()
	inst := bison.NewClient(bison.Options{}).Instance("pace", srv.BaseURL("pace"), limits)
	var r paceRun
	inst.Limiter().OnPaceChange(func(c bison.PaceChange) {
		r.paceTold++
		if testing.Verbose() {
			b.Logf("    %s: %v -> %v (%s)", c.At.Format("05.000"), c.From, c.To, c.Reason)
		}
	})
	start := time.Now()
	if err := syncFleet(inst, fleet); err != nil {
		b.Fatalf("a request failed although the server serves every one at its pace: %v", err)
	}
	r.took = time.Since(start)
	r.pace = inst.Limiter().Pace()
	reqs := srv.Requests()
	r.requests = len(reqs)
	r.early = earlyRequests(reqs)
	for _, q := range reqs {
		if q.Status == http.StatusTooManyRequests {
			r.tooMany++
		}
	}
	pages := fleet.NumAccounts() / bison.PageSize
	r.bound = time.Duration(float64(pages) / rl.RequestsPerSecond * float64(time.Second))
	return r
}

// earlyRequests counts requests that started after a 429 was answered (and more than a
// moment after: requests already on the wire cannot be called back) but before its
// Retry-After had passed.
func earlyRequests(reqs []sim.Request) int {
	const onTheWire = 100 * time.Millisecond // see checkNothingSentDuringRetryAfter
	early := 0
	for _, r429 := range reqs {
		if r429.RetryAfter == 0 {
			continue
		}
		for _, r := range reqs {
			if gap := r.Start.Sub(r429.End); gap > onTheWire && gap < r429.RetryAfter {
				early++
			}
		}
	}
	return early
}

// BenchmarkPace drives a fleet of sessions through the client against the simulator's
// throttle at several rates, with and without Retry-After, twice: a first run that learns
// the pace, and a second that starts at it (Limits.StartPace). It reports the wall time
// against the bound pages/rate (goal: at most 1.3x), the 429s met (goal: the second run at
// most a tenth of the first), and fails if any request was sent before a Retry-After passed.
//
//	go test -run '^$' -bench Pace -benchtime 1x ./bison/
func BenchmarkPace(b *testing.B) {
	seconds := 6.0 // the length of a run at the bound
	if testing.Short() {
		seconds = 2 // CI's short form: it still works, its figures are not the README's
	}
	// A burst of a second's worth, as a per-second throttle has; and none at all at the
	// lowest rate, the harshest server.
	for _, tc := range []struct {
		rate  float64
		burst int
	}{{2.5, 2}, {2.5, 1}, {10, 10}, {40, 40}} {
		for _, withRA := range []bool{true, false} {
			b.Run(fmt.Sprintf("rate=%v/burst=%d/retry-after=%v", tc.rate, tc.burst, withRA), func(b *testing.B) {
				pages := int(math.Round(tc.rate * seconds))
				fleet := paceFleet(pages)
				srv := sim.NewServer(fleet, sim.Options{Latency: 50 * time.Millisecond, Jitter: 20 * time.Millisecond})
				defer srv.Close()
				rl := sim.RateLimit{RequestsPerSecond: tc.rate, Burst: tc.burst, RetryAfter: withRA}
				for b.Loop() {
					first := runPace(b, srv, fleet, bison.Limits{}, rl)
					second := runPace(b, srv, fleet, bison.Limits{StartPace: first.pace}, rl)
					reportPace(b, pages, len(fleet.Instances[0].Workspaces), first, second)
				}
			})
		}
	}
}

func reportPace(b *testing.B, pages, workspaces int, first, second paceRun) {
	b.Helper()
	ratio := func(r paceRun) float64 { return r.took.Seconds() / r.bound.Seconds() }
	b.Logf("%d workspaces, %d pages, bound %s", workspaces, pages, first.bound.Round(10*time.Millisecond))
	for i, r := range []paceRun{first, second} {
		b.Logf("  run %d: %s = %.2fx the bound, %d requests, %d 429s, %d pace changes told, pace reached %v",
			i+1, r.took.Round(10*time.Millisecond), ratio(r), r.requests, r.tooMany, r.paceTold, r.pace)
	}
	b.ReportMetric(ratio(first), "x-bound-1st")
	b.ReportMetric(ratio(second), "x-bound-2nd")
	b.ReportMetric(float64(first.tooMany), "429s-1st")
	b.ReportMetric(float64(second.tooMany), "429s-2nd")
	if first.early+second.early > 0 {
		b.Fatalf("%d requests were sent before a Retry-After had passed", first.early+second.early)
	}
}
