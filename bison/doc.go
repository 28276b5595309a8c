// Package bison is the Email Bison API client: one page of sender accounts, one workspace
// switch, typed errors, retries, per-instance rate limiting and token redaction.
// It knows nothing of the database.
package bison
