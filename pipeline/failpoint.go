package pipeline

import (
	"os"
)

// FailpointEnv names the environment variable that makes the process kill
// itself (SIGKILL, as `kill -9` would) when it reaches the named point of a
// run. The crash tests use it to prove that every point is recoverable.
// Failpoints exist only in binaries built with the build tag `failpoint`
// (FailpointsEnabled); a production build ignores the variable.
const FailpointEnv = "LETTRAGE_FAILPOINT"

// Failpoints, in the order a run reaches them.
const (
	FailAfterParse   = "after-parse"   // files read, nothing committed
	FailAfterCommit  = "after-commit"  // decisions PENDING, nothing written back
	FailAfterApply   = "after-apply"   // written back, not yet marked APPLIED
	FailAfterMark    = "after-mark"    // marked APPLIED, reports not written
	FailBeforeSink   = "before-sink"   // report files written, exceptions not handed to the ledger (an ExceptionSink)
	FailAfterReports = "after-reports" // reports written, files not archived
)

var failpoint = func() string {
	if !FailpointsEnabled {
		return ""
	}
	return os.Getenv(FailpointEnv)
}()

func crashAt(point string) {
	if FailpointsEnabled && failpoint == point {
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			_ = p.Kill()
		}
		select {} // the signal is on its way
	}
}
