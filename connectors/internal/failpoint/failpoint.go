// Package failpoint lets crash tests kill the process (SIGKILL, as
// `kill -9` would) at named points inside connectors, the same way the
// pipeline's failpoints do: the environment variable LETTRAGE_FAILPOINT
// names the point. It is inert when the variable is unset or names another
// point.
package failpoint

import (
	"os"
	"strings"
	"syscall"
)

// Env is the variable read once at start (shared with the pipeline).
const Env = "LETTRAGE_FAILPOINT"

var armed = parse(os.Getenv(Env))

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

// Armed reports whether point is named by the environment.
func Armed(point string) bool { return armed[point] }

// Crash kills the process when point is armed; otherwise it returns at once.
func Crash(point string) {
	if !armed[point] {
		return
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}
