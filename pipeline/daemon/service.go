// Package daemon runs the configured jobs as a service: it opens the state
// store, builds each job's source and ledger through the connectors'
// registries, schedules the passes (gocron), serves the metrics and health
// endpoints, keeps one process per job with its locks (a lock file beside
// SQLite, PostgreSQL advisory locks) and one scheduling replica with its
// elector, reloads the configuration, and probes the connections for
// `lettrage check --connect`. The pass itself is pipeline.Job.Run.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lettrage/lettrage/config"
	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/pipeline"
	"github.com/lettrage/lettrage/pipeline/report"
	"github.com/lettrage/lettrage/pipeline/state"
)

// Service is the daemon: the configured jobs over one state store, with
// metrics, health endpoints and a scheduler.
type Service struct {
	Config  *config.Config
	Store   *state.Store
	Jobs    []*pipeline.Job
	Metrics *pipeline.Metrics
	Log     *slog.Logger
	ready   atomic.Bool
	locker  pipeline.RunLocker

	mu     sync.Mutex // guards what Serve and Reload share below
	sched  gocron.Scheduler
	runCtx context.Context
	gen    *generation // the scheduled jobs
}

// ErrStateStore marks (errors.Is) a state store that could not be opened:
// unreachable, or its disk unusable — exit code 3, not a configuration
// error.
var ErrStateStore = errors.New("state store unavailable")

// classified marks err with class (errors.Is finds both) and keeps err's
// message.
type classified struct{ class, err error }

func (c *classified) Error() string   { return c.err.Error() }
func (c *classified) Unwrap() []error { return []error{c.class, c.err} }

// NewService opens the state store and builds every job of cfg.
func NewService(cfg *config.Config, log *slog.Logger, version string) (*Service, error) {
	var store *state.Store
	var err error
	var locker pipeline.RunLocker
	switch cfg.State.Driver {
	case "sqlite", "":
		store, err = state.OpenSQLite(cfg.State.SQLite.Path)
		locker = FileLocker{Dir: filepath.Dir(cfg.State.SQLite.Path)}
	case "postgres":
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		store, err = state.OpenPostgres(ctx, cfg.State.Postgres.DSN)
		cancel()
		if err == nil {
			locker = PGLocker{DB: store.DB()}
		}
	default:
		return nil, fmt.Errorf("state.driver: unknown driver %q", cfg.State.Driver)
	}
	if err != nil {
		return nil, &classified{ErrStateStore, err}
	}
	s := &Service{Config: cfg, Store: store, Metrics: pipeline.NewMetrics(version), Log: log, locker: locker}
	s.Metrics.AccountNames = map[string]map[string]string{}
	if s.Jobs, err = s.buildJobs(cfg); err != nil {
		store.Close()
		return nil, err
	}
	s.ready.Store(true)
	return s, nil
}

// buildJobs builds the jobs of cfg on the service's store, locker and
// metrics. On error nothing stays open.
func (s *Service) buildJobs(cfg *config.Config) ([]*pipeline.Job, error) {
	var jobs []*pipeline.Job
	fail := func(err error) ([]*pipeline.Job, error) {
		closeJobs(jobs)
		return nil, err
	}
	hash := cfg.Hash()
	for i, jc := range cfg.Jobs {
		src, err := NewSource(jc.Name, jc.Source)
		if err != nil {
			return fail(fmt.Errorf("jobs[%d].source: %w", i, err))
		}
		led, err := NewLedger(jc.Ledger)
		if err != nil {
			closeSource(src)
			return fail(fmt.Errorf("jobs[%d].ledger: %w", i, err))
		}
		var inbox connectors.StatementSource
		if jc.Resolutions != nil {
			if inbox, err = NewSource(jc.Name+"-resolutions", *jc.Resolutions); err != nil {
				closeSource(src)
				led.Close()
				return fail(fmt.Errorf("jobs[%d].resolutions: %w", i, err))
			}
		}
		opts := camt.DefaultOptions()
		opts.Extra = jc.Source.ExtraXPath
		jobs = append(jobs, &pipeline.Job{
			Name: jc.Name, SourceType: jc.Source.Type, Source: src, Ledger: led, Store: s.Store,
			Matching: jc.Matching.MatcherConfig(), Parse: opts,
			ReportDir: jc.Reports.Dir, ConfigHash: hash, MaxFileBytes: jc.Source.MaxFileBytes,
			Compression: jc.Source.Compression, Locker: s.locker, Resolutions: inbox,
			InboxMinAge: inboxMinAge(jc.ResolutionsInbox.MinAge), InboxDefaultAuthor: jc.ResolutionsInbox.DefaultAuthor,
			WriteOffLimits: jc.WriteOffLimitMap(), BatchWait: jc.BatchDetailsWait,
			Reports:      report.Options{XLSX: jc.Reports.XLSX, FrenchCSV: jc.Reports.FrenchCSV, Locale: jc.Reports.Locale},
			AccountNames: jc.AccountNames(), PersonalDataDays: cfg.State.PersonalDataDays,
			RetentionDays: cfg.State.RetentionDays,
			Log:           s.Log, Metrics: s.Metrics,
		})
	}
	for _, jc := range cfg.Jobs {
		s.Metrics.AccountNames[jc.Name] = jc.AccountNames()
		s.Metrics.InitJob(jc.Name, jc.Source.Type)
	}
	return jobs, nil
}

