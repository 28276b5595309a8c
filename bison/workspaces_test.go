package bison_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/bison/sim"
)

func TestListWorkspaces(t *testing.T) {
	t.Parallel()
	f := newFixture(t, bison.Options{}, bison.Limits{})
	in := f.fleet.Instance(sim.IncidentInstance)
	list, err := f.inst.ListWorkspaces(context.Background(), bison.NewKey(in.SuperAdminKey))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != sim.IncidentWorkspaces || list[6].Name != sim.IncidentLargest || list[6].ID != 11 || list[6].CreatedAt.IsZero() {
		t.Fatalf("%d workspaces, the 7th %+v", len(list), list[6])
	}
	// A workspace key may not list: a plain AuthError, no retry.
	_, err = f.inst.ListWorkspaces(context.Background(), bison.NewKey(in.Workspaces[0].Key))
	var auth *bison.AuthError
	if !errors.As(err, &auth) || auth.Status != 403 || !strings.Contains(err.Error(), "list workspaces") {
		t.Fatalf("workspace key: %v", err)
	}
	// Transient failures are retried like a page's.
	f.srv.AddFault(sim.Fault{Kind: sim.FaultStatus, Status: 503, Path: sim.KindWorkspaces, Times: 2})
	if list, err = f.inst.ListWorkspaces(context.Background(), bison.NewKey(in.SuperAdminKey)); err != nil || len(list) != sim.IncidentWorkspaces {
		t.Fatalf("after two 503s: %v, %d", err, len(list))
	}
	f.srv.AddFault(sim.Fault{Kind: sim.FaultTruncated, Path: sim.KindWorkspaces, Times: 1})
	var malformed *bison.MalformedError
	if _, err = f.inst.ListWorkspaces(context.Background(), bison.NewKey(in.SuperAdminKey)); !errors.As(err, &malformed) {
		t.Fatalf("truncated listing: %v", err)
	}
}

// A minted key comes back as a Key that prints its hint only, and works at once.
func TestMintKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, bison.Options{}, bison.Limits{})
	in := f.fleet.Instance(sim.IncidentInstance)
	admin := bison.NewKey(in.SuperAdminKey)
	jason := in.WorkspaceNamed(sim.IncidentLargest)
	m, err := f.inst.MintKey(context.Background(), admin, jason.ID, "bisonsync test")
	if err != nil {
		t.Fatal(err)
	}
	token := f.srv.MintedKeys()[0]
	if m.Key.Token() != token || m.ID == 0 || m.Name != "bisonsync test" {
		t.Fatalf("minted %d %q", m.ID, m.Name)
	}
	printed := fmt.Sprintf("%v %+v %#v %s %q", m, m, m, m.Key, m.Key)
	if strings.Contains(printed, token[:len(token)-4]) || strings.Contains(printed, token[strings.IndexByte(token, '|')+1:][:8]) {
		t.Fatalf("a printed MintedKey shows the token: %s", printed)
	}
	p, err := f.inst.Session(m.Key, bison.Workspace{Name: jason.Name, ID: jason.ID}, nil).ListPage(context.Background(), 1)
	if err != nil || p.Total != jason.NumAccounts() {
		t.Fatalf("the minted key: %v, %d accounts", err, p.Total)
	}
}

// A mint that fails transiently is not tried again (the token may exist); a 429 is.
func TestMintKeyIsNotRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t, bison.Options{}, bison.Limits{})
	in := f.fleet.Instance(sim.IncidentInstance)
	admin := bison.NewKey(in.SuperAdminKey)
	f.srv.AddFault(sim.Fault{Kind: sim.FaultStatus, Status: 502, Path: sim.KindMint, Times: 1})
	_, err := f.inst.MintKey(context.Background(), admin, 11, "x")
	var tr *bison.TransientError
	if !errors.As(err, &tr) || !strings.Contains(err.Error(), "not retried") {
		t.Fatalf("502: %v", err)
	}
	if n := countKind(f.srv, sim.KindMint); n != 1 {
		t.Fatalf("%d mint requests after a 502, want 1", n)
	}
	f.srv.AddFault(sim.Fault{Kind: sim.Fault429, RetryAfter: time.Millisecond, Path: sim.KindMint, Times: 1})
	if _, err := f.inst.MintKey(context.Background(), admin, 11, "x"); err != nil {
		t.Fatalf("after a 429: %v", err)
	}
	f.srv.AddFault(sim.Fault{Kind: sim.FaultTruncated, Path: sim.KindMint, Times: 1})
	var malformed *bison.MalformedError
	if _, err := f.inst.MintKey(context.Background(), admin, 11, "x"); !errors.As(err, &malformed) || malformed.Excerpt != "" {
		t.Fatalf("truncated answer: %v", err)
	}
	var nf *bison.NotFoundError
	if _, err := f.inst.MintKey(context.Background(), admin, 999, "x"); !errors.As(err, &nf) {
		t.Fatalf("no such workspace: %v", err)
	}
}

func countKind(srv *sim.Server, k sim.Kind) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Kind == k {
			n++
		}
	}
	return n
}
