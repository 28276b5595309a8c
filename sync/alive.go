package sync

import (
	"errors"
	"syscall"
)

// processAlive reports whether a process with this pid exists on this host. Signal 0 checks
// existence without touching the process; EPERM means it exists under another user.
// A recycled pid makes a dead run look alive: then it is abandoned when its heartbeat expires,
// as for other hosts.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
