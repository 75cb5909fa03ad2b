package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Lettrage names the lettering job lettrage_job: `job` is Prometheus's
// target label (the scrape job), and a standard scrape renames a `job`
// label of the target's own to exported_job. These tests keep every rule,
// dashboard query and documented example on lettrage_job.

var (
	groupingRE   = regexp.MustCompile(`\b(by|on|without|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	jobMatcherRE = regexp.MustCompile(`([a-z_:]*)\{[^}]*\bjob\s*(=~|!~|!=|=)`)
	jobTmplRE    = regexp.MustCompile(`\$labels\.job\b|\{\{\s*job\s*\}\}`)
)

// bareJob returns the places where expr uses the label job other than
// up{job="lettrage"} (the scrape job).
func bareJob(expr string) []string {
	var out []string
	for _, m := range groupingRE.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(m[2], ",") {
			if strings.TrimSpace(l) == "job" {
				out = append(out, m[0])
			}
		}
	}
	for _, m := range jobMatcherRE.FindAllStringSubmatch(expr, -1) {
		if m[1] != "up" {
			out = append(out, m[0])
		}
	}
	out = append(out, jobTmplRE.FindAllString(expr, -1)...)
	return out
}

func TestBareJobDetector(t *testing.T) {
	for expr, want := range map[string]bool{
		`max by (job) (lettrage_last_run_timestamp_seconds)`:              true,
		`x and on(instance, job) y`:                                       true,
		`lettrage_runs_total{job="a"}`:                                    true,
		`lettrage_runs_total{instance="i", job=~"$job"}`:                  true,
		`summary: "{{ $labels.job }}"`:                                    true,
		`"legendFormat": "{{job}}"`:                                       true,
		`up{job="lettrage"} == 0`:                                         false,
		`max by (lettrage_job) (x) and on(instance, lettrage_job) y`:      false,
		`lettrage_runs_total{lettrage_job=~"$job"}`:                       false,
		`{{ $labels.lettrage_job }} on {{ $labels.instance }}`:            false,
		`sum by (lettrage_job, currency) (lettrage_unmatched_amount) > 0`: false,
	} {
		if got := len(bareJob(expr)) > 0; got != want {
			t.Errorf("bareJob(%q) = %v, want %v", expr, bareJob(expr), want)
		}
	}
}

func TestRulesAndDashboardUseLettrageJob(t *testing.T) {
	rf := loadRules(t, alertsFile)
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			where := r.Alert + r.Record
			texts := []string{r.Expr}
			for _, a := range r.Annotations {
				texts = append(texts, a)
			}
			for _, x := range texts {
				if bad := bareJob(x); len(bad) > 0 {
					t.Errorf("%s: uses the label job (the scrape job), not lettrage_job: %v", where, bad)
				}
			}
		}
	}
	// The rule tests feed series as a standard scrape gives them: the
	// target's job="lettrage" beside lettrage_job.
	tests := string(readFile(t, alertTestsFile))
	for _, m := range regexp.MustCompile(`series: '(lettrage_[a-z_]+)\{([^}]*)\}'`).FindAllStringSubmatch(tests, -1) {
		if !strings.Contains(m[2], `job="lettrage"`) || !strings.Contains(m[2], `lettrage_job="`) {
			t.Errorf("%s: input series %s{%s} lacks job=\"lettrage\" or lettrage_job", alertTestsFile, m[1], m[2])
		}
	}

	raw := string(readFile(t, dashboardFile))
	var d struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(raw, "\n") {
		if !strings.Contains(line, `"expr"`) && !strings.Contains(line, `"legendFormat"`) && !strings.Contains(line, `"query"`) {
			continue
		}
		var unq string
		if i := strings.Index(line, `: "`); i >= 0 {
			unq, _ = strconv.Unquote(strings.TrimSuffix(strings.TrimSpace(line[i+2:]), ","))
		}
		if bad := bareJob(unq); len(bad) > 0 {
			t.Errorf("%s: %v in %s", dashboardFile, bad, strings.TrimSpace(line))
		}
	}
}

func TestDocsUseLettrageJob(t *testing.T) {
	for _, doc := range []string{metricsDoc, runbookFile, "docs/DEPLOY.md"} {
		for i, line := range strings.Split(string(readFile(t, doc)), "\n") {
			if strings.HasPrefix(line, "## Upgrading from") {
				break // the migration note names the old label
			}
			for _, code := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(line, -1) {
				if bad := bareJob(code[1]); len(bad) > 0 {
					t.Errorf("%s:%d: %v (use lettrage_job)", doc, i+1, bad)
				}
			}
		}
	}
}

// TestDashboardLetteringRate evaluates the dashboard's automatic lettering
// rate with promtool on the example's decisions (11 lettered, 1
// suggested, 1 unmatched, 2 debits ignored): 11/13, not 11/15.
func TestDashboardLetteringRate(t *testing.T) {
	promtool := tool(t, "promtool", "/usr/bin/promtool")
	var expr string
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if strings.HasPrefix(p.Title, "Automatic lettering rate") && len(p.Targets) > 0 {
				expr = p.Targets[0].Expr
			}
			walk(p.Panels)
		}
	}
	walk(loadDashboard(t).Panels)
	if expr == "" {
		t.Fatal("no \"Automatic lettering rate\" panel")
	}
	expr = strings.NewReplacer(`"$job"`, `".*"`, `"$instance"`, `".*"`).Replace(expr)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "empty.yml"), []byte("groups: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	series := ""
	for outcome, n := range map[string]int{"auto": 11, "suggested": 1, "unmatched": 1, "ignored": 2} {
		series += fmt.Sprintf("      - series: 'lettrage_decisions_total{job=\"lettrage\", lettrage_job=\"example\", instance=\"i\", outcome=\"%s\", rule=\"r\"}'\n        values: '0x60 %dx300'\n", outcome, n)
	}
	exprJSON, _ := json.Marshal(expr)
	test := fmt.Sprintf(`rule_files: [empty.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
%s    promql_expr_test:
      - expr: %s
        eval_time: 3h
        exp_samples:
          - labels: '{lettrage_job="example"}'
            value: %v
`, series, exprJSON, 11.0/13.0)
	if err := os.WriteFile(filepath.Join(dir, "rate_test.yml"), []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runErr(dir, promtool, "test", "rules", "rate_test.yml")
	if err != nil || !strings.Contains(out, "SUCCESS") {
		t.Errorf("the dashboard's lettering rate on the example is not 11/13:\n%s\n%s", expr, out)
	}
}
