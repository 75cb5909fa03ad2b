package deploy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/internal/testenv"
)

// repoRoot is the repository's root folder (tests run in deploy/).
const repoRoot = ".."

// cacheBinDirs are the folders scripts/install-test-deps.sh installs
// tools into, in the order it chooses them.
func cacheBinDirs() []string {
	var dirs []string
	if d := os.Getenv("LETTRAGE_CACHE_BIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		dirs = append(dirs, filepath.Join(d, "lettrage", "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".cache", "lettrage", "bin"))
	}
	return dirs
}

// tool finds a program in the install script's cache folder, then in
// PATH and the given absolute paths; a missing one fails the test in CI
// and skips it loudly elsewhere (testenv.Missing).
func tool(t *testing.T, name string, alternatives ...string) string {
	t.Helper()
	var alts []string
	for _, d := range cacheBinDirs() {
		alts = append(alts, filepath.Join(d, name))
	}
	for _, a := range alts {
		if st, err := os.Stat(a); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return a
		}
	}
	p, err := testenv.LookPath(name, append(alts, alternatives...)...)
	if err != nil {
		testenv.Missing(t, name, err)
	}
	return p
}

// lookPath finds a program in PATH or at one of the given paths.
func lookPath(name string, alternatives ...string) (string, error) {
	return testenv.LookPath(name, alternatives...)
}

// run runs a program in dir and returns its combined output; a failure
// fails the test with that output.
func run(t *testing.T, dir, prog string, args ...string) string {
	t.Helper()
	out, err := runErr(dir, prog, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(prog), strings.Join(args, " "), err, out)
	}
	return out
}

// runErr runs a program in dir with a time limit and returns its combined
// output and error.
func runErr(dir, prog string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

// readFile reads a file of the repository or fails the test.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return b
}
