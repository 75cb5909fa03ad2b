package main

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/lettrage/lettrage/config"
	_ "github.com/lettrage/lettrage/connectors/all"
	"github.com/lettrage/lettrage/internal/gen"
)

// TestJobConfigLoads checks that the lettrage.yaml gen writes is a valid
// configuration whose matching settings are the ones the data was
// generated for (the bank-charge tolerance, the USD→EUR FX rule).
func TestJobConfigLoads(t *testing.T) {
	dir := t.TempDir()
	if code := run([]string{"gen", "--seed", "4", "--n", "200", "--out", dir}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("gen exit %d", code)
	}
	cfg, err := config.Load(filepath.Join(dir, "lettrage.yaml"))
	if err != nil {
		t.Fatalf("loading the generated configuration: %v", err)
	}
	if len(cfg.Jobs) != 1 {
		t.Fatalf("%d jobs, want 1", len(cfg.Jobs))
	}
	got, want := cfg.Jobs[0].Matching.MatcherConfig(), gen.Generate(4, 200).Config
	if got.AutoThreshold != want.AutoThreshold || got.SameAmount != want.SameAmount || got.MaxCombination != want.MaxCombination {
		t.Errorf("matching %+v, want %+v", got, want)
	}
	if len(got.Tolerances) != len(want.Tolerances) || len(want.Tolerances) == 0 {
		t.Fatalf("tolerances %v, want %v", got.Tolerances, want.Tolerances)
	}
	for i, w := range want.Tolerances {
		g := got.Tolerances[i]
		if g.Currency != w.Currency || !g.Absolute.Equal(w.Absolute) || !g.Percent.Equal(w.Percent) {
			t.Errorf("tolerance %d: %+v, want %+v", i, g, w)
		}
	}
	if len(got.FX) != len(want.FX) || len(want.FX) == 0 {
		t.Fatalf("fx %v, want %v", got.FX, want.FX)
	}
	for i, w := range want.FX {
		g := got.FX[i]
		if g.ItemCurrency != w.ItemCurrency || g.CashCurrency != w.CashCurrency || !g.TolerancePercent.Equal(w.TolerancePercent) {
			t.Errorf("fx %d: %+v, want %+v", i, g, w)
		}
	}
}
