package pipeline

import (
	"strings"
	"testing"
	"time"
)

// TestMetricsUseTheirOwnJobLabel: every lettrage_* series names the
// lettering job with lettrage_job, never job (Prometheus's target label,
// which a standard scrape would rename ours to exported_job).
func TestMetricsUseTheirOwnJobLabel(t *testing.T) {
	m := NewMetrics("test")
	m.InitJob("bank-a", "local")
	m.ledgerWrite("bank-a", time.Second, nil)
	m.held("bank-a", 0)
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "lettrage_") || f.GetName() == "lettrage_build_info" {
			continue
		}
		for _, mt := range f.GetMetric() {
			has := false
			for _, l := range mt.GetLabel() {
				if l.GetName() == "job" {
					t.Errorf("%s carries a job label", f.GetName())
				}
				if l.GetName() == JobLabel {
					has = l.GetValue() == "bank-a"
				}
			}
			if !has {
				t.Errorf("%s: no %s=\"bank-a\" label: %v", f.GetName(), JobLabel, mt.GetLabel())
			}
			seen++
		}
	}
	if seen < 5 {
		t.Fatalf("only %d lettrage_* series gathered", seen)
	}
}

func TestLedgerWriteBucketsCoverTheTimeouts(t *testing.T) {
	m := NewMetrics("test")
	m.ledgerWrite("j", 59*time.Second, nil)
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "lettrage_ledger_write_duration_seconds" {
			continue
		}
		h := f.GetMetric()[0].GetHistogram()
		var top float64
		for _, b := range h.GetBucket() {
			top = b.GetUpperBound()
			if top >= 60 && b.GetCumulativeCount() != 1 {
				t.Errorf("a 59 s write is not under the %g s bucket", top)
			}
			if top < 59 && b.GetCumulativeCount() != 0 {
				t.Errorf("a 59 s write counted under %g s", top)
			}
		}
		if top < 60 {
			t.Errorf("largest finite bucket %g s, want at least the 60 s ledger timeout", top)
		}
		return
	}
	t.Fatal("lettrage_ledger_write_duration_seconds not gathered")
}

func TestBuildInfoCarriesTheRevision(t *testing.T) {
	m := NewMetrics("v1.2.3")
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "lettrage_build_info" {
			continue
		}
		labels := map[string]string{}
		for _, l := range f.GetMetric()[0].GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["version"] != "v1.2.3" || labels["revision"] == "" || labels["goversion"] == "" {
			t.Errorf("lettrage_build_info labels %v: want version v1.2.3, a revision and the Go version", labels)
		}
		return
	}
	t.Fatal("lettrage_build_info not gathered")
}

func TestReadBuildVersion(t *testing.T) {
	if got := ReadBuild("v2.0.0").Version; got != "v2.0.0" {
		t.Errorf("a stamped version: %q, want v2.0.0", got)
	}
	// A test binary has no module version: "dev" stays.
	if got := ReadBuild("dev").Version; got != "dev" {
		t.Errorf("unstamped: %q, want dev", got)
	}
	if got := ReadBuild("").Version; got == "" {
		t.Error("an empty stamp gives an empty version")
	}
}
