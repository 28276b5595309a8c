package dbtest_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/bisonsync/bisonsync/db/dbtest"
)

// recorder is a testing.TB whose Fatal and Skip are recorded instead of ending the test.
type recorder struct {
	testing.TB
	fatal, skipped string
	cleanups       []func()
}

func (r *recorder) Helper()                           {}
func (r *recorder) Cleanup(f func())                  { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(format string, args ...any) {}
func (r *recorder) Failed() bool                      { return r.fatal != "" }
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }
func (r *recorder) Skip(args ...any)  { r.Skipf("%s", fmt.Sprint(args...)) }
func (r *recorder) SkipNow()          { r.Skipf("skipped") }
func (r *recorder) FailNow()          { r.Fatalf("failed") }

func TestNewStoreFailsLoudlyWhenUnreachable(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5")
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		dbtest.NewStore(r)
	}()
	<-done
	for _, f := range r.cleanups {
		f()
	}
	if r.skipped != "" {
		t.Fatalf("NewStore skipped: %s", r.skipped)
	}
	if !strings.Contains(r.fatal, "127.0.0.1:1") || !strings.Contains(r.fatal, "DATABASE_URL") ||
		!strings.Contains(r.fatal, "pg_ctlcluster") {
		t.Errorf("fatal message %q should say where it tried and how to start PostgreSQL", r.fatal)
	}
}
