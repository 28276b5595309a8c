package dbtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestClusterRestarts(t *testing.T) {
	t.Parallel()
	c := NewCluster(t)
	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, c.URL())
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		return conn.Ping(ctx)
	}
	if err := ping(); err != nil {
		t.Fatal(err)
	}
	c.Stop()
	if err := ping(); err == nil {
		t.Fatal("the stopped cluster answered")
	}
	c.Start()
	if err := ping(); err != nil {
		t.Fatalf("after a restart: %v", err)
	}
}
