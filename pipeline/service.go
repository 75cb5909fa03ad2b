package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lettrage/lettrage/config"
	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/connectors/ledger/odoo"
	"github.com/lettrage/lettrage/connectors/ledger/postgres"
	"github.com/lettrage/lettrage/connectors/ledger/tryton"
	"github.com/lettrage/lettrage/connectors/source/local"
	"github.com/lettrage/lettrage/connectors/source/s3"
	"github.com/lettrage/lettrage/connectors/source/sftp"
)

// Service is the daemon: the configured jobs over one state store, with
// metrics, health endpoints and a scheduler.
type Service struct {
	Config  *config.Config
	Store   *Store
	Jobs    []*Job
	Metrics *Metrics
	Log     *slog.Logger
	ready   atomic.Bool
}

// NewService opens the state store and builds every job of cfg.
func NewService(cfg *config.Config, log *slog.Logger, version string) (*Service, error) {
	var store *Store
	var err error
	var locker RunLocker
	switch cfg.State.Driver {
	case "sqlite", "":
		store, err = OpenSQLite(cfg.State.SQLite.Path)
		locker = FileLocker{Dir: filepath.Dir(cfg.State.SQLite.Path)}
	case "postgres":
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		store, err = OpenPostgres(ctx, cfg.State.Postgres.DSN)
		cancel()
		if err == nil {
			locker = PGLocker{DB: store.DB()}
		}
	default:
		err = fmt.Errorf("state.driver: unknown driver %q", cfg.State.Driver)
	}
	if err != nil {
		return nil, err
	}
	s := &Service{Config: cfg, Store: store, Metrics: NewMetrics(version), Log: log}
	s.Metrics.AccountNames = map[string]map[string]string{}
	hash := cfg.Hash()
	for i, jc := range cfg.Jobs {
		src, err := NewSource(jc.Name, jc.Source)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("jobs[%d].source: %w", i, err)
		}
		led, err := NewLedger(jc.Ledger)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("jobs[%d].ledger: %w", i, err)
		}
		s.Metrics.AccountNames[jc.Name] = jc.AccountNames()
		s.Metrics.InitJob(jc.Name, jc.Source.Type)
		var inbox connectors.StatementSource
		if jc.Resolutions != nil {
			if inbox, err = NewSource(jc.Name+"-resolutions", *jc.Resolutions); err != nil {
				s.Close()
				return nil, fmt.Errorf("jobs[%d].resolutions: %w", i, err)
			}
		}
		opts := camt.DefaultOptions()
		opts.Extra = jc.Source.ExtraXPath
		s.Jobs = append(s.Jobs, &Job{
			Name: jc.Name, SourceType: jc.Source.Type, Source: src, Ledger: led, Store: store,
			Matching: jc.Matching.MatcherConfig(), Parse: opts,
			ReportDir: jc.Reports.Dir, ConfigHash: hash, MaxFileBytes: jc.Source.MaxFileBytes,
			Compression: jc.Source.Compression, Locker: locker, Resolutions: inbox,
			InboxMinAge: inboxMinAge(jc.ResolutionsInbox.MinAge), InboxDefaultAuthor: jc.ResolutionsInbox.DefaultAuthor,
			WriteOffLimits: jc.WriteOffLimitMap(), BatchWait: jc.BatchDetailsWait,
			Reports:      ReportOptions{XLSX: jc.Reports.XLSX, FrenchCSV: jc.Reports.FrenchCSV, Locale: jc.Reports.Locale},
			AccountNames: jc.AccountNames(), PersonalDataDays: cfg.State.PersonalDataDays,
			Log: log, Metrics: s.Metrics,
		})
	}
	s.ready.Store(true)
	return s, nil
}

// inboxMinAge maps the configured minimum age (0: none) to Job.InboxMinAge
// (0: the default; negative: none).
func inboxMinAge(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// NewSource builds the statement source a job's configuration names.
func NewSource(name string, c config.Source) (connectors.StatementSource, error) {
	switch c.Type {
	case "local":
		return local.New(name+"/local", *c.Local)
	case "sftp":
		return sftp.New(name+"/sftp", *c.SFTP)
	case "s3":
		return s3.New(name+"/s3", *c.S3)
	}
	return nil, fmt.Errorf("type: unknown source type %q", c.Type)
}

// NewLedger builds the ledger a job's configuration names.
func NewLedger(c config.Ledger) (connectors.Ledger, error) {
	switch c.Type {
	case "file":
		return file.New(*c.File)
	case "postgres":
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return postgres.New(ctx, *c.Postgres)
	case "tryton":
		return tryton.New(*c.Tryton)
	case "odoo":
		return odoo.New(*c.Odoo)
	}
	return nil, fmt.Errorf("type: unknown ledger type %q", c.Type)
}

// Close releases the ledgers and the state store.
func (s *Service) Close() error {
	for _, j := range s.Jobs {
		_ = j.Ledger.Close()
		for _, src := range []connectors.StatementSource{j.Source, j.Resolutions} {
			if c, ok := src.(io.Closer); ok {
				_ = c.Close()
			}
		}
	}
	return s.Store.Close()
}

// RunOnce runs every job once, in order. The error joins the jobs' errors.
func (s *Service) RunOnce(ctx context.Context) ([]Result, error) {
	var results []Result
	var errs []error
	for _, j := range s.Jobs {
		res, err := j.Run(ctx)
		results = append(results, res)
		if err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return results, errors.Join(errs...)
}

// Serve runs the jobs on their schedules and serves /metrics, /healthz and
// /readyz until ctx is cancelled; then it lets a running pass finish and
// returns.
func (s *Service) Serve(ctx context.Context) error {
	opts := []gocron.SchedulerOption{gocron.WithLocation(time.Local)}
	if s.Store.Dialect() == Postgres {
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
	for i, j := range s.Jobs {
		cron, every := s.Config.Jobs[i].ScheduleSpec()
		def := gocron.CronJob(cron, false)
		if every > 0 {
			def = gocron.DurationJob(every)
		}
		job := j
		_, err = sched.NewJob(def, gocron.NewTask(func() {
			switch _, err := job.Run(runCtx); {
			case err == nil, errors.Is(err, ErrBusy):
			case errors.Is(err, ErrFilesSkipped):
				s.Log.Warn("run finished with files skipped", "job", job.Name, "err", err)
			default:
				s.Log.Error("run failed", "job", job.Name, "err", err)
			}
		}), gocron.WithName(job.Name), gocron.WithSingletonMode(gocron.LimitModeReschedule),
			gocron.WithStartAt(gocron.WithStartImmediately()))
		if err != nil {
			return fmt.Errorf("scheduling job %q: %w", job.Name, err)
		}
	}

	var srv *http.Server
	errc := make(chan error, 1)
	if addr := s.Config.HTTP.Listen; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
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
	s.Log.Info("shutting down: waiting for running passes")
	s.ready.Store(false)
	cancelRuns() // a pass stops at the next file boundary, rolled back
	if err := sched.Shutdown(); err != nil {
		s.Log.Error("stopping scheduler", "err", err)
	}
	if srv != nil {
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutCtx)
	}
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
