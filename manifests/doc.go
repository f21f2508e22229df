// Package manifests holds chara's on-disk formats: the raw index written by
// scrape, the curation decisions, the split manifests, the class list and the
// dataset card. Every stage reads and writes its inputs and outputs through
// this package, so a stage can be rerun, inspected or replaced alone.
//
// Readers report the file and line of a malformed record; writers are atomic.
// The package depends on the standard library only (plus the stdlib-only
// internal/atomicfile helper).
package manifests
