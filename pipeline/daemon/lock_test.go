package daemon

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/lettrage/lettrage/pipeline"
)

func testLocker(t *testing.T, a, b pipeline.RunLocker) {
	ctx := context.Background()
	release, ok, err := a.TryLock(ctx, "job1")
	if err != nil || !ok {
		t.Fatalf("first lock: ok=%v err=%v", ok, err)
	}
	if _, ok, err := b.TryLock(ctx, "job1"); err != nil || ok {
		t.Fatalf("second holder got the lock: ok=%v err=%v", ok, err)
	}
	// Another job is independent.
	rel2, ok, err := b.TryLock(ctx, "job2")
	if err != nil || !ok {
		t.Fatalf("other job: ok=%v err=%v", ok, err)
	}
	rel2()
	release()
	rel3, ok, err := b.TryLock(ctx, "job1")
	if err != nil || !ok {
		t.Fatalf("lock not released: ok=%v err=%v", ok, err)
	}
	rel3()
}

func TestFileLocker(t *testing.T) {
	dir := t.TempDir()
	// Two lockers on one folder stand for two processes: flock locks are per
	// open file description, so they exclude each other inside one process too.
	testLocker(t, FileLocker{Dir: dir}, FileLocker{Dir: dir})
}

func openPG(t *testing.T, dsn string) *sql.DB {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPGLockerAndElector(t *testing.T) {
	dsn := pg.Database(t)
	// Two pools stand for two replicas.
	a, b := openPG(t, dsn), openPG(t, dsn)
	testLocker(t, PGLocker{DB: a}, PGLocker{DB: b})

	ctx := context.Background()
	ea, eb := &PGElector{DB: a}, &PGElector{DB: b}
	if err := ea.IsLeader(ctx); err != nil {
		t.Fatalf("first replica not elected: %v", err)
	}
	if err := ea.IsLeader(ctx); err != nil {
		t.Fatalf("leader lost leadership on a second ask: %v", err)
	}
	if err := eb.IsLeader(ctx); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("second replica: %v, want ErrNotLeader", err)
	}
	// The leader goes away (its pool closes, as when the process dies).
	ea.Close()
	if err := eb.IsLeader(ctx); err != nil {
		t.Fatalf("second replica did not take over: %v", err)
	}
	eb.Close()
}
