package manifests

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every error about a bad record.
var ErrMalformed = errors.New("malformed record")

// RecordError names the file and line of a bad record.
type RecordError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *RecordError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: field %q: %v", loc, e.Field, e.Err)
	}
	return fmt.Sprintf("%s: %v", loc, e.Err)
}

func (e *RecordError) Unwrap() []error { return []error{ErrMalformed, e.Err} }

func recErr(file string, line int, field string, format string, args ...any) error {
	return &RecordError{File: file, Line: line, Field: field, Err: fmt.Errorf(format, args...)}
}

// inFile sets the file of a *RecordError that lacks one.
func inFile(path string, err error) error {
	if re, ok := err.(*RecordError); ok && re.File == "" {
		c := *re
		c.File = path
		return &c
	}
	return err
}
