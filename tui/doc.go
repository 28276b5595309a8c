// Package tui is the operator console. It reads the registry and history through db, runs the
// engine and renders its events. It holds no business rules.
package tui
