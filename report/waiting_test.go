package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/sync"
)

// The engine's waits are logged with what is waited for as a field: a key held elsewhere and
// a Retry-After pause at info level, an unreachable database as a warning, with the time
// left in milliseconds in JSON.
func TestWaitsAreLogged(t *testing.T) {
	var out bytes.Buffer
	l, _ := NewLogger(&out, "json", time.Second)
	l.Observe(sync.Waiting{Workspace: "Delta", Instance: "main", For: sync.WaitKeyBusy, Detail: "in use by run 4 on host-b"})
	l.Observe(sync.Waiting{Workspace: "Echo", Instance: "main", For: sync.WaitInstancePaused, Detail: "HTTP 429",
		Until: time.Now().Add(2 * time.Second)})
	l.Observe(sync.Waiting{For: sync.WaitDatabase, Detail: "db:5432: connection refused", Until: time.Now().Add(time.Minute)})
	lines := jsonLines(t, &out)
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	key, pause, dbWait := lines[0], lines[1], lines[2]
	if key["level"] != "INFO" || key["for"] != "key busy" || key["workspace"] != "Delta" || key["instance"] != "main" ||
		!strings.HasPrefix(key["msg"].(string), "waiting for the super-admin key: in use by run 4") {
		t.Errorf("key wait: %v", key)
	}
	if _, ok := key["left_ms"]; ok {
		t.Errorf("a key wait has no known end: %v", key)
	}
	if left, _ := pause["left_ms"].(float64); pause["for"] != "instance paused" || left < 1500 || left > 2000 {
		t.Errorf("pause: %v", pause)
	}
	if dbWait["level"] != "WARN" || dbWait["for"] != "database" || dbWait["detail"] != "db:5432: connection refused" {
		t.Errorf("database wait: %v", dbWait)
	}
}

// Pace changes are logged once each: a cut as a warning with the new figures as fields, a
// step back up at info level.
func TestPaceChangesAreLogged(t *testing.T) {
	var out bytes.Buffer
	l, _ := NewLogger(&out, "json", time.Second)
	l.Observe(sync.PaceChanged{Instance: "main", From: sync.Pace{InFlight: 32}, To: sync.Pace{RequestsPerSecond: 4.5, InFlight: 8},
		Reason: "HTTP 429 (Retry-After 1s)", At: time.Now()})
	l.Observe(sync.PaceChanged{Instance: "main", From: sync.Pace{RequestsPerSecond: 4.5, InFlight: 8}, To: sync.Pace{RequestsPerSecond: 5, InFlight: 9},
		Reason: "no 429 for 8s", At: time.Now()})
	lines := jsonLines(t, &out)
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	cut, up := lines[0], lines[1]
	if cut["level"] != "WARN" || !strings.HasPrefix(cut["msg"].(string), "pace of instance main cut: ") || cut["requests_per_second"] != 4.5 || cut["in_flight"] != 8.0 ||
		cut["instance"] != "main" || cut["reason"] != "HTTP 429 (Retry-After 1s)" {
		t.Errorf("cut: %v", cut)
	}
	if up["level"] != "INFO" || !strings.HasPrefix(up["msg"].(string), "pace of instance main raised: ") || up["in_flight"] != 9.0 {
		t.Errorf("raise: %v", up)
	}
}
