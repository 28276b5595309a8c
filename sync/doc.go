// Package sync is the engine: plan → schedule → workers → fetch pages → reconcile → commit,
// emitting events. It is the only package that knows both bison and db.
package sync
