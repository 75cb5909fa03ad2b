package config

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/robfig/cron/v3"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
)

// Problem is one thing wrong with a configuration, at a field path such as
// jobs[0].source.local.dir. Line is the line in the file (0 when unknown).
type Problem struct {
	Path string
	Msg  string
	Line int
}

func (p Problem) String() string {
	s := p.Msg
	if p.Path != "" {
		s = p.Path + ": " + p.Msg
	}
	if p.Line > 0 {
		s += fmt.Sprintf(" (line %d)", p.Line)
	}
	return s
}

// maxListed bounds the problems Error lists; Problems holds them all.
const maxListed = 50

// ValidationError lists every problem found in a configuration.
type ValidationError struct {
	Problems []Problem
}

// Error lists the problems, one per line.
func (e *ValidationError) Error() string {
	var lines []string
	for i, p := range e.Problems {
		if i == maxListed {
			lines = append(lines, fmt.Sprintf("… and %d more problems", len(e.Problems)-maxListed))
			break
		}
		lines = append(lines, p.String())
	}
	return strings.Join(lines, "\n")
}

const everyPrefix = "@every "

var jobName = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// cronParser is the parser gocron uses for 5-field expressions, so that
// what passes here is also accepted by the scheduler.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

type problems []Problem

func (ps *problems) add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// addJoined adds the problems of a connector's Validate, whose joined
// errors each start with the YAML key ("dir: required").
func (ps *problems) addJoined(path string, err error) {
	if err == nil {
		return
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		key, msg, ok := strings.Cut(e.Error(), ": ")
		if ok && !strings.ContainsAny(key, " \"") {
			ps.add(join(path, key), "%s", msg)
		} else {
			ps.add(path, "%s", e.Error())
		}
	}
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func validate(c *Config) []Problem {
	var ps problems
	validateProcess(&ps, c)
	if len(c.Jobs) == 0 {
		ps.add("jobs", "at least one job required")
	}
	names := map[string]int{}
	for i := range c.Jobs {
		p := fmt.Sprintf("jobs[%d]", i)
		validateJob(&ps, p, &c.Jobs[i], i, names)
		validateJobLists(&ps, p, &c.Jobs[i])
	}
	return ps
}

// validateProcess checks what is not a job's: logging, the HTTP server and
// the state store.
func validateProcess(ps *problems, c *Config) {
	if !oneOf(c.Log.Level, "debug", "info", "warn", "error") {
		ps.add("log.level", "unknown level %q (want debug, info, warn or error)", c.Log.Level)
	}
	if !oneOf(c.Log.Format, "text", "json") {
		ps.add("log.format", "unknown format %q (want text or json)", c.Log.Format)
	}
	if c.HTTP.Listen != "" {
		if err := checkListen(c.HTTP.Listen); err != nil {
			ps.add("http.listen", "%v", err)
		}
	}
	switch c.State.Driver {
	case "sqlite":
		if c.State.SQLite.Path == "" {
			ps.add("state.sqlite.path", "required")
		}
	case "postgres":
		if c.State.Postgres.DSN == "" {
			ps.add("state.postgres.dsn", "required (or dsn_file)")
		}
	default:
		ps.add("state.driver", "unknown driver %q (want sqlite or postgres)", c.State.Driver)
	}
	if c.State.PersonalDataDays < 0 {
		ps.add("state.personal_data_days", "must be 0 (keep) or a number of days")
	}
}

// validateJob checks job i (at path p) but its lists; names holds the job
// names seen so far, with their index.
func validateJob(ps *problems, p string, j *Job, i int, names map[string]int) {
	switch {
	case j.Name == "":
		ps.add(p+".name", "required")
	case !jobName.MatchString(j.Name):
		ps.add(p+".name", "invalid job name %q (want 1 to 64 of a-z, 0-9, _ and -)", j.Name)
	default:
		if first, dup := names[j.Name]; dup {
			ps.add(p+".name", "duplicate job name %q (also jobs[%d])", j.Name, first)
		} else {
			names[j.Name] = i
		}
	}
	if err := checkSchedule(j.Schedule); err != nil {
		ps.add(p+".schedule", "%v", err)
	}
	validateSource(ps, p+".source", &j.Source)
	if j.Resolutions != nil {
		if j.Resolutions.MaxFileBytes == 0 {
			j.Resolutions.MaxFileBytes = DefaultMaxFileBytes
		}
		validateSource(ps, p+".resolutions", j.Resolutions)
	}
	validateLedger(ps, p+".ledger", &j.Ledger)
	if j.Reports.Dir == "" {
		ps.add(p+".reports.dir", "required")
	}
	validateMatching(ps, p+".matching", &j.Matching)
	if len(j.Matching.CashDiscounts) > 0 && !writesCashDiscounts(j.Ledger.Type) {
		ps.add(p+".matching.cash_discount", "the %s ledger does not write cash-discount postings yet: remove it "+
			"(discounts then stay open on the invoices) or use the %s ledger", j.Ledger.Type, cashDiscountLedgers())
	}
	if j.BatchDetailsWait < 0 {
		ps.add(p+".batch_details_wait", "must not be negative")
	}
	switch j.Reports.Locale {
	case "en", "fr":
	default:
		ps.add(p+".reports.locale", "unknown locale %q (want en or fr)", j.Reports.Locale)
	}
	if j.ResolutionsInbox.MinAge < 0 {
		ps.add(p+".resolutions_inbox.min_age", "must not be negative")
	}
	if a := j.ResolutionsInbox.DefaultAuthor; strings.EqualFold(strings.TrimSpace(a), "lettrage") {
		ps.add(p+".resolutions_inbox.default_author", "must name a person or team, not the tool")
	}
}

// validateJobLists checks a job's write-off limits and accounts.
func validateJobLists(ps *problems, p string, j *Job) {
	limits := map[string]int{}
	for k, l := range j.WriteOffLimits {
		lp := fmt.Sprintf("%s.write_off_limits[%d]", p, k)
		if !isCurrency(l.Currency) {
			ps.add(lp+".currency", "invalid currency %q (want three upper-case letters)", l.Currency)
		} else if first, dup := limits[l.Currency]; dup {
			ps.add(lp+".currency", "duplicate write-off limit for %q (also write_off_limits[%d])", l.Currency, first)
		} else {
			limits[l.Currency] = k
		}
		if l.Max.Sign() < 0 {
			ps.add(lp+".max", "must not be negative")
		}
	}
	seen := map[string]bool{}
	for k, a := range j.Accounts {
		ap := fmt.Sprintf("%s.accounts[%d]", p, k)
		switch iban := normaliseAccount(a.IBAN); {
		case iban == "":
			ps.add(ap+".iban", "required")
		case seen[iban]:
			ps.add(ap+".iban", "account listed twice")
		default:
			seen[iban] = true
		}
		if !jobName.MatchString(a.Name) {
			ps.add(ap+".name", "invalid account name %q (want 1 to 64 of a-z, 0-9, _ and -)", a.Name)
		}
	}
}

func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid address %q: want host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("invalid port %q", port)
	}
	return nil
}

