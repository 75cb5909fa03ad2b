package matcher_test

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/gen"
	"github.com/lettrage/lettrage/matcher"
)

var (
	calibrateFlag = flag.Bool("calibrate", false, "TestCalibrate: measure the calibration table on the calibration seeds")
	updateFlag    = flag.Bool("update", false, "with -calibrate: rewrite calibration_table.go")
)

// Calibration seeds and size: disjoint from the held-out seeds (1 and 2)
// of TestBenchmarkQuality and TestCalibrationHeldOut.
const (
	calibrationFirstSeed = 100
	calibrationSeeds     = 20
	calibrationN         = 4000
	// the remittance profile (issue 14): seeds 200–219
	remittanceFirstSeed = 200
)

// Held-out calibration targets. On the held-out seeds about 3,600 decisions
// propose something, 96 % of them automatic in situations measured 100 %
// right and reported at the 0.99 cap: that cap alone costs an ECE of
// ≈ 0.0096; the oldest-due policies held at 0.91 add ≈ 0.002 and the
// suggestions ≈ 0.001, so a calibrated table gives ≈ 0.012. 0.03 is 2.5
// times that: it still fails a table that is off by 0.07 on half of the
// decisions, or the former hand-set constants (ECE 0.04). A bin of 50
// decisions or more may be off by 0.05 plus two standard errors of its
// accuracy (sampling noise: 0.07 at p = 0.5 and n = 50).
const (
	maxECE    = 0.03
	maxBinGap = 0.05
	minBinN   = 50
)

// topRight reports whether a suggestion's first candidate is an item the
// truth allocates cash to, or one interchangeable with it (same customer,
// currency and residual). A payment no automatic letter may settle (two
// customers nothing tells apart) still has the item the payer meant.
func topRight(items map[string]domain.OpenItem, t gen.Truth, d domain.Decision) bool {
	if len(t.Allocations) == 0 || len(d.Candidates) == 0 {
		return false
	}
	c, ok := items[d.Candidates[0].ItemID]
	if !ok {
		return false
	}
	for id := range t.Allocations {
		o := items[id]
		if id == c.ID || o.CustomerID == c.CustomerID && o.Currency == c.Currency && o.Residual.Equal(c.Residual) {
			return true
		}
	}
	return false
}

// judged is one decision that proposes something, with its verdict.
type judged struct {
	situation string
	conf      float64
	right     bool
}

// judge runs Match on a generated dataset and returns every automatic or
// suggested decision with whether it is right.
func judge(seed uint64, n int, autoThreshold *float64) []judged {
	return judgeProfile(seed, n, autoThreshold, gen.ProfileClassic)
}

// judgeProfile is judge on a profile of the generator.
func judgeProfile(seed uint64, n int, autoThreshold *float64, profile string) []judged {
	ds := gen.GenerateWith(seed, n, gen.Options{Profile: profile})
	cfg := ds.Config
	if autoThreshold != nil {
		cfg.AutoThreshold = *autoThreshold
	}
	out := matcher.Match(matcher.Input{Transactions: ds.Transactions, Items: ds.Items, Memory: ds.Memory, Config: cfg})
	items := make(map[string]domain.OpenItem, len(ds.Items))
	for _, it := range ds.Items {
		items[it.ID] = it
	}
	var js []judged
	for i, d := range out.Decisions {
		switch d.Outcome {
		case domain.Auto:
			js = append(js, judged{matcher.Situation(d), d.Confidence, isRight(items, ds.Truth[i], d)})
		case domain.Suggested:
			js = append(js, judged{matcher.Situation(d), d.Confidence, topRight(items, ds.Truth[i], d)})
		}
	}
	return js
}

type tally struct {
	n, right int
	conf     float64
}

func (t *tally) add(j judged) {
	t.n++
	t.conf += j.conf
	if j.right {
		t.right++
	}
}

func (t *tally) accuracy() float64 { return float64(t.right) / float64(t.n) }

func isSuggested(sit string) bool { return strings.HasPrefix(sit, "suggested/") }

