package ocppclient

import (
	"os"

	"go.etcd.io/bbolt"
)

// CrashImageForTest writes to dbPath the files a crash would leave of q's
// database and log now, and returns the log's path beside it ("" without a
// log). With killed the crash is a kill -9: the kernel keeps everything
// written. Without, it is a power cut: of the log only what was synced
// survives, the rest of the file reads as zeros (as it was allocated), and
// of the database its last commit.
func CrashImageForTest(q *Queue, dbPath string, killed bool) (logPath string, err error) {
	// The moment of the crash is one when no acknowledgement's background
	// sync is under way: tests then know which are durable.
	q.bg.Wait()
	q.wmu.Lock()
	defer q.wmu.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.db.View(func(tx *bbolt.Tx) error { return tx.CopyFile(dbPath, 0o600) }); err != nil {
		return "", err
	}
	if q.log == nil {
		return "", nil
	}
	data, err := os.ReadFile(q.log.path)
	if err != nil {
		return "", err
	}
	if !killed {
		clear(data[q.log.synced-q.log.base:])
	}
	logPath = defaultLogPath(dbPath, string(q.bucket))
	return logPath, os.WriteFile(logPath, data, 0o600)
}

// LogSyncedForTest returns how many of the first bytes of q's log file are
// synced: what a power cut now leaves of it, at the least.
func LogSyncedForTest(q *Queue) int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.log.synced - q.log.base
}

// LogSyncsForTest returns how many fdatasyncs q's log has done for appends.
func LogSyncsForTest(q *Queue) uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.log.syncs
}
