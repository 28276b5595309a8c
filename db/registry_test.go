package db_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

func TestWorkspacesSelection(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	rps, conc := 4.5, 3
	if err := s.UpsertInstance(ctx, db.Instance{Name: "inst", BaseURL: "https://x/api", APIKey: db.NewSecret("env:SUPER"),
		RequestsPerSecond: &rps, MaxConcurrency: &conc}); err != nil {
		t.Fatal(err)
	}
	for i, w := range []db.Workspace{
		{Name: "fresh", IsActive: true, APIKey: db.NewSecret("12|abc")},
		{Name: "old", IsActive: true},
		{Name: "never", IsActive: true},
		{Name: "paused", IsActive: false},
	} {
		w.Instance, w.BisonID = "inst", i+1
		if err := s.UpsertWorkspace(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		ws string
		id int
		at time.Time
	}{{"fresh", 1, time.Time{}}, {"old", 2, time.Now().Add(-48 * time.Hour)}} {
		if _, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: c.ws, Instance: "inst", WorkspaceID: c.id,
			Accounts: makeAccounts(2, 1, 0), Expected: 2, SyncedAt: c.at}); err != nil {
			t.Fatal(err)
		}
	}
	names := func(sel db.Selection) []string {
		t.Helper()
		ws, err := s.Workspaces(ctx, sel)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, w := range ws {
			out = append(out, w.Name)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		sel  db.Selection
		want []string
	}{
		{"active", db.Selection{}, []string{"fresh", "never", "old"}},
		{"all", db.Selection{IncludeInactive: true}, []string{"fresh", "never", "old", "paused"}},
		{"stale", db.Selection{StaleFor: 24 * time.Hour}, []string{"never", "old"}},
		{"named, inactive included", db.Selection{Names: []string{"paused", "fresh"}}, []string{"fresh", "paused"}},
		{"named and stale", db.Selection{Names: []string{"fresh", "old"}, StaleFor: time.Hour}, []string{"old"}},
	} {
		if got := names(tt.sel); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}

	_, err := s.Workspaces(ctx, db.Selection{Names: []string{"fresh", "ghost", "phantom"}})
	var ue *db.UnknownWorkspacesError
	if !errors.As(err, &ue) || !slices.Equal(ue.Names, []string{"ghost", "phantom"}) {
		t.Errorf("err = %v, want ghost and phantom unknown", err)
	}

	ws, err := s.Workspaces(ctx, db.Selection{Names: []string{"fresh"}})
	if err != nil {
		t.Fatal(err)
	}
	w := ws[0]
	if w.APIKey != db.NewSecret("12|abc") || w.Inst.APIKey != db.NewSecret("env:SUPER") || *w.Inst.RequestsPerSecond != 4.5 ||
		*w.Inst.MaxConcurrency != 3 || w.LastStatus != "succeeded" || *w.EstimatedAccounts != 2 ||
		w.LiveAccounts != 2 || w.BisonID != 1 || w.Inst.BaseURL != "https://x/api" {
		t.Errorf("workspace %+v", w)
	}
}

