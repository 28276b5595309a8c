package tui

import (
	"context"
	"errors"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// Options configure the console.
type Options struct {
	// Store is read for the registry and the run history.
	Store *db.Store
	// Engine runs the syncs the operator launches (recorded with the engine's trigger).
	Engine *sync.Engine
	// StaleAfter is the age past which a workspace counts as stale. Default 24h.
	StaleAfter time.Duration
	// Banner is a one-line explanation shown on the first screen (the demo's).
	Banner string
}

// Run opens the console on the terminal and returns when the operator quits or ctx ends.
func Run(ctx context.Context, opts Options) error {
	return errors.New("the console is not built yet: use --headless")
}
