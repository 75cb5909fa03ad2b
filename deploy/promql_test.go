package deploy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// selector is a series selector found in a PromQL expression: a metric
// name and the label names its matchers use.
type selector struct {
	Metric string
	Labels []string
}

// PromQL words that are not metric names.
var (
	promqlAggregations = map[string]bool{"sum": true, "min": true, "max": true, "avg": true, "group": true,
		"stddev": true, "stdvar": true, "count": true, "count_values": true, "bottomk": true, "topk": true,
		"quantile": true, "limitk": true, "limit_ratio": true}
	promqlKeywords = map[string]bool{"and": true, "or": true, "unless": true, "atan2": true, "offset": true,
		"bool": true, "inf": true, "nan": true, "by": true, "without": true, "on": true, "ignoring": true,
		"group_left": true, "group_right": true}
	promqlGrouping = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true,
		"group_left": true, "group_right": true}
)

// selectors lists the series selectors of a PromQL expression (Grafana
// variables such as $job and $__rate_interval allowed). It is a scanner,
// not a parser: enough to check that dashboards and rules name metrics
// and labels that exist.
func selectors(expr string) ([]selector, error) {
	var out []selector
	var prev string // previous identifier or keyword, "" after punctuation
	i := 0
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			end, err := skipString(expr, i)
			if err != nil {
				return nil, err
			}
			i, prev = end, ""
		case c == '$':
			i++
			if i < len(expr) && expr[i] == '{' {
				end := strings.IndexByte(expr[i:], '}')
				if end < 0 {
					return nil, fmt.Errorf("scanning %q: unterminated ${ at %d", expr, i)
				}
				i += end + 1
			} else {
				for i < len(expr) && isIdentChar(expr[i]) {
					i++
				}
			}
			prev = ""
		case c == '{':
			labels, end, err := scanMatchers(expr, i)
			if err != nil {
				return nil, err
			}
			if prev != "" && !promqlKeywords[prev] && !promqlAggregations[prev] && len(out) > 0 && out[len(out)-1].Metric == prev && out[len(out)-1].Labels == nil {
				out[len(out)-1].Labels = labels
			} else {
				out = append(out, selector{Labels: labels})
			}
			i, prev = end, ""
		case c == '[':
			end := strings.IndexByte(expr[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("scanning %q: unterminated [ at %d", expr, i)
			}
			i, prev = i+end+1, ""
		case c == '(':
			if promqlGrouping[prev] {
				end := strings.IndexByte(expr[i:], ')')
				if end < 0 {
					return nil, fmt.Errorf("scanning %q: unterminated label list at %d", expr, i)
				}
				i += end + 1
			} else {
				i++
			}
			prev = ""
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(expr) && expr[i+1] >= '0' && expr[i+1] <= '9':
			for i < len(expr) && (isIdentChar(expr[i]) || expr[i] == '.') {
				i++
			}
			prev = ""
		case isIdentStart(c):
			start := i
			for i < len(expr) && isIdentChar(expr[i]) {
				i++
			}
			word := expr[start:i]
			j := i
			for j < len(expr) && (expr[j] == ' ' || expr[j] == '\t' || expr[j] == '\n') {
				j++
			}
			isCall := j < len(expr) && expr[j] == '('
			if !promqlKeywords[strings.ToLower(word)] && !promqlAggregations[strings.ToLower(word)] && !isCall {
				out = append(out, selector{Metric: word})
			}
			prev = strings.ToLower(word)
			if !promqlKeywords[prev] && !promqlAggregations[prev] && !isCall {
				prev = word
			}
		default:
			i, prev = i+1, ""
		}
	}
	return out, nil
}

// scanMatchers reads the label names of a {…} matcher list starting at
// expr[i] == '{' and returns them with the index after the '}'.
func scanMatchers(expr string, i int) ([]string, int, error) {
	labels := []string{}
	i++
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == '}':
			return labels, i + 1, nil
		case c == '"' || c == '\'' || c == '`':
			end, err := skipString(expr, i)
			if err != nil {
				return nil, 0, err
			}
			i = end
		case c == '$':
			i++
			for i < len(expr) && (isIdentChar(expr[i]) || expr[i] == '{' || expr[i] == '}') && expr[i] != '}' {
				i++
			}
		case isIdentStart(c):
			start := i
			for i < len(expr) && isIdentChar(expr[i]) {
				i++
			}
			labels = append(labels, expr[start:i])
		default:
			i++
		}
	}
	return nil, 0, fmt.Errorf("scanning %q: unterminated { matcher list", expr)
}