// checkSchedule accepts "@every <Go duration ≥ 1s>" or what gocron accepts
// for the scheduler that will run it: 5 fields or a descriptor such as
// @daily, that fires at some point.
func checkSchedule(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return errors.New("required")
	}
	if rest, ok := strings.CutPrefix(s, everyPrefix); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return fmt.Errorf("invalid interval %q: %w", s, err)
		}
		if d < time.Second {
			return fmt.Errorf("invalid interval %q: must be at least 1s", s)
		}
		return nil
	}
	if _, err := cronParser.Parse(s); err != nil {
		return fmt.Errorf("invalid cron expression %q: %w", s, err)
	}
	// What the scheduler itself checks when `run` schedules the job: an
	// expression that parses but never fires ("0 0 31 2 *") is refused.
	if err := gocron.NewDefaultCron(false).IsValid(s, time.Local, time.Now()); err != nil {
		if errors.Is(err, gocron.ErrCronJobInvalid) {
			return fmt.Errorf("cron expression %q never fires (no such date)", s)
		}
		return fmt.Errorf("invalid cron expression %q: %w", s, err)
	}
	return nil
}

// validateBlocks checks that exactly the block of the chosen type (typ) is
// set among a Source's or Ledger's blocks, and validates it with its
// connector's Validate. Problems come in the order of the registered types
// (sorted), then the type's own.
func validateBlocks(ps *problems, p, typ string, bs blockSet) {
	reg, blocks := bs.registry(), *bs.blocks()
	for _, name := range reg.Kinds() {
		b, set := blocks[name]
		switch {
		case name == typ && !set:
			ps.add(p+"."+name, "required for type %q", typ)
		case name == typ:
			ps.addJoined(p+"."+name, b.Validate())
		case set:
			ps.add(p+"."+name, "set only the block of the %s type (%q)", reg.Port(), typ)
		}
	}
	switch {
	case typ == "":
		ps.add(p+".type", "required (%s)", reg.Want())
	case !registered(reg, typ):
		ps.add(p+".type", "%s", reg.Unknown(typ))
	}
}

