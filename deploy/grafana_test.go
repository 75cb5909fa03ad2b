package deploy

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

const dashboardFile = "deploy/grafana/lettrage.json"

type dashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *datasourceRef  `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int                      `json:"id"`
	Type       string                   `json:"type"`
	Title      string                   `json:"title"`
	Datasource *datasourceRef           `json:"datasource"`
	GridPos    struct{ H, W, X, Y int } `json:"gridPos"`
	Targets    []struct {
		Expr       string         `json:"expr"`
		RefID      string         `json:"refId"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // of a collapsed row
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	raw := readFile(t, dashboardFile)
	dec := json.NewDecoder(bytes.NewReader(raw))
	var d dashboard
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("parsing %s: %v", dashboardFile, err)
	}
	if dec.More() {
		t.Fatalf("%s: data after the JSON object", dashboardFile)
	}
	return d
}

// TestDashboard checks that the dashboard is valid JSON on a datasource
// variable, and that every query names metrics and labels Lettrage
// exports.
func TestDashboard(t *testing.T) {
	d := loadDashboard(t)
	known := exportedMetrics(t)
	if d.Title == "" || d.UID == "" {
		t.Errorf("title %q, uid %q: both required", d.Title, d.UID)
	}

	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
		switch v.Type {
		case "datasource":
			var q string
			if err := json.Unmarshal(v.Query, &q); err != nil || q != "prometheus" {
				t.Errorf("variable %s: query %s, want \"prometheus\"", v.Name, v.Query)
			}
		case "query":
			var q struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal(v.Query, &q); err != nil {
				t.Errorf("variable %s: query: %v", v.Name, err)
				continue
			}
			checkLabelValues(t, "variable "+v.Name, q.Query, known)
			if v.Datasource == nil || v.Datasource.UID != "${datasource}" {
				t.Errorf("variable %s: datasource %+v, want uid ${datasource}", v.Name, v.Datasource)
			}
		}
	}
	if vars["datasource"] != "datasource" {
		t.Fatalf("no datasource variable named datasource: %v", vars)
	}

	used := map[string]bool{}
	ids := map[int]bool{}
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			where := "panel " + p.Title
			if ids[p.ID] {
				t.Errorf("%s: id %d used twice", where, p.ID)
			}
			ids[p.ID] = true
			if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
				t.Errorf("%s: gridPos %+v out of the 24-column grid", where, p.GridPos)
			}
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("%s: datasource %+v, want uid ${datasource}", where, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: no query", where)
			}
			for _, tg := range p.Targets {
				if tg.Datasource != nil && tg.Datasource.UID != "${datasource}" {
					t.Errorf("%s/%s: datasource %+v, want uid ${datasource}", where, tg.RefID, tg.Datasource)
				}
				for _, v := range regexp.MustCompile(`\$\{?(\w+)`).FindAllStringSubmatch(tg.Expr, -1) {
					if !strings.HasPrefix(v[1], "__") && vars[v[1]] == "" {
						t.Errorf("%s/%s: variable $%s is not defined", where, tg.RefID, v[1])
					}
				}
				checkExpr(t, where+"/"+tg.RefID, tg.Expr, known, nil, false)
				sels, _ := selectors(tg.Expr)
				for _, s := range sels {
					used[s.Metric] = true
				}
			}
		}
	}
	walk(d.Panels)

	// The families finance ops and on-call watch are on the dashboard;
	// newer ones are listed (docs/METRICS.md must document every one).
	for _, name := range dashboardRequired {
		if !used[name] {
			t.Errorf("metric %s is on no panel", name)
		}
	}
	for name, mi := range declaredMetrics(t) {
		ok := used[name]
		if mi.Type == "histogram" {
			ok = used[name+"_bucket"] || used[name+"_count"] || used[name+"_sum"]
		}
		if !ok {
			t.Logf("note: metric %s is on no panel of %s", name, dashboardFile)
		}
	}
}

// dashboardRequired are the series the dashboard must show.
var dashboardRequired = []string{
	"lettrage_unmatched_amount", "lettrage_unmatched_transactions",
	"lettrage_unmatched_oldest_booking_timestamp_seconds", "lettrage_exceptions_by_age", "lettrage_decisions_total",
	"lettrage_run_duration_seconds_bucket", "lettrage_runs_total",
	"lettrage_last_success_timestamp_seconds", "lettrage_last_run_timestamp_seconds",
	"lettrage_statement_files_total", "lettrage_ledger_write_duration_seconds_bucket",
	"lettrage_ledger_write_errors_total", "lettrage_build_info", "up",
}

var labelValuesRE = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// checkLabelValues checks a Grafana label_values(selector, label) query.
func checkLabelValues(t *testing.T, where, q string, known map[string]metricInfo) {
	t.Helper()
	m := labelValuesRE.FindStringSubmatch(strings.TrimSpace(q))
	if m == nil {
		t.Errorf("%s: query %q is not label_values(selector, label)", where, q)
		return
	}
	checkExpr(t, where, m[1], known, nil, false)
	sels, _ := selectors(m[1])
	for _, s := range sels {
		if mi, ok := known[s.Metric]; ok && m[2] != "instance" && m[2] != "job" && !contains(mi.Labels, m[2]) {
			t.Errorf("%s: metric %s has no label %q", where, s.Metric, m[2])
		}
	}
}
