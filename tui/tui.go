package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

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
	// PollInterval is how often, with no run of its own under way, the console reads the
	// runs in the database to follow those of other processes (cron, other hosts). Default
	// 1s.
	PollInterval time.Duration
}

// Run opens the console on the terminal and returns when the operator quits or ctx ends.
//
// Cancelling ctx (main does on SIGINT and SIGTERM) closes the console at once and cancels a
// run in progress exactly as headless mode does; Run returns nil once the engine has
// recorded it, and the caller decides the exit code from ctx. The terminal is restored on
// every way out, a panic included (Bubble Tea catches it in the model and in commands,
// restores the terminal, and Run reports it as an error).
func Run(ctx context.Context, opts Options) error {
	if opts.Store == nil || opts.Engine == nil {
		return errors.New("tui: Options.Store and Options.Engine are required")
	}
	b := storeBackend{store: opts.Store, engine: opts.Engine}
	return run(ctx, b, config{staleAfter: opts.StaleAfter, banner: opts.Banner, where: b.Where(), schema: b.Schema(), timers: true,
		pollEvery: opts.PollInterval})
}

// run is Run on any backend, with extra program options for tests (input, output, size).
func run(ctx context.Context, b backend, cfg config, extra ...tea.ProgramOption) (err error) {
	c := newConsole(ctx, b)
	// Whatever happens, a run in progress is cancelled and recorded before Run returns,
	// so that the caller may close the store.
	defer c.Close()
	opts := []tea.ProgramOption{
		tea.WithContext(ctx),
		// main owns SIGINT and SIGTERM: they cancel ctx, which ends the program (restoring
		// the terminal) and cancels the run. In raw mode ctrl+c arrives as a key instead.
		tea.WithoutSignalHandler(),
	}
	if noColor() {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	opts = append(opts, extra...)
	p := tea.NewProgram(newModel(c, cfg), opts...)
	defer func() {
		// Bubble Tea recovers panics in Update, View and commands itself; this is for a
		// panic in Run's own code path, after which the terminal must still be restored.
		if r := recover(); r != nil {
			p.Kill()
			err = fmt.Errorf("the console failed: %v", r)
		}
	}()
	_, err = p.Run()
	c.Close()
	switch {
	case ctx.Err() != nil:
		return nil // interrupted: the caller reports it (exit code 130)
	case errors.Is(err, tea.ErrProgramPanic):
		return errors.New("the console crashed (the trace is above); the terminal was restored and any run was recorded as cancelled")
	case err != nil:
		return fmt.Errorf("the console: %w", err)
	}
	return nil
}

// noColor follows https://no-color.org: any non-empty NO_COLOR turns colours off (text
// decorations stay, and every status keeps its symbol and word).
func noColor() bool { return os.Getenv("NO_COLOR") != "" }
