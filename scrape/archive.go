package scrape

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/chara-dev/chara/manifests"
)

// Archive statuses.
const (
	StatusDownloaded = "downloaded" // the file is in raw/
	StatusDuplicate  = "duplicate"  // same content as an archived file
	StatusFiltered   = "filtered"   // refused after download (type, size)
	// Curation's verdicts are stored as "curated:<verdict>", review rejects
	// as "curated:rejected".
)

// ArchivePath is archive.db inside the workspace.
func ArchivePath(workspace string) string { return manifests.ArchivePath(workspace) }

// PostKey is the archive key of a post: "<source>:<post_id>".
func PostKey(source, id string) string { return source + ":" + id }

// SHA256Key and MD5Key are the archive keys of a file's content.
func SHA256Key(sum string) string { return "sha256:" + sum }
func MD5Key(sum string) string    { return "md5:" + sum }

// Archive is the download archive: every post and file content already
// handled (downloaded, refused, or removed by curation). It lives in an
// embedded SQLite database; keys are PostKey, SHA256Key and MD5Key.
type Archive struct {
	db   *sql.DB
	path string
}

// OpenArchive opens (creating if needed) the archive at path.
func OpenArchive(path string) (*Archive, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS archive (
		key TEXT PRIMARY KEY,
		status TEXT NOT NULL,
		class TEXT NOT NULL DEFAULT '',
		sha256 TEXT NOT NULL DEFAULT '',
		at INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX IF NOT EXISTS archive_sha256 ON archive (sha256) WHERE sha256 != '';
	CREATE TABLE IF NOT EXISTS cursors (
		listing TEXT PRIMARY KEY,
		cursor TEXT NOT NULL,
		at INTEGER NOT NULL
	) WITHOUT ROWID`); err != nil {
		db.Close()
		return nil, fmt.Errorf("archive %s: %w", path, err)
	}
	return &Archive{db: db, path: path}, nil
}

// Close closes the database.
func (a *Archive) Close() error { return a.db.Close() }

// Has reports whether any of keys is archived.
func (a *Archive) Has(ctx context.Context, keys ...string) (bool, error) {
	for _, k := range keys {
		if k == "" {
			continue
		}
		var one int
		err := a.db.QueryRowContext(ctx, `SELECT 1 FROM archive WHERE key = ?`, k).Scan(&one)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("archive %s: %w", a.path, err)
		}
	}
	return false, nil
}

// Status returns a key's status.
func (a *Archive) Status(ctx context.Context, key string) (string, bool, error) {
	var s string
	err := a.db.QueryRowContext(ctx, `SELECT status FROM archive WHERE key = ?`, key).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("archive %s: %w", a.path, err)
	}
	return s, true, nil
}

// Entry is what Put records for each key.
type Entry struct {
	Status string
	Class  string // class slug
	SHA256 string // the file's content, when known: links post and md5 keys to it
}

// Put records keys in one durable transaction. With overwrite false, keys
// already present keep their entry.
func (a *Archive) Put(ctx context.Context, e Entry, overwrite bool, keys ...string) error {
	return a.PutMany(ctx, Put{Entry: e, Overwrite: overwrite, Keys: keys})
}

// Put is one Entry for its Keys, for PutMany.
type Put struct {
	Entry
	Overwrite bool
	Keys      []string
}

const (
	putQuery          = `INSERT INTO archive (key, status, class, sha256, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING`
	putOverwriteQuery = `INSERT INTO archive (key, status, class, sha256, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(key) DO UPDATE SET status = excluded.status, at = excluded.at,
				class = CASE WHEN excluded.class = '' THEN class ELSE excluded.class END,
				sha256 = CASE WHEN excluded.sha256 = '' THEN sha256 ELSE excluded.sha256 END`
)

// PutMany records several puts in one durable transaction (one commit,
// one fsync: a group commit), in order; all or none are recorded.
func (a *Archive) PutMany(ctx context.Context, puts ...Put) error {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("archive %s: %w", a.path, err)
	}
	defer tx.Rollback()
	var stmts [2]*sql.Stmt
	now := time.Now().Unix()
	for _, p := range puts {
		i, q := 0, putQuery
		if p.Overwrite {
			i, q = 1, putOverwriteQuery
		}
		if stmts[i] == nil {
			if stmts[i], err = tx.PrepareContext(ctx, q); err != nil {
				return fmt.Errorf("archive %s: %w", a.path, err)
			}
			defer stmts[i].Close()
		}
		for _, k := range p.Keys {
			if k == "" {
				continue
			}
			if _, err := stmts[i].ExecContext(ctx, k, p.Status, p.Class, p.SHA256, now); err != nil {
				return fmt.Errorf("archive %s: put %s: %w", a.path, k, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("archive %s: commit: %w", a.path, err)
	}
	return nil
}

// Len is the number of archived keys.
func (a *Archive) Len(ctx context.Context) (int, error) {
	var n int
	if err := a.db.QueryRowContext(ctx, `SELECT count(*) FROM archive`).Scan(&n); err != nil {
		return 0, fmt.Errorf("archive %s: %w", a.path, err)
	}
	return n, nil
}

// SetStatusBySHA256 gives every key linked to the content sha256 (its post
// and md5 keys) a new status, and returns those keys.
func (a *Archive) SetStatusBySHA256(ctx context.Context, sha, status string) ([]string, error) {
	rows, err := a.db.QueryContext(ctx, `UPDATE archive SET status = ?, at = ? WHERE sha256 = ? RETURNING key`, status, time.Now().Unix(), sha)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", a.path, err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("archive %s: %w", a.path, err)
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

func listingKey(class, source, query string) string { return class + "\x00" + source + "\x00" + query }

// Cursor returns where a (class, source, query) listing stopped last
// time: the cursor of the last page it read, "" for its start.
func (a *Archive) Cursor(ctx context.Context, class, source, query string) (string, error) {
	var c string
	err := a.db.QueryRowContext(ctx, `SELECT cursor FROM cursors WHERE listing = ?`, listingKey(class, source, query)).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("archive %s: %w", a.path, err)
	}
	return c, nil
}

// SetCursor records where a listing is; "" (its end reached) forgets it,
// so that the next run reads it from the start, new posts first.
func (a *Archive) SetCursor(ctx context.Context, class, source, query, cursor string) error {
	var err error
	if cursor == "" {
		_, err = a.db.ExecContext(ctx, `DELETE FROM cursors WHERE listing = ?`, listingKey(class, source, query))
	} else {
		_, err = a.db.ExecContext(ctx, `INSERT INTO cursors (listing, cursor, at) VALUES (?, ?, ?)
			ON CONFLICT(listing) DO UPDATE SET cursor = excluded.cursor, at = excluded.at`,
			listingKey(class, source, query), cursor, time.Now().Unix())
	}
	if err != nil {
		return fmt.Errorf("archive %s: cursor: %w", a.path, err)
	}
	return nil
}