// TestCalibrate measures the calibration table on the calibration seeds
// (-calibrate; -update rewrites calibration_table.go). Automatic situations
// are measured with the automatic threshold at 0, so that every rule's
// proposal counts whatever its current confidence; suggestions are
// measured with the generator's configuration and the new automatic rows.
func TestCalibrate(t *testing.T) {
	if !*calibrateFlag {
		t.Skip("measures the calibration table: run with -calibrate (and -update to rewrite it)")
	}
	rows := matcher.CalibrationRows()
	measure := func(threshold *float64, suggested bool) map[string]*tally {
		per := map[string]*tally{}
		for s := range calibrationSeeds {
			for _, p := range []struct {
				first   uint64
				profile string
			}{{calibrationFirstSeed, gen.ProfileClassic}, {remittanceFirstSeed, gen.ProfileRemittance}} {
				for _, j := range judgeProfile(p.first+uint64(s), calibrationN, threshold, p.profile) {
					if isSuggested(j.situation) != suggested {
						continue
					}
					if per[j.situation] == nil {
						per[j.situation] = &tally{}
					}
					per[j.situation].add(j)
				}
			}
		}
		return per
	}
	old := matcher.CalibrationRows()
	zero := 0.0
	auto := measure(&zero, false)
	for k, r := range rows {
		if !isSuggested(k) {
			c := auto[k]
			if c == nil {
				c = &tally{}
			}
			rows[k] = matcher.Measured(r, c.n, c.right)
		}
	}
	restore := matcher.SetCalibrationRows(rows)
	sugg := measure(nil, true)
	restore()
	for k, r := range rows {
		if isSuggested(k) {
			c := sugg[k]
			if c == nil {
				c = &tally{}
			}
			rows[k] = matcher.Measured(r, c.n, c.right)
		}
	}
	for k := range auto {
		if _, ok := rows[k]; !ok {
			t.Errorf("situation %q measured but not in the table", k)
		}
	}
	names := make([]string, 0, len(rows))
	for k := range rows {
		names = append(names, k)
	}
	sort.Strings(names)
	t.Logf("seeds %d–%d (classic) and %d–%d (remittance) × %d transactions", calibrationFirstSeed,
		calibrationFirstSeed+calibrationSeeds-1, remittanceFirstSeed, remittanceFirstSeed+calibrationSeeds-1, calibrationN)
	t.Logf("| situation | prior | n | right | observed | confidence (was) |")
	t.Logf("|---|---|---|---|---|---|")
	for _, k := range names {
		r := rows[k]
		obs := "—"
		if r.N > 0 {
			obs = fmt.Sprintf("%.2f %%", 100*float64(r.Right)/float64(r.N))
		}
		note := ""
		if r.Policy {
			note = " (policy)"
		}
		t.Logf("| %s%s | %.2f | %d | %d | %s | %.2f (%.2f) |", k, note, r.Prior, r.N, r.Right, obs, r.Confidence, old[k].Confidence)
	}
	if *updateFlag {
		on := fmt.Sprintf("internal/gen seeds %d–%d (classic profile) and %d–%d (remittance profile) × %d transactions",
			calibrationFirstSeed, calibrationFirstSeed+calibrationSeeds-1, remittanceFirstSeed, remittanceFirstSeed+calibrationSeeds-1, calibrationN)
		if err := matcher.WriteCalibrationTable("calibration_table.go", rows, on); err != nil {
			t.Fatal(err)
		}
		t.Logf("calibration_table.go rewritten")
	}
}

// situationConstants parses calibration.go for the situation constants
// (sit…) and returns their values.
func situationConstants(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "calibration.go", nil, 0)
	if err != nil {
		t.Fatalf("parsing calibration.go: %v", err)
	}
	var out []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "sit") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("situation %s is not a string literal", name.Name)
				}
				v, _ := strconv.Unquote(lit.Value)
				out = append(out, v)
			}
		}
	}
	return out
}

// TestCalibrationTable checks the table itself: every situation the rules
// use has a row, every confidence is what its counts give, priors are
// probabilities, and only references and documents that name the items
// teach payer facts.
func TestCalibrationTable(t *testing.T) {
	rows := matcher.CalibrationRows()
	sits := situationConstants(t)
	if len(sits) < 20 {
		t.Fatalf("found only %d situation constants in calibration.go", len(sits))
	}
	for _, s := range sits {
		if _, ok := rows[s]; !ok {
			t.Errorf("situation %q has no row", s)
		}
	}
	if _, ok := rows["suggested/other"]; !ok {
		t.Error("no row for suggested/other")
	}
	for k, r := range rows {
		if r.Prior <= 0 || r.Prior >= 1 {
			t.Errorf("%s: prior %v outside (0,1)", k, r.Prior)
		}
		if r.Right > r.N || r.Right < 0 {
			t.Errorf("%s: %d right of %d", k, r.Right, r.N)
		}
		if e := matcher.Estimate(r); math.Abs(e-r.Confidence) > 1e-9 {
			t.Errorf("%s: confidence %.2f, its counts give %.2f (re-run TestCalibrate -calibrate -update)", k, r.Confidence, e)
		}
		if r.Confidence < 0.01 || r.Confidence > 0.99 {
			t.Errorf("%s: confidence %v outside [0.01, 0.99]", k, r.Confidence)
		}
		if r.Learns && !strings.HasPrefix(k, "reference/") && !strings.HasPrefix(k, "document/") && !strings.HasPrefix(k, "remittance/") {
			t.Errorf("%s learns payer facts: only references and documents (as such or in a remittance split) may", k)
		}
		if r.Learns && (strings.HasSuffix(k, "other_payer") || r.Policy) {
			t.Errorf("%s learns payer facts from a third party or a policy choice", k)
		}
	}
	// an oldest-due choice is less sure than what the data singles out,
	// and a choice among different amounts less than among equal ones
	for k, r := range rows {
		if !r.Policy {
			continue
		}
		for m, o := range rows {
			if !o.Policy && !isSuggested(m) && o.N >= 100 && r.Confidence >= o.Confidence {
				t.Errorf("policy %s at %.2f is not below measured %s at %.2f", k, r.Confidence, m, o.Confidence)
			}
		}
	}
	if a, b := rows["payer_combination/oldest"], rows["payer_combination/oldest_equal"]; a.Confidence > b.Confidence {
		t.Errorf("oldest of different amounts at %.2f above oldest of equal amounts at %.2f", a.Confidence, b.Confidence)
	}
}

