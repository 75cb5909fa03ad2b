package daemon

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/lettrage/lettrage/internal/durable"
)

// FileLocker locks jobs with a lock file beside the SQLite state store
// (flock(2) on Unix, LockFileEx on Windows, through gofrs/flock): the lock
// dies with the process, so kill -9 never leaves it held. Each TryLock
// opens the file anew, so two runs of a job in one process exclude each
// other too.
type FileLocker struct{ Dir string }

// TryLock implements RunLocker.
func (l FileLocker) TryLock(_ context.Context, job string) (func(), bool, error) {
	if err := os.MkdirAll(l.Dir, durable.DirMode); err != nil {
		return nil, false, fmt.Errorf("creating lock folder: %w", err)
	}
	path := filepath.Join(l.Dir, "."+job+".lock")
	fl := flock.New(path, flock.SetPermissions(durable.FileMode))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, false, fmt.Errorf("locking %q: %w", path, err)
	}
	if !ok {
		return nil, false, nil
	}
	return func() { _ = fl.Close() }, true, nil
}

// advisoryKey maps a name to a PostgreSQL advisory-lock key.
func advisoryKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("lettrage\x00" + name))
	return int64(h.Sum64())
}

// PGLocker locks jobs with PostgreSQL session advisory locks, held on a
// dedicated connection for the length of the run: a replica that dies
// loses its connection and so its lock.
type PGLocker struct{ DB *sql.DB }

// TryLock implements RunLocker.
func (l PGLocker) TryLock(ctx context.Context, job string) (func(), bool, error) {
	conn, err := l.DB.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("taking a connection for the job lock: %w", err)
	}
	key := advisoryKey("job\x00" + job)
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("taking the job lock: %w", err)
	}
	if !got {
		conn.Close()
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, key)
		conn.Close()
	}, true, nil
}

// ErrNotLeader is what the elector answers a replica that is not the leader.
var ErrNotLeader = errors.New("not the leader")

// PGElector elects one leader among replicas sharing a PostgreSQL state
// store (gocron's distributed elector): the replica holding a session
// advisory lock on a dedicated connection leads; when it dies, its
// connection and lock go with it and the next replica to ask takes over.
type PGElector struct {
	DB *sql.DB

	mu   sync.Mutex
	conn *sql.Conn
}

var leaderKey = advisoryKey("leader")

// IsLeader implements gocron.Elector: nil when this replica leads.
func (e *PGElector) IsLeader(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if e.conn != nil {
		// Still leading only while the connection holding the lock lives.
		if err := e.conn.PingContext(ctx); err == nil {
			return nil
		}
		e.conn.Close()
		e.conn = nil
	}
	conn, err := e.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("electing a leader: %w", err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, leaderKey).Scan(&got); err != nil {
		conn.Close()
		return fmt.Errorf("electing a leader: %w", err)
	}
	if !got {
		conn.Close()
		return ErrNotLeader
	}
	e.conn = conn
	return nil
}

// Close gives up leadership.
func (e *PGElector) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = e.conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, leaderKey)
		e.conn.Close()
		e.conn = nil
	}
}
