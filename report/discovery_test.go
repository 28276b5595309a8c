package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/sync"
)

// What discovery found is logged with the names, at warning level when nothing syncs them.
func TestDiscoveryLog(t *testing.T) {
	var out bytes.Buffer
	l, _ := NewLogger(&out, "json", time.Second)
	l.Observe(sync.WorkspacesDiscovered{InstanceDiscovery: sync.InstanceDiscovery{Instance: "main", Listed: 27,
		Unregistered: []sync.DiscoveredWorkspace{{Name: "Northwind", BisonID: 50}},
		Gone:         []sync.DiscoveredWorkspace{{Name: "Lumen B2B", BisonID: 31}},
		Registered:   []sync.DiscoveredWorkspace{{Name: "Auto", BisonID: 51}}}})
	l.Observe(sync.WorkspacesDiscovered{InstanceDiscovery: sync.InstanceDiscovery{Instance: "two", Problem: "cannot be listed: no super-admin key"}})
	l.Observe(sync.WorkspacesDiscovered{InstanceDiscovery: sync.InstanceDiscovery{Instance: "three", Listed: 4}})
	lines := jsonLines(t, &out)
	want := []struct{ level, msg, has string }{
		{"INFO", "workspaces registered (auto_register)", `"Auto"`},
		{"WARN", "workspaces at the source not in the registry", `"Northwind"`},
		{"WARN", "registered workspaces no longer at the source", `"Lumen B2B"`},
		{"WARN", "instance not listed", "no super-admin key"},
		{"INFO", "workspaces listed", `"listed":4`},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	text := strings.Split(strings.TrimSpace(out.String()), "\n")
	for i, w := range want {
		if lines[i]["level"] != w.level || !strings.HasPrefix(lines[i]["msg"].(string), w.msg) || !strings.Contains(text[i], w.has) {
			t.Errorf("line %d: %s, want %s %q with %s", i, text[i], w.level, w.msg, w.has)
		}
	}
}
