package bison_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/bison/sim"
)

// closedPort is an address with nothing listening: connections are refused.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// fetchAll sends n list requests at once and returns their errors and how long all took.
func fetchAll(inst *bison.Instance, n int) ([]error, time.Duration) {
	errs := make([]error, n)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := inst.Session(bison.NewKey("5|unreachable-key-0123456789abcdef"), bison.Workspace{Name: "w", ID: i + 1}, nil)
			_, errs[i] = s.ListPage(context.Background(), 1+i%3)
		}()
	}
	wg.Wait()
	return errs, time.Since(start)
}

// An instance that cannot be reached fails all its requests within seconds, with one error
// naming the instance and its host:port (not the path, query or key), after few attempts.
func TestUnreachableFailsFastOnceByName(t *testing.T) {
	t.Parallel()
	dnsFail := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "send.example.invalid", IsNotFound: true}}
	}
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes fail on purpose
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	cases := []struct {
		name, base, addr, cause string
		dial                    func(context.Context, string, string) (net.Conn, error)
	}{
		{name: "refused", base: "http://" + closedPort(t) + "/api", cause: "connection refused"},
		{name: "no such host", base: "https://send.example.invalid/api", addr: "send.example.invalid:443", cause: "no such host", dial: dnsFail},
		{name: "TLS", base: tlsSrv.URL + "/api", addr: strings.TrimPrefix(tlsSrv.URL, "https://"), cause: "TLS handshake failed: certificate signed by an unknown authority"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var dials atomic.Int64
			d := &net.Dialer{Timeout: time.Second}
			tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				if tc.dial != nil {
					return tc.dial(ctx, network, addr)
				}
				return d.DialContext(ctx, network, addr)
			}}
			c := bison.NewClient(bison.Options{Transport: tr})
			errs, took := fetchAll(c.Instance("main", tc.base, bison.Limits{}), 40)
			addr := tc.addr
			if addr == "" {
				addr = strings.TrimSuffix(strings.TrimPrefix(tc.base, "http://"), "/api")
			}
			want := `instance "main" (` + addr + `) unreachable: ` + tc.cause
			for _, err := range errs {
				var ue *bison.UnreachableError
				if !errors.As(err, &ue) || err.Error() != want {
					t.Fatalf("got %T %q, want %q", err, err, want)
				}
			}
			// The default backoff is 0.5s then 1s: three attempts, then the breaker.
			if took > 4*time.Second || dials.Load() > 60 {
				t.Fatalf("40 requests took %s and %d connection attempts", took, dials.Load())
			}
		})
	}
}

// A base_url with a query is refused as configuration before any of this; but the address in
// an UnreachableError never carries a path or a query either.
func TestUnreachableNamesNoPath(t *testing.T) {
	t.Parallel()
	c := bison.NewClient(bison.Options{BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	errs, _ := fetchAll(c.Instance("main", "http://"+closedPort(t)+"/secret-path/api", bison.Limits{}), 3)
	for _, err := range errs {
		if err == nil || strings.Contains(err.Error(), "secret-path") || strings.Contains(err.Error(), "unreachable-key") {
			t.Fatalf("error %q names the path or the key", err)
		}
	}
}

// flakyTransport refuses connections while down is set, and otherwise uses the default
// transport: an instance that goes away and comes back.
type flakyTransport struct {
	down  atomic.Bool
	tries atomic.Int64
	next  http.RoundTripper
}

func (f *flakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.tries.Add(1)
	if f.down.Load() {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	return f.next.RoundTrip(r)
}

// The breaker is per instance, fails requests already waiting in the limiter, and closes
// again once a probe gets an answer.
func TestUnreachableIsPerInstanceAndRecovers(t *testing.T) {
	t.Parallel()
	fleet := sim.IncidentFleet()
	srv := sim.NewServer(fleet, sim.Options{Latency: 5 * time.Millisecond})
	t.Cleanup(srv.Close)
	ft := &flakyTransport{next: http.DefaultTransport}
	ft.down.Store(true)
	flakyClient := bison.NewClient(bison.Options{Transport: ft, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, ProbeInterval: 200 * time.Millisecond})
	dead := flakyClient.Instance("dead", srv.BaseURL(sim.IncidentInstance), bison.Limits{MaxInFlight: 2})
	live := bison.NewClient(bison.Options{}).Instance("live", srv.BaseURL(sim.IncidentInstance), bison.Limits{})
	w := fleet.Instance(sim.IncidentInstance).Workspaces[0]

	errs, took := fetchAll(dead, 30) // 2 in flight, 28 queued when the breaker opens
	for _, err := range errs {
		var ue *bison.UnreachableError
		if !errors.As(err, &ue) {
			t.Fatalf("a queued request got %T %v", err, err)
		}
	}
	if took > time.Second || ft.tries.Load() > 8 {
		t.Fatalf("30 requests took %s and %d tries", took, ft.tries.Load())
	}
	if st := dead.Stats(); !st.Unreachable || st.Retries[bison.CauseRefused] == 0 {
		t.Fatalf("stats of the dead instance: %+v", st)
	}
	if _, err := live.Session(bison.NewKey(w.Key), bison.Workspace{Name: w.Name, ID: w.ID}, nil).ListPage(context.Background(), 1); err != nil {
		t.Fatalf("another instance on the same host failed too: %v", err)
	}

	ft.down.Store(false)
	s := dead.Session(bison.NewKey(w.Key), bison.Workspace{Name: w.Name, ID: w.ID}, nil)
	if _, err := s.ListPage(context.Background(), 1); err == nil {
		t.Fatal("a request before the probe interval was sent")
	}
	time.Sleep(250 * time.Millisecond)
	if _, err := s.ListPage(context.Background(), 1); err != nil {
		t.Fatalf("the probe after the interval: %v", err)
	}
	if dead.Stats().Unreachable {
		t.Fatal("a probe got an answer but the instance is still unreachable")
	}
}
