package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/lettrage/lettrage/pipeline"
)

// metricInfo describes one series family that Lettrage exports.
type metricInfo struct {
	Type   string   // counter, gauge, histogram, summary, untyped
	Labels []string // label names (instance and job are added by Prometheus)
}

// exportedMetrics lists every metric family Lettrage serves on /metrics:
// the lettrage_* families declared in pipeline/metrics.go (read from the
// source, since a vector without children is not gathered) and whatever
// pipeline.NewMetrics registers and gathers (build info, Go and process
// collectors). Histograms and summaries also list their _bucket, _sum and
// _count series.
func exportedMetrics(t *testing.T) map[string]metricInfo {
	t.Helper()
	out := map[string]metricInfo{}
	add := func(name string, mi metricInfo) {
		out[name] = mi
		switch mi.Type {
		case "histogram":
			out[name+"_bucket"] = metricInfo{Type: "counter", Labels: append(append([]string{}, mi.Labels...), "le")}
			fallthrough
		case "summary":
			out[name+"_sum"] = metricInfo{Type: "counter", Labels: mi.Labels}
			out[name+"_count"] = metricInfo{Type: "counter", Labels: mi.Labels}
		}
	}
	for name, mi := range declaredMetrics(t) {
		add(name, mi)
	}
	mfs, err := pipeline.NewMetrics("test").Registry.Gather()
	if err != nil {
		t.Fatalf("gathering the pipeline's metrics: %v", err)
	}
	for _, mf := range mfs {
		typ := strings.ToLower(mf.GetType().String())
		var labels []string
		if len(mf.GetMetric()) > 0 {
			for _, lp := range mf.GetMetric()[0].GetLabel() {
				labels = append(labels, lp.GetName())
			}
		}
		if mf.GetType() == dto.MetricType_SUMMARY {
			labels = append(labels, "quantile")
		}
		if _, ok := out[mf.GetName()]; !ok {
			add(mf.GetName(), metricInfo{Type: typ, Labels: labels})
		}
	}
	return out
}

// declaredMetrics reads the metric families declared in
// pipeline/metrics.go: every prometheus.NewXxx(Opts{Name: …}, labels)
// call.
func declaredMetrics(t *testing.T) map[string]metricInfo {
	t.Helper()
	path := filepath.Join(repoRoot, "pipeline", "metrics.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	out := map[string]metricInfo{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "prometheus" {
			return true
		}
		typ := ""
		switch strings.TrimSuffix(sel.Sel.Name, "Vec") {
		case "NewCounter":
			typ = "counter"
		case "NewGauge":
			typ = "gauge"
		case "NewHistogram":
			typ = "histogram"
		case "NewSummary":
			typ = "summary"
		default:
			return true
		}
		opts, ok := call.Args[0].(*ast.CompositeLit)
		if !ok {
			return true
		}
		name := ""
		for _, e := range opts.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Name" {
					if lit, ok := kv.Value.(*ast.BasicLit); ok {
						name, _ = strconv.Unquote(lit.Value)
					}
				}
			}
		}
		if name == "" {
			return true
		}
		var labels []string
		if len(call.Args) > 1 {
			if lst, ok := call.Args[1].(*ast.CompositeLit); ok {
				for _, e := range lst.Elts {
					if lit, ok := e.(*ast.BasicLit); ok {
						s, _ := strconv.Unquote(lit.Value)
						labels = append(labels, s)
					}
				}
			}
		}
		out[name] = metricInfo{Type: typ, Labels: labels}
		return true
	})
	if len(out) == 0 {
		t.Fatalf("no metric declarations found in %s", path)
	}
	return out
}

// checkExpr fails the test when a PromQL expression names a metric that
// Lettrage does not export (nor Prometheus itself, nor a recording rule in
// extra) or matches on a label the metric does not have, or, unless
// constant is set, selects no series at all.
func checkExpr(t *testing.T, where, expr string, known map[string]metricInfo, extra map[string]bool, constant bool) {
	t.Helper()
	sels, err := selectors(expr)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	if len(sels) == 0 && !constant {
		t.Errorf("%s: %q selects no series", where, expr)
	}
	for _, s := range sels {
		if s.Metric == "" {
			t.Errorf("%s: selector without a metric name in %q", where, expr)
			continue
		}
		if s.Metric == "up" || extra[s.Metric] {
			continue
		}
		mi, ok := known[s.Metric]
		if !ok {
			t.Errorf("%s: metric %q does not exist (not in pipeline/metrics.go nor its registry)", where, s.Metric)
			continue
		}
		for _, l := range s.Labels {
			if l != "instance" && l != "job" && !contains(mi.Labels, l) {
				t.Errorf("%s: metric %q has no label %q (labels: %v)", where, s.Metric, l, mi.Labels)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestExportedMetrics(t *testing.T) {
	known := exportedMetrics(t)
	for _, want := range []string{
		"lettrage_runs_total", "lettrage_run_duration_seconds_bucket", "lettrage_unmatched_amount",
		"lettrage_build_info", "process_resident_memory_bytes", "go_goroutines",
	} {
		if _, ok := known[want]; !ok {
			t.Errorf("%s is missing from the exported metrics", want)
		}
	}
	if got := known["lettrage_unmatched_amount"].Labels; !contains(got, "currency") || !contains(got, "account") {
		t.Errorf("lettrage_unmatched_amount labels = %v, want currency and account", got)
	}
	var names []string
	for n := range known {
		if strings.HasPrefix(n, "lettrage_") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	t.Logf("lettrage series: %v", names)
}
