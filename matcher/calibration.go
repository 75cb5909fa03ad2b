package matcher

import (
	"fmt"
	"math"

	"github.com/lettrage/lettrage/domain"
)

// Calibration.
//
// Every decision that proposes something is made in a situation: the rule
// that fired and what it saw (a reference with the exact amount, a payer
// known by IBAN with one open item of the amount, a combination chosen as
// the oldest…). Its Confidence is the share of right decisions measured in
// that situation on generated benchmark data (internal/gen, seeds 100–119
// of 4,000 transactions; the quality tests use seeds 1 and 2, held out), so
// that decisions at confidence c are right about c of the time:
//
//   - an automatic decision is right when its allocations are those of the
//     ground truth, items interchangeable when they are open items of one
//     customer with the same residual (the quality test's definition);
//   - a suggestion is right when its first candidate is an item the truth
//     allocates cash to (or one interchangeable with it): the confidence is
//     the chance that the accountant's answer is the top proposal;
//   - unmatched and ignored decisions propose nothing: confidence 0, not
//     counted.
//
// The estimate is the posterior mean under a Beta prior of strength
// priorStrength centred on the situation's prior (the confidence the engine
// used before it was measured, an expert's guess):
//
//	confidence = (right + priorStrength·prior) / (n + priorStrength)
//
// rounded to 2 decimals and kept within [0.01, 0.99] (no decision is
// certain, and one that proposes something is never worth exactly 0), so a
// situation seen thousands of times gets its observed accuracy and one the
// benchmark never produces keeps its prior. Policy situations are not
// measured: the benchmark's truth follows the same policy (oldest due
// first among interchangeable items), so their accuracy there is 100 % by
// construction and says nothing; they keep their declared, lower
// confidence.
//
// Automatic situations are measured with the automatic threshold at 0, so
// that a situation's confidence does not depend on the threshold it is
// compared with: Config.AutoThreshold letters a decision when its measured
// accuracy reaches the threshold. Suggestion situations are measured with
// the generator's configuration.
//
// To re-measure after changing a rule or the generator:
//
//	go test ./matcher -run TestCalibrate -calibrate -v          # print
//	go test ./matcher -run TestCalibrate -calibrate -update -v  # rewrite calibration_table.go
//
// and check the held-out reliability table (TestCalibrationHeldOut -v).

// priorStrength is the weight, in decisions, of a situation's prior.
const priorStrength = 10

// Situations of automatic decisions (rule/what it saw).
const (
	sitRefExact     = "reference/exact"      // valid reference(s), amount = residual(s)
	sitRefWriteOff  = "reference/writeoff"   // valid reference, amount within tolerance below
	sitRefPartial   = "reference/partial"    // valid reference, amount below
	sitRefOver      = "reference/over"       // valid reference, amount above
	sitRefNamed     = "reference/with_named" // valid reference plus documents named, sum exact
	sitRefOtherPaid = "reference/other_payer"

	sitDocExact       = "document/exact"       // one document named, amount = residual
	sitDocExactMulti  = "document/exact_multi" // several named, sum = amount
	sitDocSubset      = "document/subset"      // the only subset of those named that sums
	sitDocWriteOff    = "document/writeoff"    // named, amount within tolerance below
	sitDocPartial     = "document/partial"     // named, payer owns them, amount below
	sitDocOver        = "document/over"        // named, payer owns them, amount above, no other open item
	sitDocRest        = "document/unnamed_rest"
	sitDocRestOldest  = "document/unnamed_rest_oldest" // policy
	sitDocOtherPayer  = "document/other_payer"
	sitPayerIBAN      = "payer_amount/iban" // one open item of the amount
	sitPayerLearned   = "payer_amount/iban_learned"
	sitPayerNameEqual = "payer_amount/name_equal"
	sitPayerNameLike  = "payer_amount/name_similar"
	sitSameTypo       = "payer_same_amount/typo"   // several of the amount, a typo'd number picks one
	sitSameOldest     = "payer_same_amount/oldest" // policy
	sitTolerance      = "payer_tolerance/single"   // payer known by IBAN or equal name
	sitToleranceLike  = "payer_tolerance/name_similar"
	sitToleranceOld   = "payer_tolerance/oldest" // policy
	sitComboOnly      = "payer_combination/only"
	sitComboText      = "payer_combination/text"
	sitComboEqual     = "payer_combination/oldest_equal" // policy: equal amounts, oldest items
	sitComboOldest    = "payer_combination/oldest"       // policy: different amounts, oldest items
	sitPayerTextOther = "payer/text_names_other"         // any payer rule, but the text names another document
	sitTypo           = "document_typo/single"
	sitTypoOtherPayer = "document_typo/other_payer"
	sitCut            = "document_cut/single"
	sitCutOtherPayer  = "document_cut/other_payer"

	sitRemitExact         = "remittance/exact"         // the payer's split adds up to the cash
	sitRemitWriteOff      = "remittance/writeoff"      // …less bank charges within tolerance
	sitRemitOver          = "remittance/over"          // …and more cash than the split or the residuals
	sitRemitOtherPayer    = "remittance/other_payer"   // paid from an account of another customer
	sitDocOverOpen        = "document/over_other_open" // named by its customer, overpaid while it has other open items
	sitDigits             = "document/digits"          // number without prefix and zeros, one open item of the amount
	sitDigitsOtherPayer   = "document/digits_other_payer"
	sitDuplicateOnAccount = "duplicate/on_account" // policy: a settled invoice paid again, cash on the customer's account
)

