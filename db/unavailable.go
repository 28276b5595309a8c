package db

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsUnavailable reports whether err says the database could not be reached or dropped the
// connection (a restart, pg_terminate_backend, a network fault, a server that will not accept
// connections yet), as opposed to refusing what was asked. Such an error says nothing about
// the data: whatever transaction it interrupted was rolled back, and the same work may be
// tried again once the database is back.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // our own deadline (a lock wait, a cancelled run) is not the database's absence
	}
	var connectErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	var netErr net.Error
	var ce *ConnectError
	switch {
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01-57P03: the server is shutting down,
		// crashed, or not yet accepting connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	case errors.As(err, &connectErr), errors.As(err, &ce):
		return true
	case errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &netErr):
		return true
	}
	return false
}
