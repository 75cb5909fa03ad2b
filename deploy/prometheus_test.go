package deploy

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"gopkg.in/yaml.v3"
)

const (
	alertsFile     = "deploy/prometheus/alerts.yml"
	alertTestsFile = "deploy/prometheus/alerts_test.yml"
	runbookFile    = "docs/RUNBOOK.md"
	runbookURL     = "https://github.com/lettrage/lettrage/blob/main/docs/RUNBOOK.md#"
)

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadRules(t *testing.T, path string) ruleFile {
	t.Helper()
	var rf ruleFile
	if err := yaml.Unmarshal(readFile(t, path), &rf); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	if len(rf.Groups) == 0 {
		t.Fatalf("%s: no rule groups", path)
	}
	return rf
}

func TestAlertRulesPromtool(t *testing.T) {
	t.Parallel()
	promtool := tool(t, "promtool", "/usr/bin/promtool")
	dir := filepath.Join(repoRoot, "deploy", "prometheus")
	out := run(t, dir, promtool, "check", "rules", "alerts.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool check rules:\n%s", out)
	}
	out = run(t, dir, promtool, "test", "rules", "alerts_test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules:\n%s", out)
	}
}

// TestAlertRulesContent checks what promtool does not: every alert has a
// severity, a summary, a description and a runbook section, and names
// only metrics and labels that Lettrage exports.
func TestAlertRulesContent(t *testing.T) {
	rf := loadRules(t, alertsFile)
	known := exportedMetrics(t)
	anchors := markdownAnchors(string(readFile(t, runbookFile)))
	recorded := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
			}
		}
	}
	seen := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				checkExpr(t, "record "+r.Record, r.Expr, known, recorded, true)
				continue
			}
			where := "alert " + r.Alert
			if seen[r.Alert] {
				t.Errorf("%s: defined twice", where)
			}
			seen[r.Alert] = true
			if !regexp.MustCompile(`^Lettrage[A-Z][A-Za-z]+$`).MatchString(r.Alert) {
				t.Errorf("%s: name should be LettrageCamelCase", where)
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", where, s)
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("%s: annotation %s missing", where, a)
				}
			}
			anchor, ok := strings.CutPrefix(r.Annotations["runbook_url"], runbookURL)
			if !ok {
				t.Errorf("%s: runbook_url %q does not point into %s", where, r.Annotations["runbook_url"], runbookURL)
			} else if !anchors[anchor] {
				t.Errorf("%s: %s has no section with anchor #%s", where, runbookFile, anchor)
			} else if anchor != strings.ToLower(r.Alert) {
				t.Errorf("%s: runbook anchor #%s, want #%s", where, anchor, strings.ToLower(r.Alert))
			}
			checkExpr(t, where, r.Expr, known, recorded, false)
		}
	}
	if len(seen) < 8 {
		t.Errorf("%d alerts, want at least 8", len(seen))
	}
}

// TestAlertTestsCoverEveryAlert checks that alerts_test.yml has, for every
// alert, a case where it fires and a case where it does not.
func TestAlertTestsCoverEveryAlert(t *testing.T) {
	rf := loadRules(t, alertsFile)
	var tf struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			Name          string `yaml:"name"`
			AlertRuleTest []struct {
				Alertname string           `yaml:"alertname"`
				ExpAlerts []map[string]any `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(readFile(t, alertTestsFile), &tf); err != nil {
		t.Fatalf("parsing %s: %v", alertTestsFile, err)
	}
	if len(tf.RuleFiles) != 1 || tf.RuleFiles[0] != "alerts.yml" {
		t.Errorf("rule_files = %v, want [alerts.yml]", tf.RuleFiles)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tf.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			if !fires[r.Alert] {
				t.Errorf("%s: no test case where it fires", r.Alert)
			}
			if !quiet[r.Alert] {
				t.Errorf("%s: no test case where it stays quiet", r.Alert)
			}
		}
	}
}

// markdownAnchors returns the anchors GitHub gives the headings of a
// Markdown document: lower case, punctuation dropped, spaces to hyphens.
func markdownAnchors(md string) map[string]bool {
	out := map[string]bool{}
	inFence := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteByte('-')
			}
		}
		out[b.String()] = true
	}
	return out
}

func TestMarkdownAnchors(t *testing.T) {
	got := markdownAnchors("# Runbook\n## LettrageDown\n### What to check: logs & metrics\n```\n# not a heading\n```\n")
	for _, want := range []string{"runbook", "lettragedown", "what-to-check-logs--metrics"} {
		if !got[want] {
			t.Errorf("anchor %q missing from %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Errorf("a comment in a code block was taken for a heading")
	}
}