func closeSource(src connectors.StatementSource) {
	if c, ok := src.(io.Closer); ok {
		_ = c.Close()
	}
}

// closeJobs releases the jobs' ledgers and sources (not the store).
func closeJobs(jobs []*pipeline.Job) {
	for _, j := range jobs {
		if j.Ledger != nil {
			_ = j.Ledger.Close()
		}
		closeSource(j.Source)
		closeSource(j.Resolutions)
	}
}

// inboxMinAge maps the configured minimum age (0: none) to Job.InboxMinAge
// (0: the default; negative: none).
func inboxMinAge(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// NewSource builds the statement source a job's configuration names,
// through the registry of the types this program knows
// (connectors.Sources; cmd/lettrage imports connectors/all). name is the
// job's name; the source is named "<name>/<type>" in logs.
func NewSource(name string, c config.Source) (connectors.StatementSource, error) {
	return connectors.Sources.New(c.Type, c.Settings(), connectors.SourceOptions{Name: name + "/" + c.Type})
}

// NewLedger builds the ledger a job's configuration names, through the
// registry (connectors.Ledgers). The PostgreSQL ledger connects on first
// use: a database down at start fails that job's runs, not the process.
func NewLedger(c config.Ledger) (connectors.Ledger, error) {
	return connectors.Ledgers.New(c.Type, c.Settings(), connectors.LedgerOptions{})
}

// Close releases the ledgers and the state store.
func (s *Service) Close() error {
	closeJobs(s.Jobs)
	return s.Store.Close()
}

// RunOnce runs every job once, in order, and returns each job's result and
// error: one job's failure does not stop the others (only a cancelled
// context does).
func (s *Service) RunOnce(ctx context.Context) ([]pipeline.Result, []error) {
	var results []pipeline.Result
	var errs []error
	for _, j := range s.Jobs {
		res, err := j.Run(ctx)
		results = append(results, res)
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return results, errs
}

// ErrSchedule marks (errors.Is) a job schedule the scheduler refused.
var ErrSchedule = errors.New("invalid schedule")

// Serve runs the jobs on their schedules and serves /metrics, /healthz and
// /readyz until ctx is cancelled; then it cancels the passes in progress
// (rolled back at the next file boundary), waits for them and returns.
// Reload swaps the jobs meanwhile.
func (s *Service) Serve(ctx context.Context) error {
	opts := []gocron.SchedulerOption{gocron.WithLocation(time.Local)}
	if s.Store.Dialect() == state.Postgres {
		// Several replicas share the state: only the elected leader runs
		// jobs; the per-job advisory lock in Job.Run covers a leader change
		// in the middle of a run.
		elector := &PGElector{DB: s.Store.DB()}
		defer elector.Close()
		opts = append(opts, gocron.WithDistributedElector(elector))
	}
	sched, err := gocron.NewScheduler(opts...)
	if err != nil {
		return fmt.Errorf("creating scheduler: %w", err)
	}
	// Runs get a context that outlives the signal: a pass in progress stops
	// between files (nothing committed for the unfinished run) — see Job.Run.
	runCtx, cancelRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRuns()
	s.mu.Lock()
	s.sched, s.runCtx = sched, runCtx
	gen, err := s.schedule(s.Config, s.Jobs)
	if err == nil {
		s.gen = gen
	}
	s.mu.Unlock()
	if err != nil {
		_ = sched.Shutdown()
		return err
	}

	var srv *http.Server
	errc := make(chan error, 1)
	if addr := s.Config.HTTP.Listen; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			_ = sched.Shutdown()
			return fmt.Errorf("listening on %s: %w", addr, err)
		}
		srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- srv.Serve(ln) }()
		s.Log.Info("serving metrics and health", "component", "http", "addr", ln.Addr().String())
	}
	sched.Start()
	s.Log.Info("scheduler started", "jobs", len(s.Jobs))

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			s.Log.Error("http server stopped", "err", err)
		}
	}
	s.Log.Info("shutting down: stopping the passes in progress (rolled back, resumed by the next run)")
	s.ready.Store(false)
	cancelRuns() // a pass stops at the next file boundary, rolled back
	if err := sched.Shutdown(); err != nil {
		s.Log.Warn("stopping scheduler", "err", err)
	}
	if srv != nil {
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutCtx)
	}
	return nil
}

