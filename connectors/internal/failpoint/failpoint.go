// Package failpoint lets crash tests kill the process (SIGKILL, as
// `kill -9` would) at named points inside connectors, the same way the
// pipeline's failpoints do: the environment variable LETTRAGE_FAILPOINT
// names the point.
//
// Failpoints exist only in binaries built with the build tag `failpoint`
// (the crash tests build theirs so; `make test` passes it). A production
// build ignores the variable: Enabled is false and Crash compiles to
// nothing.
package failpoint

import (
	"os"
	"strings"
)

// Env is the variable read once at start (shared with the pipeline).
const Env = "LETTRAGE_FAILPOINT"

var armed = func() map[string]bool {
	if !Enabled {
		return nil
	}
	return parse(os.Getenv(Env))
}()

// parse accepts one point or several separated by commas.
func parse(v string) map[string]bool {
	if v == "" {
		return nil
	}
	out := map[string]bool{}
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out[p] = true
		}
	}
	return out
}

// Armed reports whether point is named by the environment (never without
// the build tag).
func Armed(point string) bool { return Enabled && armed[point] }

// Crash kills the process when point is armed; otherwise it returns at once.
func Crash(point string) {
	if !Enabled || !armed[point] {
		return
	}
	Kill()
}

// Kill kills the process at once, as SIGKILL would (TerminateProcess on
// Windows): no deferred function runs, nothing is flushed.
func Kill() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill()
	}
	select {} // the signal is on its way
}
