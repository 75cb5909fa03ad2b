package pipeline

import (
	"errors"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/report"
)

// Metrics are Lettrage's Prometheus series, on an explicit registry. Labels
// never carry an invoice, IBAN, customer or payer: bank accounts appear by
// their configured name (or a masked form when none is configured).
type Metrics struct {
	Registry *prometheus.Registry

	runs          *prometheus.CounterVec
	runDuration   *prometheus.HistogramVec
	lastSuccess   *prometheus.GaugeVec
	lastRun       *prometheus.GaugeVec
	files         *prometheus.CounterVec
	decisions     *prometheus.CounterVec
	unmatchedAmt  *prometheus.GaugeVec
	unmatchedTxs  *prometheus.GaugeVec
	oldestOpen    *prometheus.GaugeVec
	exceptionAge  *prometheus.GaugeVec
	ledgerLatency *prometheus.HistogramVec
	ledgerErrors  *prometheus.CounterVec
	sourceBytes   *prometheus.CounterVec
	sourceErrors  *prometheus.CounterVec
	lastListing   *prometheus.GaugeVec
	receivables   *prometheus.GaugeVec
	receivItems   *prometheus.GaugeVec
	checkFailures *prometheus.CounterVec
	resolutions   *prometheus.CounterVec
	inboxFiles    *prometheus.CounterVec
	setAsideTxs   *prometheus.CounterVec
	filesHeld     *prometheus.GaugeVec

	// AccountNames maps a statement account (normalised IBAN) to its label
	// value, per job.
	AccountNames map[string]map[string]string
}

// JobLabel names the lettering job (jobs[].name) on every lettrage_*
// series. It is not "job": Prometheus sets that one on every scraped
// series to the scrape job, and a standard scrape renames ours to
// exported_job (docs/METRICS.md, "Labels").
const JobLabel = "lettrage_job"

// LedgerWriteBuckets are the buckets of lettrage_ledger_write_duration_seconds:
// up to and beyond the ledgers' 60 s request timeouts, so that a write
// that times out lands in a bucket of its own rather than in +Inf.
var LedgerWriteBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120}