// bins are the reliability bins: tenths, with the top tenth split where
// the automatic decisions are.
var bins = []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0000001}

// TestCalibrationHeldOut checks, on the held-out seeds 1 and 2, that the
// confidences are calibrated: a reliability table (per bin of confidence,
// the decisions, their mean confidence and the share right), the expected
// calibration error ECE = Σ n_bin/N · |accuracy − mean confidence| ≤ 0.03,
// and no bin of 50 or more decisions off by more than 0.05 plus two
// standard errors. -v prints the tables.
func TestCalibrationHeldOut(t *testing.T) {
	n := 4000
	if v := os.Getenv("LETTRAGE_QUALITY_N"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil {
			t.Fatalf("LETTRAGE_QUALITY_N=%q: %v", v, err)
		}
	}
	for _, run := range []struct {
		seed    uint64
		profile string
	}{{1, gen.ProfileClassic}, {2, gen.ProfileClassic}, {1, gen.ProfileRemittance}, {2, gen.ProfileRemittance}} {
		seed := run.seed
		js := judgeProfile(seed, n, nil, run.profile)
		t.Logf("profile %s", run.profile)
		perBin := make([]tally, len(bins)-1)
		perSit := map[string]*tally{}
		for _, j := range js {
			for b := range perBin {
				if j.conf >= bins[b] && j.conf < bins[b+1] {
					perBin[b].add(j)
					break
				}
			}
			if perSit[j.situation] == nil {
				perSit[j.situation] = &tally{}
			}
			perSit[j.situation].add(j)
		}
		ece, total := 0.0, 0
		t.Logf("seed %d: reliability (automatic and suggested decisions)", seed)
		t.Logf("| confidence | n | mean confidence | right |")
		t.Logf("|---|---|---|---|")
		for b, c := range perBin {
			if c.n == 0 {
				continue
			}
			mean, acc := c.conf/float64(c.n), c.accuracy()
			gap := math.Abs(acc - mean)
			ece += float64(c.n) * gap
			total += c.n
			t.Logf("| [%.2f, %.2f) | %d | %.3f | %.2f %% |", bins[b], math.Min(1, bins[b+1]), c.n, mean, 100*acc)
			se := math.Sqrt(mean * (1 - mean) / float64(c.n))
			if c.n >= minBinN && gap > maxBinGap+2*se {
				t.Errorf("seed %d: bin [%.2f, %.2f): %d decisions at mean confidence %.3f are right %.3f of the time",
					seed, bins[b], bins[b+1], c.n, mean, acc)
			}
		}
		if total == 0 {
			t.Fatalf("seed %d: no decision proposes anything", seed)
		}
		ece /= float64(total)
		t.Logf("seed %d: ECE %.4f over %d decisions", seed, ece, total)
		if ece > maxECE {
			t.Errorf("seed %d: expected calibration error %.4f > %.2f", seed, ece, maxECE)
		}
		names := make([]string, 0, len(perSit))
		for k := range perSit {
			names = append(names, k)
		}
		sort.Strings(names)
		t.Logf("| situation | n | confidence | right |")
		t.Logf("|---|---|---|---|")
		for _, k := range names {
			c := perSit[k]
			t.Logf("| %s | %d | %.2f | %.2f %% |", k, c.n, c.conf/float64(c.n), 100*c.accuracy())
		}
	}
}
