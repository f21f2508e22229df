package manifests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/chara-dev/chara/internal/atomicfile"
)

// readJSONL decodes one JSON object per line into T, calling check on each.
// A final line without a newline is a torn append (the process died while
// writing it) and is ignored when tolerateTorn is set.
func readJSONL[T any](path string, tolerateTorn bool, check func(*T) (field string, err error)) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	r := bufio.NewReaderSize(f, 1<<16)
	line := 0
	for {
		b, err := r.ReadBytes('\n')
		if len(b) == 0 && errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		line++
		torn := errors.Is(err, io.EOF) // no trailing newline
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		var v T
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if derr := dec.Decode(&v); derr != nil {
			if torn && tolerateTorn {
				break
			}
			return nil, recErr(path, line, "", "invalid JSON: %v", derr)
		}
		if check != nil {
			if field, cerr := check(&v); cerr != nil {
				return nil, &RecordError{File: path, Line: line, Field: field, Err: cerr}
			}
		}
		out = append(out, v)
		if torn {
			break
		}
	}
	return out, nil
}

// writeJSONL atomically writes one JSON object per line.
func writeJSONL[T any](path string, recs []T) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		for i := range recs {
			if err := enc.Encode(&recs[i]); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
}

// appendJSONL appends records to a JSONL journal and fsyncs it. Used for
// append-only journals where rewriting the whole file per record would be
// quadratic; readers tolerate a torn last line.
func appendJSONL[T any](path string, recs ...T) error {
	if err := repairTornTail(path); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			f.Close()
			return err
		}
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("append %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("append %s: fsync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	atomicfile.Boundary("after append " + path)
	return nil
}

// repairTornTail cuts a journal back to its last complete line, so that an
// append after a crash never glues a new record onto a torn one.
func repairTornTail(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	// The common case reads one byte, not the whole journal: appending
	// record by record stays linear.
	last := make([]byte, 1)
	if st.Size() == 0 {
		return nil
	}
	if _, err := f.ReadAt(last, st.Size()-1); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if last[0] == '\n' {
		return nil
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	cut := bytes.LastIndexByte(b, '\n') + 1
	if err := os.Truncate(path, int64(cut)); err != nil {
		return fmt.Errorf("repair torn journal %s: %w", path, err)
	}
	return nil
}