func TestSecretResolve(t *testing.T) {
	t.Parallel()
	env := map[string]string{"BISON_KEY": "7|secretvalue", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		raw, want, errHas string
	}{
		{raw: "12|literal", want: "12|literal"},
		{raw: "env:BISON_KEY", want: "7|secretvalue"},
		{raw: "env: BISON_KEY ", want: "7|secretvalue"},
		{raw: "env:MISSING", errHas: "MISSING is not set"},
		{raw: "env:EMPTY", errHas: "EMPTY is empty"},
		{raw: "env:", errHas: "empty name"},
		{raw: "", errHas: "no key"},
	}
	for _, tt := range tests {
		got, err := db.NewSecret(tt.raw).Resolve(lookup)
		if tt.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("Resolve(%q) error = %v, want one containing %q", tt.raw, err, tt.errHas)
			}
			if err != nil && strings.Contains(err.Error(), "secretvalue") {
				t.Errorf("error %q leaks a secret", err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
	if _, err := db.NewSecret("").Resolve(lookup); !errors.Is(err, db.ErrNoKey) {
		t.Errorf("empty key: %v, want ErrNoKey", err)
	}
	var me *db.MissingEnvError
	if _, err := db.NewSecret("env:MISSING").Resolve(lookup); !errors.As(err, &me) || me.Var != "MISSING" {
		t.Errorf("missing variable: %v, want *MissingEnvError naming MISSING", err)
	}
}

func TestCheckHealth(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	for i, name := range []string{"healthy", "stale", "failing", "never", "never-failed", "inactive"} {
		seedWorkspace(t, s, "inst", name, i+1)
	}
	exec(t, s, `UPDATE {schema}.client_registry SET is_active = false WHERE workspace_name = 'inactive'`)
	commit := func(ws string, id int, at time.Time) {
		t.Helper()
		if _, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: ws, Instance: "inst", WorkspaceID: id,
			Accounts: makeAccounts(1, 1, 0), Expected: 1, SyncedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	commit("healthy", 1, time.Time{})
	commit("stale", 2, time.Now().Add(-30*time.Hour))
	commit("failing", 3, time.Now().Add(-2*time.Hour))
	for _, ws := range []string{"failing", "never-failed"} {
		if err := s.FinishWorkspace(ctx, db.WorkspaceOutcome{Workspace: ws, Status: db.WorkspaceFailed,
			Error: "401 Unauthorized:\nkey refused"}); err != nil {
			t.Fatal(err)
		}
	}

	got, err := s.CheckHealth(ctx, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]db.Health{}
	for _, h := range got {
		states[h.Workspace] = h
	}
	if len(got) != 4 {
		t.Errorf("got %d workspaces, want 4: %+v", len(got), got)
	}
	for ws, want := range map[string]struct {
		state  db.HealthState
		reason string
	}{
		"stale":        {db.HealthStale, "last successful sync 30h ago, older than 24h"},
		"failing":      {db.HealthFailing, "failed: 401 Unauthorized: key refused; last success 2h ago"},
		"never":        {db.HealthNever, "never synced"},
		"never-failed": {db.HealthNever, "never synced successfully; last attempt"},
	} {
		h, ok := states[ws]
		if !ok {
			t.Errorf("%s not reported", ws)
			continue
		}
		if h.State != want.state || !strings.Contains(h.Reason, want.reason) {
			t.Errorf("%s: %s %q, want %s containing %q", ws, h.State, h.Reason, want.state, want.reason)
		}
	}
	if h := states["stale"]; h.LastSuccessAt == nil || h.Age < 29*time.Hour || h.Age > 31*time.Hour {
		t.Errorf("stale age %v", h.Age)
	}
	if h := states["never"]; h.LastSuccessAt != nil || h.Age != 0 {
		t.Errorf("never: %+v", h)
	}
	if got[0].Workspace != "never" && got[0].Workspace != "never-failed" {
		t.Errorf("never-synced workspaces should come first, got %s", got[0].Workspace)
	}
}

// A Secret travels through errors, logs and JSON as its hint only.
func TestSecretNeverPrints(t *testing.T) {
	const token = "12|s3cr3tT0k3nValue9f2a"
	s := db.NewSecret(token)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("key", "secret", s)
	js, _ := json.Marshal(struct{ K db.Secret }{s})
	text, _ := s.MarshalText()
	holder := struct{ Key db.Secret }{s}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x", s, holder, holder, s, s, s),
		buf.String(), string(js), string(text), s.String()} {
		if strings.Contains(out, "s3cr3t") || strings.Contains(out, "T0k3nValue") {
			t.Errorf("the token leaked: %s", out)
		}
		if !strings.Contains(out, "…9f2a") {
			t.Errorf("no hint in %q", out)
		}
	}
	if got := db.NewSecret("env:BISON_KEY").String(); got != "env:BISON_KEY" {
		t.Errorf("an env reference shows as %q", got)
	}
	if got := db.NewSecret("").String(); got != "(none)" {
		t.Errorf("a null key shows as %q", got)
	}
}
