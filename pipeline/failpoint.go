package pipeline

import (
	"os"
	"syscall"
)

// FailpointEnv names the environment variable that makes the process kill
// itself (SIGKILL, as `kill -9` would) when it reaches the named point of a
// run. The crash tests use it to prove that every point is recoverable;
// it is inert when unset.
const FailpointEnv = "LETTRAGE_FAILPOINT"

// Failpoints, in the order a run reaches them.
const (
	FailAfterParse   = "after-parse"   // files read, nothing committed
	FailAfterCommit  = "after-commit"  // decisions PENDING, nothing written back
	FailAfterApply   = "after-apply"   // written back, not yet marked APPLIED
	FailAfterMark    = "after-mark"    // marked APPLIED, reports not written
	FailAfterReports = "after-reports" // reports written, files not archived
)

var failpoint = os.Getenv(FailpointEnv)

func crashAt(point string) {
	if failpoint == point {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
