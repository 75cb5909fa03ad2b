package matcher

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"sort"

	"github.com/lettrage/lettrage/domain"
)

// Situation returns the calibration situation of a decision ("" when it
// proposes nothing).
func Situation(d domain.Decision) string { return d.Situation }

// CalibrationRows returns a copy of the calibration table.
func CalibrationRows() map[string]calibration {
	out := make(map[string]calibration, len(calibrationTable))
	for k, v := range calibrationTable {
		out[k] = v
	}
	return out
}

// SetCalibrationRows replaces the calibration table (for a measurement run)
// and returns a function that restores it.
func SetCalibrationRows(rows map[string]calibration) (restore func()) {
	old := calibrationTable
	calibrationTable = rows
	return func() { calibrationTable = old }
}

// Measured returns row with counts n and right and the confidence they
// give.
func Measured(row calibration, n, right int) calibration {
	row.N, row.Right = n, right
	row.Confidence = row.estimate()
	return row
}

// Estimate is the confidence a row's counts give.
func Estimate(row calibration) float64 { return row.estimate() }

// WriteCalibrationTable writes rows as calibration_table.go at path.
func WriteCalibrationTable(path string, rows map[string]calibration, measuredOn string) error {
	names := make([]string, 0, len(rows))
	for k := range rows {
		names = append(names, k)
	}
	sort.Strings(names)
	var b bytes.Buffer
	fmt.Fprintf(&b, `package matcher

// calibrationTable holds, per situation, the prior confidence, whether it is
// a policy (not measured) and whether it teaches payer facts — edited by
// hand — and the counts measured on the calibration seeds with the
// confidence they give (see calibration.go) — rewritten by
//
//	go test ./matcher -run TestCalibrate -calibrate -update
//
// Measured on: %s.
// A new situation is added by hand with its prior and N, Right 0.
var calibrationTable = map[string]calibration{
`, measuredOn)
	for _, k := range names {
		r := rows[k]
		fmt.Fprintf(&b, "\t%q: {Prior: %.2f", k, r.Prior)
		if r.Policy {
			b.WriteString(", Policy: true")
		}
		if r.Learns {
			b.WriteString(", Learns: true")
		}
		fmt.Fprintf(&b, ", N: %d, Right: %d, Confidence: %.2f},", r.N, r.Right, r.Confidence)
		if r.N > 0 {
			fmt.Fprintf(&b, " // observed %.4f", float64(r.Right)/float64(r.N))
		}
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return fmt.Errorf("formatting the calibration table: %w", err)
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		return fmt.Errorf("writing the calibration table %q: %w", path, err)
	}
	return nil
}
