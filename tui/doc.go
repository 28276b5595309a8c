// Package tui is the operator console. It reads the registry and history through db, runs the
// engine and renders its events. It holds no business rules.
//
// One root model (model.go) owns three views, each a plain struct rendered into the size it is
// given: the workspaces (workspaces.go, drawn by view_ws.go with the detail pane of detail.go),
// the run being watched (runstate.go, view_run.go; timeline.go draws its lanes), and the
// history (history.go, view_history.go). The run watched is the console's own, built from the
// engine's events, or another process's, followed from the database (follow.go). Every
// question goes through one dialog (confirm.go). Each instance's pace (instances.go) comes
// from the run's PaceChanged events and the instances' learnt pace, what the run waits for
// (waits.go) from its Waiting events, and the requests of other programs (requests.go) from
// sync_requests, read with the instances beside the registry. Update does no I/O: database reads and engine
// runs are commands of the console (console.go) whose results come back as messages. View changes nothing: every message ends
// with settle (model.go), which brings cursors and scroll offsets in line with the new state,
// and View draws what it left (TestViewChangesNothing holds it to that).
//
// A run's events reach the model through a feed (feed.go): the engine's observer keeps only
// the latest page per workspace and queues every other event (start, finish, retry, notice,
// run finished) on a channel it blocks on, so none is lost; a listener command hands the model
// one batch per frame (at most ~30 a second) and is re-armed after each. Rendering draws only
// the visible rows, so a 2,000-workspace fleet streaming pages stays smooth (see
// BenchmarkView2000 and BenchmarkRunFeed10kPagesPerSecond, figures in README.md).
//
// Untrusted text (names, errors, anything from the API or the database) goes through
// internal/safetext before it is drawn. Status is a symbol and a word, never colour alone;
// colours are the terminal's 16 ANSI ones, dropped under NO_COLOR. The mouse is left alone.
package tui