// generation is one set of scheduled jobs; a reload retires it, and its
// ledgers and sources close once its last pass has finished.
type generation struct {
	jobs    []*pipeline.Job
	sched   []gocron.Job
	mu      sync.Mutex
	active  int
	retired bool
}

func (g *generation) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.retired {
		return false
	}
	g.active++
	return true
}

func (g *generation) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.active--; g.active == 0 && g.retired {
		closeJobs(g.jobs)
	}
}

// retire stops new passes of the generation; what runs finishes.
func (g *generation) retire() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.retired = true
	if g.active == 0 {
		closeJobs(g.jobs)
	}
}

// schedule adds jobs to the scheduler (s.mu held). On error the jobs it
// added are removed again.
func (s *Service) schedule(cfg *config.Config, jobs []*pipeline.Job) (*generation, error) {
	g := &generation{jobs: jobs}
	for i, j := range jobs {
		j.ScrapedGauges = true // the daemon serves /metrics
		cron, every := cfg.Jobs[i].ScheduleSpec()
		def := gocron.CronJob(cron, false)
		if every > 0 {
			def = gocron.DurationJob(every)
		}
		job := j
		runCtx := s.runCtx
		gj, err := s.sched.NewJob(def, gocron.NewTask(func() {
			if !g.enter() {
				return // reloaded meanwhile
			}
			defer g.leave()
			s.logRun(job, runCtx)
		}), gocron.WithName(job.Name), gocron.WithSingletonMode(gocron.LimitModeReschedule),
			gocron.WithStartAt(gocron.WithStartImmediately()))
		if err != nil {
			for _, gj := range g.sched {
				_ = s.sched.RemoveJob(gj.ID())
			}
			return nil, fmt.Errorf("jobs[%d].schedule: %w: %w", i, ErrSchedule, err)
		}
		g.sched = append(g.sched, gj)
	}
	return g, nil
}

// logRun runs one scheduled pass and logs how it ended. A pass cancelled
// by the shutdown is no error: it was rolled back and the next run resumes.
func (s *Service) logRun(job *pipeline.Job, runCtx context.Context) {
	switch _, err := job.Run(runCtx); {
	case err == nil, errors.Is(err, pipeline.ErrBusy):
	case runCtx.Err() != nil && errors.Is(err, context.Canceled):
		s.Log.Info("run stopped by the shutdown; rolled back, resumed by the next run", "job", job.Name)
	case errors.Is(err, pipeline.ErrFilesSkipped):
		s.Log.Warn("run finished with files skipped", "job", job.Name, "err", err)
	default:
		s.Log.Error("run failed", "job", job.Name, "exit_code", pipeline.ExitCode(err), "err", err)
	}
}

// Reload replaces the jobs with those of cfg, already loaded and
// validated: their sources and ledgers are built first, and on any error
// the running jobs stay as they are. Passes in progress finish under the
// old configuration. The state store cannot change without a restart
// (an error); log and http changes are reported as needing one.
func (s *Service) Reload(cfg *config.Config) error {
	if !reflect.DeepEqual(cfg.State, s.Config.State) {
		return errors.New("state: the state store cannot change without a restart")
	}
	jobs, err := s.buildJobs(cfg)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sched == nil {
		closeJobs(jobs)
		return errors.New("the daemon is starting: send SIGHUP again once it serves")
	}
	gen, err := s.schedule(cfg, jobs)
	if err != nil {
		closeJobs(jobs)
		return err
	}
	old := s.gen
	for _, gj := range old.sched {
		if err := s.sched.RemoveJob(gj.ID()); err != nil {
			s.Log.Warn("removing a job of the old configuration", "err", err)
		}
	}
	old.retire()
	if cfg.HTTP != s.Config.HTTP {
		s.Log.Warn("http.listen changes at the next restart", "listen", s.Config.HTTP.Listen)
	}
	if cfg.Log.Format != s.Config.Log.Format {
		s.Log.Warn("log.format changes at the next restart", "format", s.Config.Log.Format)
	}
	s.gen, s.Jobs, s.Config = gen, jobs, cfg
	return nil
}

// Handler serves /metrics, /healthz and /readyz.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	// OpenMetrics when the scraper asks for it (Accept header), the
	// Prometheus text format otherwise.
	mux.Handle("/metrics", promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{
		Registry: s.Metrics.Registry, EnableOpenMetrics: true}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if !s.ready.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		if err := s.Store.Ping(ctx); err != nil {
			http.Error(w, "state store: unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return mux
}
