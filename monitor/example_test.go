package monitor_test

import (
	"fmt"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/monitor"
)

// A check that found two workspaces in trouble; Notify would POST this message.
func ExampleCheckMessage() {
	msg, notify := monitor.CheckMessage([]db.Health{
		{Workspace: "Castle Agency", Instance: "bison-main", State: db.HealthFailing,
			Reason: "last attempt 5m ago failed: the API key …YGxN was rejected (HTTP 401); last success 2h ago"},
		{Workspace: "Lumen B2B", Instance: "bison-main", State: db.HealthStale,
			Reason: "last successful sync 2d ago, older than 24h"},
	}, 24*time.Hour)
	fmt.Println(notify)
	fmt.Println(msg.Text)
	// Output:
	// true
	// bisonsync check: 2 workspaces need attention (1 failing, 1 stale; max age 24h)
	// • Castle Agency (failing): last attempt 5m ago failed: the API key …YGxN was rejected (HTTP 401); last success 2h ago
	// • Lumen B2B (stale): last successful sync 2d ago, older than 24h
}
