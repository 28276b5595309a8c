package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/demo"
	"github.com/bisonsync/bisonsync/internal/fleettest"
)

// bench is the measured setup: the binary, the simulator serving the fleet, and the schema
// the fleet is registered in.
type bench struct {
	bin, tmp string
	srv      *sim.Server
	fleet    *sim.Fleet
	store    *db.Store
}

// newBench generates and serves the fleet of BenchmarkFleetScale and registers it in a fresh
// schema.
func newBench(ctx context.Context, accounts int, bin, tmp string) (*bench, error) {
	start := time.Now()
	fleet := fleettest.ScaleFleet(accounts)
	srv := sim.NewServer(fleet, sim.Options{RequestLogLimit: -1})
	if err := fleettest.Grow(srv, fleet, accounts/50); err != nil {
		srv.Close()
		return nil, err
	}
	store, err := openSchema(ctx)
	if err != nil {
		srv.Close()
		return nil, err
	}
	b := &bench{bin: bin, tmp: tmp, srv: srv, fleet: fleet, store: store}
	if err := demo.Register(ctx, store, srv, fleet); err != nil {
		b.close(false)
		return nil, err
	}
	logf("fleet of %d accounts in %d workspaces served at %s, registered in schema %s (%.1fs)",
		fleettest.NumAccounts(srv, fleet), len(fleettest.Workspaces(fleet)), srv.BaseURL(fleet.Instances[0].Name), store.Schema(),
		time.Since(start).Seconds())
	return b, nil
}

// openSchema opens a store on a fresh schema of the database DATABASE_URL names and
// migrates it, as the tests' dbtest.NewStore does.
func openSchema(ctx context.Context) (*db.Store, error) {
	var random [6]byte
	_, _ = rand.Read(random[:])
	schema := "fleetbench_" + hex.EncodeToString(random[:])
	store, err := db.Open(ctx, db.Config{URL: os.Getenv("DATABASE_URL"), Schema: schema, MaxConns: 8})
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		dropSchema(store)
		store.Close()
		return nil, fmt.Errorf("migrate schema %s: %w", schema, err)
	}
	return store, nil
}

// close stops the simulator and drops the schema, unless keep.
func (b *bench) close(keep bool) {
	b.srv.Close()
	if keep {
		logf("kept schema %s", b.store.Schema())
	} else {
		dropSchema(b.store)
	}
	b.store.Close()
}

// dropSchema drops the store's schema and everything in it.
func dropSchema(store *db.Store) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := store.Pool().Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{store.Schema()}.Sanitize()+" CASCADE")
	if err != nil {
		logf("drop schema %s: %v", store.Schema(), err)
	}
}
