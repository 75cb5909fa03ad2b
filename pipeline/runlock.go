package pipeline

import (
	"context"
	"errors"
)

// ErrBusy is returned (wrapped) by Run when another process or replica is
// running the same job: this run is skipped, nothing is lost.
var ErrBusy = errors.New("job is running elsewhere")

// RunLocker makes sure a job runs in one process at a time, across
// processes (a cron `once` beside the daemon) and replicas.
type RunLocker interface {
	// TryLock takes the job's lock without waiting; ok is false when
	// someone else holds it.
	TryLock(ctx context.Context, job string) (release func(), ok bool, err error)
}
