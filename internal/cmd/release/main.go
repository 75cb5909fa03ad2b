// Command release makes what `make release` ships besides the binaries:
//
//	go run ./internal/cmd/release licenses            # every module linked into lettrage, checked against Apache-2.0
//	go run ./internal/cmd/release sbom -version V [-revision R] BIN # a CycloneDX SBOM of BIN from its build information
//	go run ./internal/cmd/release sums FILE...        # SHA256SUMS
package main

import (
	"debug/buildinfo"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"

	"github.com/lettrage/lettrage/internal/release"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: release licenses | sbom -version V BINARY | sums FILE...")
		return 2
	}
	switch args[0] {
	case "licenses":
		mods, err := release.LinkedModules(".", "./cmd/lettrage", release.Targets)
		if err != nil {
			fmt.Fprintln(stderr, "release licenses:", err)
			return 1
		}
		code := 0
		for _, m := range mods {
			status := "ok"
			switch bad := release.Disallowed(m.Licenses); {
			case m.Err != nil:
				status, code = "UNKNOWN: "+m.Err.Error(), 1
			case len(bad) > 0:
				status, code = "NOT COMPATIBLE with Apache-2.0: "+strings.Join(bad, ", "), 1
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", m.Path, m.Version, strings.Join(m.Licenses, " AND "), status)
		}
		return code
	case "sbom":
		fs := flag.NewFlagSet("sbom", flag.ContinueOnError)
		version := fs.String("version", "", "the release version")
		revision := fs.String("revision", "", "the VCS revision, when the build information lacks it")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 1 || *version == "" {
			fmt.Fprintln(stderr, "usage: release sbom -version V BINARY")
			return 2
		}
		bin := fs.Arg(0)
		bi, err := buildinfo.ReadFile(bin)
		if err != nil {
			fmt.Fprintf(stderr, "release sbom: reading the build information of %s: %v\n", bin, err)
			return 1
		}
		if *revision != "" && *revision != "unknown" {
			has := false
			for _, s := range bi.Settings {
				has = has || s.Key == "vcs.revision"
			}
			if !has {
				bi.Settings = append(bi.Settings, debug.BuildSetting{Key: "vcs.revision", Value: *revision})
			}
		}
		modCache, _ := exec.Command("go", "env", "GOMODCACHE").Output()
		if err := release.SBOM(stdout, bi, bin, *version, strings.TrimSpace(string(modCache))); err != nil {
			fmt.Fprintln(stderr, "release sbom:", err)
			return 1
		}
		return 0
	case "sums":
		if err := release.SHA256Sums(stdout, args[1:]); err != nil {
			fmt.Fprintln(stderr, "release sums:", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "release: unknown command %q\n", args[0])
	return 2
}