// suggestedPrefix starts the situation of a suggestion: suggested/<Reason>.
const suggestedPrefix = "suggested/"

// calibration is one row of calibrationTable.
type calibration struct {
	// Prior is the confidence before measurement: the Beta prior's mean,
	// and the confidence itself for policy rows and rows never observed.
	Prior float64
	// Policy rows are not measured (see the package's calibration notes).
	Policy bool
	// Learns: automatic decisions in this situation teach payer facts.
	Learns bool
	// N and Right count the decisions and the right ones on the
	// calibration seeds.
	N, Right int
	// Confidence is what decisions in this situation report.
	Confidence float64
}

// estimate returns the calibrated confidence of a row from its counts.
func (c calibration) estimate() float64 {
	if c.Policy {
		return c.Prior
	}
	p := (float64(c.Right) + priorStrength*c.Prior) / (float64(c.N) + priorStrength)
	p = math.Round(p*100) / 100
	return math.Min(0.99, math.Max(0.01, p))
}

// confidenceOf returns the calibrated confidence of a situation. An unknown
// situation is a programming error caught by the tests.
func confidenceOf(sit string) float64 {
	c, ok := calibrationTable[sit]
	if !ok {
		panic(fmt.Sprintf("matcher: situation %q has no calibration row", sit))
	}
	return c.Confidence
}

// suggestedSituation is the situation of a suggestion with reason.
func suggestedSituation(reason string) string {
	sit := suggestedPrefix + reason
	if _, ok := calibrationTable[sit]; !ok {
		return suggestedPrefix + "other"
	}
	return sit
}

// decide runs the rules (decideRules) and sets the confidence of what they
// decided: automatic decisions carry their situation's from the rule that
// made them (the threshold was compared with it); a suggestion gets its
// reason's; unmatched and ignored decisions propose nothing and get 0.
func (e *engine) decide(tx *domain.Transaction, ev *evidence) domain.Decision {
	d := e.decideRules(tx, ev)
	switch d.Outcome {
	case domain.Suggested:
		d.Situation = suggestedSituation(d.Reason)
		d.Confidence = confidenceOf(d.Situation)
	case domain.Unmatched, domain.Ignored:
		d.Situation, d.Confidence = "", 0
	}
	return d
}

// learnsFrom reports whether an automatic decision teaches payer facts:
// those of its situation's row (references and documents that name the
// items outright, paid by nobody known as another customer).
func learnsFrom(d domain.Decision) bool {
	c, ok := calibrationTable[d.Situation]
	return ok && c.Learns && d.Outcome == domain.Auto
}
