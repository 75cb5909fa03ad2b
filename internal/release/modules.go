package release

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// Targets are the platforms a release builds for (GOOS/GOARCH).
var Targets = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"}

// Module is a module linked into a package, with its licences.
type Module struct {
	Path, Version, Dir string
	Licenses           []string
	Err                error // the licences could not be read
}

// LinkedModules lists the modules the package pkg (e.g. ./cmd/lettrage)
// links on any of the targets, as `go list -deps` sees them from dir, with
// their licences; the main module is left out.
func LinkedModules(dir, pkg string, targets []string) ([]Module, error) {
	byPath := map[string]Module{}
	for _, t := range targets {
		goos, goarch, _ := strings.Cut(t, "/")
		cmd := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}}\t{{.Version}}\t{{.Dir}}{{end}}{{end}}", pkg)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("listing the modules of %s for %s: %w: %s", pkg, t, err, stderr.String())
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Split(line, "\t")
			if len(f) != 3 {
				continue
			}
			byPath[f[0]] = Module{Path: f[0], Version: f[1], Dir: f[2]}
		}
	}
	var mods []Module
	for _, m := range byPath {
		m.Licenses, m.Err = ModuleLicenses(m.Dir)
		mods = append(mods, m)
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Path < mods[j].Path })
	return mods, nil
}