func validateSource(ps *problems, p string, s *Source) {
	validateBlocks(ps, p, s.Type, s)
	if err := camt.CompileExtras(s.ExtraXPath); err != nil {
		ps.add(p+".extra_xpath", "%v", err)
	}
	for i, x := range s.ExtraXPath {
		if strings.TrimSpace(x) == "" {
			ps.add(fmt.Sprintf("%s.extra_xpath[%d]", p, i), "empty expression")
		}
	}
	if s.MaxFileBytes <= 0 {
		ps.add(p+".max_file_bytes", "must be positive")
	}
}

func validateLedger(ps *problems, p string, l *Ledger) {
	validateBlocks(ps, p, l.Type, l)
}

// writesCashDiscounts reports whether the ledger type kind writes
// cash-discount postings (connectors.CashDiscountWriter); an unknown type
// is reported elsewhere.
func writesCashDiscounts(kind string) bool {
	cfg, ok := connectors.Ledgers.NewConfig(kind)
	if !ok {
		return true
	}
	w, ok := cfg.(connectors.CashDiscountWriter)
	return !ok || w.WritesCashDiscounts()
}

// cashDiscountLedgers names the ledger types that write cash-discount
// postings: "file or postgres".
func cashDiscountLedgers() string {
	var names []string
	for _, k := range connectors.Ledgers.Kinds() {
		if writesCashDiscounts(k) {
			names = append(names, k)
		}
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// maxCombination bounds the combination search (its cost grows
// exponentially).
const maxCombination = 12

// validateMatching checks a job's matching block: the effective values
// (defaults filled in), then each list and the policies.
func validateMatching(ps *problems, p string, m *Matching) {
	c := m.MatcherConfig()
	validateThresholds(ps, p, c)
	validateTolerances(ps, p, m.Tolerances)
	validateFX(ps, p, m.FX)
	validatePolicies(ps, p, c)
	validateCashDiscounts(ps, p, m.CashDiscounts)
}

// validateThresholds checks the thresholds and the bounds of the search.
func validateThresholds(ps *problems, p string, c matcher.Config) {
	if c.AutoThreshold < 0 || c.AutoThreshold > 1 {
		ps.add(p+".auto_threshold", "must be between 0 and 1")
	}
	if c.SuggestThreshold < 0 || c.SuggestThreshold > 1 {
		ps.add(p+".suggest_threshold", "must be between 0 and 1")
	} else if c.SuggestThreshold > c.AutoThreshold {
		ps.add(p+".suggest_threshold", "must not exceed auto_threshold")
	}
	if c.MaxCandidates < 1 {
		ps.add(p+".max_candidates", "must be at least 1")
	}
	if !oneOf(c.SameAmount, "oldest", "suggest") {
		ps.add(p+".same_amount", "unknown value %q (want oldest or suggest)", c.SameAmount)
	}
	if c.MaxCombination < 1 || c.MaxCombination > maxCombination {
		ps.add(p+".max_combination", "must be between 1 and %d", maxCombination)
	}
	if c.DueWindowDays < 0 {
		ps.add(p+".due_window_days", "must not be negative")
	}
}

// validateTolerances checks the amount tolerances, one per currency (""
// for all).
func validateTolerances(ps *problems, p string, tolerances []matcher.Tolerance) {
	seen := map[string]int{}
	hundred := domain.AmountFromInt(100)
	for i, t := range tolerances {
		tp := fmt.Sprintf("%s.tolerances[%d]", p, i)
		if t.Currency != "" && !isCurrency(t.Currency) {
			ps.add(tp+".currency", "invalid currency %q (want three upper-case letters, or empty for all)", t.Currency)
		}
		if first, dup := seen[t.Currency]; dup {
			ps.add(tp+".currency", "duplicate tolerance for %q (also tolerances[%d])", t.Currency, first)
		} else {
			seen[t.Currency] = i
		}
		if t.Absolute.Sign() < 0 {
			ps.add(tp+".absolute", "must not be negative")
		}
		if t.Percent.Sign() < 0 || t.Percent.Cmp(hundred) > 0 {
			ps.add(tp+".percent", "must be between 0 and 100")
		}
		if t.Absolute.IsZero() && t.Percent.IsZero() {
			ps.add(tp, "set absolute, percent or both")
		}
	}
}

// validateFX checks the cross-currency rules, one per pair.
func validateFX(ps *problems, p string, rules []matcher.FXRule) {
	pairs := map[string]int{}
	for i, r := range rules {
		fp := fmt.Sprintf("%s.fx[%d]", p, i)
		if !isCurrency(r.ItemCurrency) {
			ps.add(fp+".item_currency", "invalid currency %q (want three upper-case letters)", r.ItemCurrency)
		}
		if !isCurrency(r.CashCurrency) {
			ps.add(fp+".cash_currency", "invalid currency %q (want three upper-case letters)", r.CashCurrency)
		} else if r.CashCurrency == r.ItemCurrency {
			ps.add(fp+".cash_currency", "same as item_currency: an FX rule is between two currencies")
		}
		pair := r.ItemCurrency + "→" + r.CashCurrency
		if first, dup := pairs[pair]; dup {
			ps.add(fp, "duplicate FX rule %s (also fx[%d])", pair, first)
		} else {
			pairs[pair] = i
		}
		if r.TolerancePercent.Sign() < 0 || r.TolerancePercent.Cmp(domain.AmountFromInt(maxFXTolerancePercent)) > 0 {
			ps.add(fp+".tolerance_percent", "must be between 0 and %d", maxFXTolerancePercent)
		}
	}
}

// validatePolicies checks what is done with an overpayment and a
// duplicate payment.
func validatePolicies(ps *problems, p string, c matcher.Config) {
	if !oneOf(c.Overpayment, matcher.PolicyException, matcher.PolicyOnAccount) {
		ps.add(p+".overpayment", "unknown value %q (want exception or on_account)", c.Overpayment)
	}
	if !oneOf(c.DuplicatePayment, matcher.PolicyException, matcher.PolicyOnAccount) {
		ps.add(p+".duplicate_payment", "unknown value %q (want exception or on_account)", c.DuplicatePayment)
	}
}

// validateCashDiscounts checks the cash-discount policies, one per
// currency ("" for all).
func validateCashDiscounts(ps *problems, p string, discounts []matcher.CashDiscount) {
	ccys := map[string]int{}
	for i, d := range discounts {
		dp := fmt.Sprintf("%s.cash_discount[%d]", p, i)
		if d.Currency != "" && !isCurrency(d.Currency) {
			ps.add(dp+".currency", "invalid currency %q (want three upper-case letters, or empty for all)", d.Currency)
		}
		if first, dup := ccys[d.Currency]; dup {
			ps.add(dp+".currency", "duplicate cash-discount policy for %q (also cash_discount[%d])", d.Currency, first)
		} else {
			ccys[d.Currency] = i
		}
		if d.MaxPercent.Sign() < 0 || d.MaxPercent.Cmp(domain.AmountFromInt(maxCashDiscountPercent)) > 0 {
			ps.add(dp+".max_percent", "must be between 0 and %d", maxCashDiscountPercent)
		}
		if d.MaxAmount.Sign() < 0 {
			ps.add(dp+".max_amount", "must not be negative")
		}
		if d.MaxPercent.IsZero() && d.MaxAmount.IsZero() {
			ps.add(dp, "set max_percent, max_amount or both: the ceiling of a discount closed automatically")
		}
		if strings.TrimSpace(d.Account) == "" {
			ps.add(dp+".account", "required: the ledger account cash discounts are booked to (e.g. 665)")
		}
		if strings.TrimSpace(d.Reason) == "" {
			ps.add(dp+".reason", "required: the reason code of the cash-discount postings (e.g. ESCOMPTE)")
		}
	}
}

// maxCashDiscountPercent bounds a cash-discount ceiling: payers take 1 to
// 3 % for early payment; more is a dispute, not a discount.
const maxCashDiscountPercent = 10

// maxFXTolerancePercent bounds an FX rule's tolerance: bank rounding of a
// converted amount is a fraction of a percent, more would letter payments
// of other amounts.
const maxFXTolerancePercent = 5

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