func skipString(expr string, i int) (int, error) {
	q := expr[i]
	for j := i + 1; j < len(expr); j++ {
		if expr[j] == '\\' && q != '`' {
			j++
			continue
		}
		if expr[j] == q {
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("scanning %q: unterminated string at %d", expr, i)
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func TestSelectors(t *testing.T) {
	tests := []struct {
		name        string
		expr        string
		want        []selector
		errContains string
	}{
		{name: "bare", expr: "up", want: []selector{{Metric: "up"}}},
		{name: "matchers", expr: `up{job="lettrage", instance=~"a.*"} == 0`,
			want: []selector{{Metric: "up", Labels: []string{"job", "instance"}}}},
		{name: "aggregation with grouping", expr: `sum by (currency, account) (lettrage_unmatched_amount{job=~"$job"})`,
			want: []selector{{Metric: "lettrage_unmatched_amount", Labels: []string{"job"}}}},
		{name: "aggregation grouping after", expr: `sum(rate(lettrage_decisions_total[$__rate_interval])) without (rule)`,
			want: []selector{{Metric: "lettrage_decisions_total"}}},
		{name: "functions and vector matching", expr: "time() - lettrage_last_success_timestamp_seconds > 3 * 3600\nor on(instance, job) group_left() absent(up)",
			want: []selector{{Metric: "lettrage_last_success_timestamp_seconds"}, {Metric: "up"}}},
		{name: "offset and durations", expr: `x unless x offset 1h30m and on() hour() >= 12`,
			want: []selector{{Metric: "x"}, {Metric: "x"}}},
		{name: "histogram_quantile", expr: `histogram_quantile(0.95, sum by (le) (rate(lettrage_run_duration_seconds_bucket{job=~"${job}"}[5m])))`,
			want: []selector{{Metric: "lettrage_run_duration_seconds_bucket", Labels: []string{"job"}}}},
		{name: "recording rule name", expr: `a > on(currency) group_left() lettrage:unmatched_amount_threshold`,
			want: []selector{{Metric: "a"}, {Metric: "lettrage:unmatched_amount_threshold"}}},
		{name: "string with braces", expr: `label_replace(up, "x", "{a}", "", "")`,
			want: []selector{{Metric: "up"}}},
		{name: "nameless selector", expr: `{__name__="up"}`,
			want: []selector{{Labels: []string{"__name__"}}}},
		{name: "scientific numbers", expr: `up > 1e3`, want: []selector{{Metric: "up"}}},
		{name: "unterminated string", expr: `up{job="x}`, errContains: "unterminated"},
		{name: "unterminated matchers", expr: `up{job="x"`, errContains: "unterminated { matcher list"},
		{name: "unterminated range", expr: `rate(x[5m)`, errContains: "unterminated ["},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := selectors(tt.expr)
			if tt.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errContains) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.errContains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tt.want, func(a, b selector) bool {
				return a.Metric == b.Metric && slices.Equal(a.Labels, b.Labels)
			}) {
				t.Errorf("selectors(%q) = %+v, want %+v", tt.expr, got, tt.want)
			}
		})
	}
}

func FuzzSelectors(f *testing.F) {
	for _, s := range []string{"up", `sum by (a) (rate(x{a="b"}[5m]))`, `x offset 1h`, `{__name__="x"}`, `$a ${b} "c`, "{", "[", "("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		sels, err := selectors(expr)
		if err != nil {
			return
		}
		for _, s := range sels {
			if s.Metric != "" && !strings.Contains(expr, s.Metric) {
				t.Fatalf("metric %q is not in %q", s.Metric, expr)
			}
			for _, l := range s.Labels {
				if !strings.Contains(expr, l) {
					t.Fatalf("label %q is not in %q", l, expr)
				}
			}
		}
	})
}
