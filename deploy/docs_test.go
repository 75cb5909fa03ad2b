package deploy

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

const metricsDoc = "docs/METRICS.md"

// TestMetricsCatalog checks docs/METRICS.md against pipeline/metrics.go:
// every lettrage_* family has a row with its type and labels, no row
// names a series that does not exist, and every example query names
// existing series and labels.
func TestMetricsCatalog(t *testing.T) {
	declared := declaredMetrics(t)
	known := exportedMetrics(t)
	doc := string(readFile(t, metricsDoc))
	rowRE := regexp.MustCompile("^\\| `(lettrage_[a-z0-9_]+)` \\| ([a-z]+) \\| ([^|]*) \\| [^|]+ \\| `([^`]+)` \\|$")
	rows := map[string]bool{}
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "| `lettrage_") {
			continue
		}
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("%s: row not in the form | `name` | type | `labels` | meaning | `example` |: %s", metricsDoc, line)
			continue
		}
		name, typ, example := m[1], m[2], m[4]
		var labels []string
		for _, l := range strings.Split(m[3], ",") {
			if l = strings.Trim(strings.TrimSpace(l), "`"); l != "" {
				labels = append(labels, l)
			}
		}
		rows[name] = true
		mi, ok := declared[name]
		if !ok {
			if name != "lettrage_build_info" {
				t.Errorf("%s documents %s, which pipeline/metrics.go does not declare", metricsDoc, name)
				continue
			}
			mi = known[name]
		}
		if typ != mi.Type {
			t.Errorf("%s: %s is a %s, documented as %s", metricsDoc, name, mi.Type, typ)
		}
		if !reflect.DeepEqual(labels, mi.Labels) {
			t.Errorf("%s: %s has labels %v, documented as %v", metricsDoc, name, mi.Labels, labels)
		}
		checkExpr(t, metricsDoc+" example for "+name, example, known, nil, false)
		if !strings.Contains(example, name) {
			t.Errorf("%s: the example for %s does not use it: %s", metricsDoc, name, example)
		}
	}
	for name := range declared {
		if !rows[name] {
			t.Errorf("%s does not document %s (declared in pipeline/metrics.go)", metricsDoc, name)
		}
	}
	if !rows["lettrage_build_info"] {
		t.Errorf("%s does not document lettrage_build_info", metricsDoc)
	}
}
