// Package layering holds no code: its test checks the import layering of
// the whole module (issue 15), transitively, over `go list`. The direct
// imports are also checked by depguard (.golangci.yml); this test keeps the
// rules enforced where golangci-lint is not installed.
package layering

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/lettrage/lettrage"

// rule forbids the packages matching pkg (a path below the module; a
// trailing "/..." takes the folder and everything below it) to depend,
// directly or not, on any package of the module under one of deny, unless
// it is under one of allow (the longest match wins).
type rule struct {
	pkg   string
	deny  []string
	allow []string
	why   string
	// except are packages pkg names that the rule leaves out, each with
	// the reason in a comment where the rule is written.
	except []string
}

var rules = []rule{
	{pkg: "domain", deny: []string{""}, why: "the domain imports nothing of this project"},
	{pkg: "connectors/...", deny: []string{"matcher"},
		why: "connectors read and write the domain's values; the engine is the pipeline's"},
	{pkg: "matcher", deny: []string{""}, allow: []string{"domain"}, why: "the matcher imports nothing of this project but the domain"},
	{pkg: "connectors/...", deny: []string{"pipeline", "config", "cmd"}, why: "connectors are called by the pipeline and declare their own configuration"},
	{pkg: "config", deny: []string{"pipeline", "cmd"}, why: "the configuration is read before the pipeline exists"},
	{pkg: "config", deny: []string{"connectors/all", "connectors/ledger", "connectors/source"}, allow: []string{"connectors/source/compress"},
		why: "the configuration knows the connectors through their registry only, open to those the program registers"},
	{pkg: "pipeline/...", deny: []string{"connectors/all"},
		why: "the program (cmd) chooses which connectors exist; the pipeline builds them through the registry"},
	{pkg: "pipeline/...", deny: []string{"cmd"}, why: "nothing imports the commands"},
	{pkg: "internal/...", deny: []string{"cmd", "pipeline"}, why: "internal helpers serve every layer"},
	{pkg: "pipeline/decide", deny: []string{""}, allow: []string{"domain"},
		why: "the decision state machine is pure: it imports only the domain"},
	{pkg: "pipeline/report", deny: []string{""}, allow: []string{"domain", "pipeline/decide", "internal/csvsafe", "internal/durable"},
		why: "reports render the records they are given: no store, no connector, no daemon, no pass"},
	{pkg: "pipeline/state", deny: []string{"pipeline", "connectors/ledger", "connectors/all"}, allow: []string{"pipeline/decide"},
		why: "the state stores keep records: they import neither the pass, the reports, the daemon nor a connector"},
	{pkg: "pipeline/...", deny: []string{"pipeline/daemon"},
		why: "the daemon runs the pass; nothing of the pipeline imports it (only cmd does)"},
}

// under reports whether path (relative to the module, "" for its root)
// is prefix or below it; prefix "" is the whole module.
func under(path, prefix string) bool {
	if prefix == "" {
		return true
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// matches reports whether the package path (relative) is one a rule's pkg
// names.
func matches(path, pkg string) bool {
	if p, ok := strings.CutSuffix(pkg, "/..."); ok {
		return under(path, p)
	}
	return path == pkg
}

// violation returns the deny entry dep breaks for r, or ok false.
func (r rule) violation(dep string) (string, bool) {
	best, denied := -1, ""
	for _, d := range r.deny {
		if under(dep, d) && len(d) > best {
			best, denied = len(d), d
		}
	}
	if best < 0 {
		return "", false
	}
	for _, a := range r.allow {
		if under(dep, a) && len(a) > best {
			return "", false
		}
	}
	return denied, true
}

// deps lists each package of the module (relative path) with the module's
// packages it depends on, test files left out.
func deps(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, module+"/...").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("listing the packages: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("listing the packages: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pkg := rel(f[0])
		m[pkg] = nil
		for _, d := range f[1:] {
			if d == module || strings.HasPrefix(d, module+"/") {
				m[pkg] = append(m[pkg], rel(d))
			}
		}
	}
	return m
}

func rel(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
}

func TestLayering(t *testing.T) {
	all := deps(t)
	if len(all) < 10 {
		t.Fatalf("go list found %d packages: is the test run inside the module?", len(all))
	}
	checked := map[int]bool{}
	for pkg, ds := range all {
		for k, r := range rules {
			if !matches(pkg, r.pkg) || slices.Contains(r.except, pkg) {
				continue
			}
			checked[k] = true
			for _, d := range ds {
				if denied, bad := r.violation(d); bad {
					what := denied + "/..."
					if denied == "" {
						what = "the whole module"
					}
					t.Errorf("%s depends on %s (rule %q denies %s): %s", pkg, d, r.pkg, what, r.why)
				}
			}
		}
	}
	for k, r := range rules {
		if !checked[k] {
			t.Errorf("rule %q names no package: update the rules after a move", r.pkg)
		}
	}
}

func TestRuleMatching(t *testing.T) {
	r := rule{pkg: "matcher", deny: []string{""}, allow: []string{"domain"}}
	for dep, want := range map[string]bool{"domain": false, "domain/money": false, "pipeline": true, "connectors/camt": true} {
		if _, got := r.violation(dep); got != want {
			t.Errorf("violation(%q) = %v, want %v", dep, got, want)
		}
	}
	if !matches("connectors/ledger/odoo", "connectors/...") || matches("connectorsx", "connectors/...") || matches("matcher/x", "matcher") {
		t.Error("matches is wrong")
	}
}
