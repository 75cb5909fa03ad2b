package deploy

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const unitFile = "deploy/systemd/lettrage.service"

// parseUnit reads a systemd unit: section → key → values (a key may
// repeat).
func parseUnit(t *testing.T, data []byte) map[string]map[string][]string {
	t.Helper()
	out := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			out[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not key=value in a section: %q", unitFile, n, line)
			}
			out[section][k] = append(out[section][k], v)
		}
	}
	return out
}

// TestSystemdUnit checks the unit's command line and hardening options
// (without systemd), then, when systemd-analyze is installed, that
// `systemd-analyze verify` accepts it without a warning and that its
// offline security exposure stays low.
func TestSystemdUnit(t *testing.T) {
	data := readFile(t, unitFile)
	u := parseUnit(t, data)
	svc := u["Service"]
	if svc == nil || u["Unit"] == nil || u["Install"] == nil {
		t.Fatalf("sections %v: want Unit, Service and Install", u)
	}
	want := map[string]string{
		"ExecStart":               "/usr/local/bin/lettrage run -c /etc/lettrage/lettrage.yaml",
		"Restart":                 "on-failure",
		"DynamicUser":             "yes",
		"StateDirectory":          "lettrage",
		"WorkingDirectory":        "/var/lib/lettrage",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"NoNewPrivileges":         "yes",
		"CapabilityBoundingSet":   "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"MemoryDenyWriteExecute":  "yes",
		"SystemCallFilter":        "@system-service",
		"KillSignal":              "SIGTERM",
	}
	for k, v := range want {
		got, ok := svc[k]
		if !ok || !contains(got, v) {
			t.Errorf("[Service] %s = %q, want %q among them", k, got, v)
		}
	}
	// `systemctl reload` sends SIGHUP: the daemon reloads its configuration.
	if got := strings.Join(svc["ExecReload"], ""); got != "/bin/kill -HUP $MAINPID" {
		t.Errorf("ExecReload = %q, want /bin/kill -HUP $MAINPID", got)
	}
	if got := strings.Join(svc["RestartPreventExitStatus"], " "); got != "2" {
		t.Errorf("RestartPreventExitStatus = %q, want 2 (a configuration error; 3, unreachable, is restarted)", got)
	}
	// A pass must be able to stop at a file boundary after SIGTERM.
	stop := strings.TrimSuffix(strings.Join(svc["TimeoutStopSec"], ""), "s")
	if n, err := strconv.Atoi(stop); err != nil || n < 60 {
		t.Errorf("TimeoutStopSec %q, want at least 60s", svc["TimeoutStopSec"])
	}

	analyze, err := lookSystemdAnalyze()
	if err != nil {
		// Not required in CI: the unit's options are checked above.
		t.Skipf("*** systemd-analyze is not available (%v): `systemd-analyze verify` not run (apt-get install systemd) ***", err)
	}
	// verify wants the ExecStart programs to exist: point them at a
	// program that does.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unit := filepath.Join(dir, "lettrage.service")
	if err := os.WriteFile(unit, bytes.ReplaceAll(data, []byte("/usr/local/bin/lettrage"), []byte(exe)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runErr(dir, analyze, "verify", unit)
	if err != nil || strings.Contains(out, "lettrage.service") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = runErr(dir, analyze, "security", "--offline=yes", "--no-pager", unit)
	m := regexp.MustCompile(`Overall exposure level for lettrage\.service: ([0-9.]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Logf("systemd-analyze security --offline=yes: %v\n%s", err, out) // older systemd
		return
	}
	if score, _ := strconv.ParseFloat(m[1], 64); score > 2.0 {
		t.Errorf("exposure level %s, want at most 2.0 (systemd-analyze security --offline=yes)", m[1])
	} else {
		t.Logf("systemd-analyze security: exposure %s", m[1])
	}
}

func lookSystemdAnalyze() (string, error) {
	return lookPath("systemd-analyze", "/usr/bin/systemd-analyze", "/bin/systemd-analyze")
}