// NewMetrics registers every series on a new registry, with the Go and
// process collectors and lettrage_build_info.
func NewMetrics(version string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lettrage_runs_total", Help: "Job runs by result (success; partial: some files quarantined or left for the next run; failure; skipped: the job was running elsewhere).",
		}, []string{"lettrage_job", "result"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lettrage_run_duration_seconds", Help: "Duration of job runs.",
			Buckets: []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
		}, []string{"lettrage_job"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lettrage_last_success_timestamp_seconds", Help: "Unix time of the last run that finished without error.",
		}, []string{"lettrage_job"}),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lettrage_last_run_timestamp_seconds", Help: "Unix time of the last run, whatever its result.",
		}, []string{"lettrage_job"}),
		files: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lettrage_statement_files_total", Help: "Statement files by result (processed; duplicate: same content as a file already processed; quarantined: refused, reported once; retry: the source failed while reading it, read again next run).",
		}, []string{"lettrage_job", "result"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lettrage_decisions_total", Help: "Matching decisions by outcome and rule.",
		}, []string{"lettrage_job", "outcome", "rule"}),
		unmatchedAmt: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lettrage_unmatched_amount", Help: "Cash received and not lettered, by currency and bank account (display approximation of an exact amount).",
		}, []string{"lettrage_job", "currency", "account"}),
		unmatchedTxs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lettrage_unmatched_transactions", Help: "Transactions not fully lettered, by currency and bank account.",
		}, []string{"lettrage_job", "currency", "account"}),
		oldestOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lettrage_unmatched_oldest_booking_timestamp_seconds", Help: "Booking date (Unix time) of the oldest payment not fully lettered; absent when none.",
		}, []string{"lettrage_job"}),
		exceptionAge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lettrage_exceptions_by_age", Help: "Open exceptions (payments not fully lettered) by days since their booking date (0-2, 3-7, 8-30, over_30).",
		}, []string{"lettrage_job", "age"}),
		ledgerLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lettrage_ledger_write_duration_seconds", Help: "Duration of ledger write-back batches.",
			Buckets: LedgerWriteBuckets,
		}, []string{"lettrage_job"}),
		ledgerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lettrage_ledger_write_errors_total", Help: "Failed ledger write-back batches.",
		}, []string{"lettrage_job"}),
		sourceBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lettrage_source_bytes_total", Help: "Bytes of statement files read from the job's source.",
		}, []string{"lettrage_job", "source"}),
		sourceErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lettrage_source_errors_total", Help: "Statement source errors by kind (list, unavailable, not_found, too_large, unreadable, archive, quarantine).",
		}, []string{"lettrage_job", "source", "kind"}),
		lastListing: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lettrage_source_last_list_success_timestamp_seconds", Help: "Unix time of the last successful listing of the job's statement source.",
		}, []string{"lettrage_job", "source"}),
		receivables: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lettrage_open_receivables_amount", Help: "Open receivables (residuals after the run) by currency and ageing bucket (not_due, 1-30, 31-60, 61-90, over_90 days past due).",
		}, []string{"lettrage_job", "currency", "bucket"}),
		receivItems: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lettrage_open_receivables_items", Help: "Open items by currency and ageing bucket.",
		}, []string{"lettrage_job", "currency", "bucket"}),
		checkFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lettrage_statement_check_failures_total", Help: "Consistency checks of statements that failed (entry_count, entry_sum, balance, batch_count…); the file is still processed.",
		}, []string{"lettrage_job", "check"}),
		inboxFiles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lettrage_resolution_files_total",
			Help: "Files of the resolutions inbox by outcome (applied, already_applied, refused, waiting, ignored).",
		}, []string{"lettrage_job", "outcome"}),
		resolutions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lettrage_manual_resolutions_total", Help: "Rows of accountants' resolution files by action and status (applied, already_applied, refused).",
		}, []string{"lettrage_job", "action", "status"}),
		setAsideTxs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lettrage_transactions_set_aside_total", Help: "Transactions read and accounted for otherwise, by reason (duplicate_delivery, covered_by_details, details_of_lettered, awaiting_details), and possible duplicates reported as exceptions (possible_duplicate).",
		}, []string{"lettrage_job", "reason"}),
		filesHeld: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lettrage_statement_files_held", Help: "Statement files refused and held in quarantine (by content hash): skipped until a new version replaces them or an operator runs `lettrage release`.",
		}, []string{"lettrage_job"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "lettrage_build_info", Help: "Build information (version, VCS revision, Go version); the value is always 1.",
	}, []string{"version", "revision", "goversion"})
	b := ReadBuild(version)
	build.WithLabelValues(b.Version, b.Revision, b.GoVersion).Set(1)
	reg.MustRegister(m.runs, m.runDuration, m.lastSuccess, m.lastRun, m.files, m.decisions,
		m.unmatchedAmt, m.unmatchedTxs, m.oldestOpen, m.exceptionAge, m.ledgerLatency, m.ledgerErrors, build,
		m.sourceBytes, m.sourceErrors, m.lastListing, m.receivables, m.receivItems, m.checkFailures, m.resolutions, m.inboxFiles, m.setAsideTxs,
		m.filesHeld,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Build describes the running binary.
type Build struct {
	Version   string // the stamped version, else the module version from the build info, else "dev"
	Revision  string // VCS revision ("unknown" when not built from a checkout), "-dirty" when modified
	Time      string // VCS commit time (RFC 3339), "" when unknown
	GoVersion string
}

// revision may be stamped at build time where Go cannot read the VCS (a
// container build without .git): -ldflags "-X
// github.com/lettrage/lettrage/pipeline.revision=<commit>".
var revision string

// ReadBuild reads the binary's build information (runtime/debug): the
// version stamped with -ldflags "-X main.version=…" wins; otherwise the
// main module's version, which `go build` takes from a VCS tag. The
// revision is the VCS commit Go recorded, else the stamped one.
func ReadBuild(stamped string) Build {
	b := Build{Version: stamped, Revision: "unknown", GoVersion: "unknown"}
	if revision != "" {
		b.Revision = revision
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if b.Version == "" {
			b.Version = "dev"
		}
		return b
	}
	b.GoVersion = bi.GoVersion
	if (b.Version == "" || b.Version == "dev") && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = bi.Main.Version
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && b.Revision != "unknown" {
		b.Revision += "-dirty"
	}
	return b
}

func (m *Metrics) observeRun(job string, start, end time.Time, err error) {
	if m == nil {
		return
	}
	result := "success"
	switch {
	case err == nil:
		m.lastSuccess.WithLabelValues(job).Set(float64(end.Unix()))
	case errors.Is(err, ErrBusy):
		result = "skipped"
	case isSkipped(err):
		result = "partial"
	default:
		result = "failure"
	}
	m.runs.WithLabelValues(job, result).Inc()
	m.runDuration.WithLabelValues(job).Observe(end.Sub(start).Seconds())
	m.lastRun.WithLabelValues(job).Set(float64(end.Unix()))
}

func (m *Metrics) setAside(job, reason string, n int) {
	if m != nil && n > 0 {
		m.setAsideTxs.WithLabelValues(job, reason).Add(float64(n))
	}
}

func (m *Metrics) file(job, result string) {
	if m != nil {
		m.files.WithLabelValues(job, result).Inc()
	}
}

func (m *Metrics) decision(job string, d domain.Decision) {
	if m != nil {
		rule := d.Rule
		if rule == "" {
			rule = "none"
		}
		m.decisions.WithLabelValues(job, string(d.Outcome), rule).Inc()
	}
}

func (m *Metrics) ledgerWrite(job string, took time.Duration, err error) {
	if m == nil {
		return
	}
	m.ledgerLatency.WithLabelValues(job).Observe(took.Seconds())
	if err != nil {
		m.ledgerErrors.WithLabelValues(job).Inc()
	}
}

// ExceptionAgeBuckets are the values of the age label of
// lettrage_exceptions_by_age, youngest first.
var ExceptionAgeBuckets = []string{"0-2", "3-7", "8-30", "over_30"}

// ExceptionAge names the age bucket of an exception booked on booked, seen
// at now (whole days; a payment without a booking date counts as new).
func ExceptionAge(booked, now time.Time) string {
	if booked.IsZero() {
		return ExceptionAgeBuckets[0]
	}
	switch days := int(now.Sub(booked).Hours() / 24); {
	case days <= 2:
		return ExceptionAgeBuckets[0]
	case days <= 7:
		return ExceptionAgeBuckets[1]
	case days <= 30:
		return ExceptionAgeBuckets[2]
	}
	return ExceptionAgeBuckets[3]
}

// unmatched sets the unmatched-cash and exception-age gauges from the
// exceptions snapshot.
func (m *Metrics) unmatched(job string, exc []decide.StoredTx, now time.Time) {
	if m == nil {
		return
	}
	type key struct{ ccy, acct string }
	amt := map[key]domain.Amount{}
	cnt := map[key]int{}
	ages := map[string]int{}
	var oldest time.Time
	for _, st := range exc {
		k := key{st.Tx.Currency, m.accountLabel(job, st.Tx.Account)}
		amt[k] = amt[k].Add(decide.Unallocated(st))
		cnt[k]++
		ages[ExceptionAge(st.Tx.BookingDate, now)]++
		if d := st.Tx.BookingDate; !d.IsZero() && (oldest.IsZero() || d.Before(oldest)) {
			oldest = d
		}
	}
	m.unmatchedAmt.DeletePartialMatch(prometheus.Labels{JobLabel: job})
	m.unmatchedTxs.DeletePartialMatch(prometheus.Labels{JobLabel: job})
	for k, a := range amt {
		m.unmatchedAmt.WithLabelValues(job, k.ccy, k.acct).Set(a.Float())
		m.unmatchedTxs.WithLabelValues(job, k.ccy, k.acct).Set(float64(cnt[k]))
	}
	for _, a := range ExceptionAgeBuckets {
		m.exceptionAge.WithLabelValues(job, a).Set(float64(ages[a]))
	}
	if oldest.IsZero() {
		m.oldestOpen.DeleteLabelValues(job)
	} else {
		m.oldestOpen.WithLabelValues(job).Set(float64(oldest.Unix()))
	}
}

func (m *Metrics) accountLabel(job, account string) string {
	if n := m.AccountNames[job][account]; n != "" {
		return n
	}
	return accountSuffix(account)
}

// accountSuffix is the label of an account without a configured name: its
// last four characters, never the IBAN.
func accountSuffix(s string) string {
	return "…" + s[max(0, len(s)-4):]
}

func (m *Metrics) sourceRead(job, source string, n int64) {
	if m != nil {
		m.sourceBytes.WithLabelValues(job, source).Add(float64(n))
	}
}

func (m *Metrics) sourceError(job, source, kind string) {
	if m != nil {
		m.sourceErrors.WithLabelValues(job, source, kind).Inc()
	}
}

func (m *Metrics) listed(job, source string, at time.Time) {
	if m != nil {
		m.lastListing.WithLabelValues(job, source).Set(float64(at.Unix()))
	}
}

func (m *Metrics) checkFailed(job, check string) {
	if m != nil {
		m.checkFailures.WithLabelValues(job, check).Inc()
	}
}

// AgeingBucket names the ageing bucket of an item due on due, seen at now.
func AgeingBucket(due, now time.Time) string {
	if due.IsZero() {
		return "not_due"
	}
	days := int(now.Sub(due).Hours() / 24)
	switch {
	case days <= 0:
		return "not_due"
	case days <= 30:
		return "1-30"
	case days <= 60:
		return "31-60"
	case days <= 90:
		return "61-90"
	}
	return "over_90"
}

// receivablesAfter sets the aged-balance gauges from the open items less
// what this run allocated.
func (m *Metrics) receivablesAfter(job string, items []domain.OpenItem, allocated map[string]domain.Amount, now time.Time) {
	if m == nil {
		return
	}
	type key struct{ ccy, bucket string }
	amt := map[key]domain.Amount{}
	cnt := map[key]int{}
	for _, it := range items {
		res := it.Residual.Sub(allocated[it.ID])
		if res.IsZero() {
			continue
		}
		k := key{it.Currency, AgeingBucket(it.DueDate, now)}
		amt[k] = amt[k].Add(res)
		cnt[k]++
	}
	m.receivables.DeletePartialMatch(prometheus.Labels{JobLabel: job})
	m.receivItems.DeletePartialMatch(prometheus.Labels{JobLabel: job})
	for k, a := range amt {
		m.receivables.WithLabelValues(job, k.ccy, k.bucket).Set(a.Float())
		m.receivItems.WithLabelValues(job, k.ccy, k.bucket).Set(float64(cnt[k]))
	}
}

// inboxFile counts a file of the resolutions inbox by outcome: applied,
// already_applied, refused, waiting (still being written), ignored (lock
// or temporary file).
func (m *Metrics) inboxFile(job, outcome string) {
	if m != nil {
		m.inboxFiles.WithLabelValues(job, outcome).Inc()
	}
}

func (m *Metrics) resolution(job, action, status string) {
	if m != nil {
		known := false
		for _, a := range report.Actions {
			known = known || a == action
		}
		if !known {
			action = "unknown" // free text never becomes a label
		}
		m.resolutions.WithLabelValues(job, action, status).Inc()
	}
}

// InitJob creates the job's counters at zero, so that rate() and
// increase() see their first increment (alert rules rely on it).
func (m *Metrics) InitJob(job, source string) {
	if m == nil {
		return
	}
	for _, r := range []string{"success", "partial", "failure", "skipped"} {
		m.runs.WithLabelValues(job, r)
	}
	for _, r := range []string{"processed", "duplicate", "quarantined", "retry"} {
		m.files.WithLabelValues(job, r)
	}
	m.ledgerErrors.WithLabelValues(job)
	m.sourceBytes.WithLabelValues(job, source)
}

// held sets the number of refused files the job holds in quarantine.
func (m *Metrics) held(job string, n int) {
	if m != nil {
		m.filesHeld.WithLabelValues(job).Set(float64(n))
	}
}
