package sync

import (
	"context"
	"fmt"
)

// runDiscovery is a run's discovery. It starts with the run and goes on beside it, one
// request per instance, so that it adds nothing to the run's time; only when an instance
// registers new workspaces itself (auto_register) does the run wait for it, since what it
// registers is synced in the same run.
type runDiscovery struct {
	done  chan struct{}
	found []InstanceDiscovery
	err   error
}

// startDiscovery begins the run's discovery, and returns once the run may select its
// workspaces.
func (e *Engine) startDiscovery(ctx context.Context) *runDiscovery {
	d := &runDiscovery{done: make(chan struct{})}
	instances, err := e.store.Instances(ctx)
	if err != nil {
		d.err = err
		close(d.done)
		return d
	}
	run := func() {
		defer close(d.done)
		d.found, d.err = e.discover(ctx, instances, DiscoverOptions{Register: true})
	}
	for _, in := range instances {
		if in.AutoRegister && !in.APIKey.IsZero() {
			run()
			return d
		}
	}
	go run()
	return d
}

// reportDiscovery tells the observers what discovery found, once it has, and returns a
// channel closed when it has: the run waits for it before it finishes.
func (r *run) reportDiscovery() <-chan struct{} {
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		<-r.disc.done
		if r.disc.err != nil {
			r.emit(Notice{Level: LevelWarn, Message: fmt.Sprintf("workspaces at the source not checked: %v", r.disc.err)})
			return
		}
		for _, d := range r.disc.found {
			r.emit(WorkspacesDiscovered{InstanceDiscovery: d})
		}
	}()
	return reported
}

// discovered is what the run's discovery found, for the summary: a list, empty when
// nothing was listed.
func (r *run) discovered() []InstanceDiscovery {
	if r.disc == nil || r.disc.found == nil {
		return []InstanceDiscovery{}
	}
	return r.disc.found
}
