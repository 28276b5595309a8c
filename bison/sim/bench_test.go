package sim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkServePage measures one list page of a large generated workspace: "handler" is the
// server's own cost (what limits requests per second), "loopback" adds a real HTTP round
// trip through net/http on both ends.
//
//	go test -run '^$' -bench ServePage -benchmem ./bison/sim/
func BenchmarkServePage(b *testing.B) {
	f := GenerateFleet(1, 2000, 1_000_000)
	s := NewServer(f, Options{RequestLogLimit: -1})
	defer s.Close()
	var ws *Workspace
	for _, w := range f.Instances[0].Workspaces {
		if w.Key != "" && (ws == nil || w.NumAccounts() > ws.NumAccounts()) {
			ws = w
		}
	}
	inst := f.Instances[0].Name
	pages := (ws.NumAccounts() + PageSize - 1) / PageSize

	b.Run("handler", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			page := 0
			for pb.Next() {
				page = page%pages + 1
				req := httptest.NewRequest(http.MethodGet, pageURL(s, inst, page), nil)
				req.Header.Set("Authorization", "Bearer "+ws.Key)
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	})

	b.Run("loopback", func(b *testing.B) {
		b.ReportAllocs()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		b.RunParallel(func(pb *testing.PB) {
			page := 0
			for pb.Next() {
				page = page%pages + 1
				req, _ := http.NewRequest(http.MethodGet, pageURL(s, inst, page), nil)
				req.Header.Set("Authorization", "Bearer "+ws.Key)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	})
}
