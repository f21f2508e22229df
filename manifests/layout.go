package manifests

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// The workspace layout. Every file and folder chara keeps in a workspace is
// named here (and in the *Path/*Dir functions next to each format); no
// other package spells a workspace file name.
const (
	ConfigFile  = "chara.yaml" // the workspace's configuration
	StateDir    = ".chara"     // stage records, lock
	ReportFile  = "report.md"  // chara run's report
	RunCardFile = "run.json"   // a run's card
	MetricsFile = "metrics.csv"
	CardFile    = "dataset.json"
	ClassesFile = "classes.json"
)

// ConfigPath is <workspace>/chara.yaml.
func ConfigPath(workspace string) string { return filepath.Join(workspace, ConfigFile) }

// StagesPath is <workspace>/.chara/stages.json: chara run's stage records.
func StagesPath(workspace string) string { return filepath.Join(workspace, StateDir, "stages.json") }

// ReportPath is <workspace>/report.md.
func ReportPath(workspace string) string { return filepath.Join(workspace, ReportFile) }

// CuratedDir is <workspace>/curated (decisions, review journal, caches).
func CuratedDir(workspace string) string { return filepath.Join(workspace, "curated") }

// CurateReportPath is curation's HTML report, curated/report.html.
func CurateReportPath(workspace string) string {
	return filepath.Join(CuratedDir(workspace), "report.html")
}

// HashCachePath is curation's hash cache, curated/_hashes.jsonl.
func HashCachePath(workspace string) string {
	return filepath.Join(CuratedDir(workspace), "_hashes.jsonl")
}

// ArchivePath is scrape's download archive, <workspace>/archive.db.
func ArchivePath(workspace string) string { return filepath.Join(workspace, "archive.db") }

// DatasetsDir is <workspace>/datasets.
func DatasetsDir(workspace string) string { return filepath.Join(workspace, "datasets") }

// CardPath is a dataset folder's dataset.json.
func CardPath(datasetDir string) string { return filepath.Join(datasetDir, CardFile) }

// ClassesPath is a dataset folder's classes.json.
func ClassesPath(datasetDir string) string { return filepath.Join(datasetDir, ClassesFile) }

// SplitPath is a dataset folder's <split>.csv.
func SplitPath(datasetDir string, s Split) string {
	return filepath.Join(datasetDir, string(s)+".csv")
}

// DatasetImagesDir is a dataset folder's images/ (the processed images).
func DatasetImagesDir(datasetDir string) string { return filepath.Join(datasetDir, "images") }

// GroupsPath is a dataset folder's groups.json (each row's split group).
func GroupsPath(datasetDir string) string { return filepath.Join(datasetDir, "groups.json") }

// BuildCachePath is a dataset folder's cache.json (processed images by
// source and settings, for rebuilds).
func BuildCachePath(datasetDir string) string { return filepath.Join(datasetDir, "cache.json") }

// RunReportPath is a run folder's report.md.
func RunReportPath(runDir string) string { return filepath.Join(runDir, ReportFile) }

// DatasetCacheDir is a dataset folder's cache/ (training's tensor caches).
func DatasetCacheDir(datasetDir string) string { return filepath.Join(datasetDir, "cache") }

// RunsDir is <workspace>/runs.
func RunsDir(workspace string) string { return filepath.Join(workspace, "runs") }

// RunCardPath is a run folder's run.json.
func RunCardPath(runDir string) string { return filepath.Join(runDir, RunCardFile) }

// MetricsPath is a run folder's metrics.csv.
func MetricsPath(runDir string) string { return filepath.Join(runDir, MetricsFile) }

// FindWorkspace finds the workspace holding dir, as git finds .git: the
// nearest of dir and its parents with a chara.yaml or a .chara folder. It
// returns dir itself when none has (a workspace yet to be made there).
func FindWorkspace(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	for d := abs; ; {
		for _, marker := range []string{ConfigFile, StateDir} {
			if _, err := os.Stat(filepath.Join(d, marker)); err == nil {
				if d == abs {
					return dir // keep the caller's spelling
				}
				return d
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// Run is a run folder found in a workspace, with its card.
type Run struct {
	Name string
	Dir  string
	Card *RunCard
}

// ListRuns is the one listing of a workspace's runs: every folder under
// runs/ whose run.json reads, by name. Folders without a readable card (a
// run being written, a foreign folder) are left out.
func ListRuns(workspace string) ([]Run, error) {
	ents, err := os.ReadDir(RunsDir(workspace))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Run
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := RunDir(workspace, e.Name())
		card, err := ReadRunCard(RunCardPath(dir))
		if err != nil {
			continue
		}
		out = append(out, Run{Name: e.Name(), Dir: dir, Card: card})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ErrNoRun is returned when a run name or folder names no run.
var ErrNoRun = errors.New("no such run")

// ResolveRun is the one way a command turns a run argument into a run
// folder: a plain name is runs/<name> of the workspace; a path is taken as
// given (relative to the current folder) or, failing that, relative to
// the workspace (so "runs/X" with --workspace W is W/runs/X, never
// W/runs/runs/X). The folder must hold a run.json.
func ResolveRun(workspace, arg string) (string, error) {
	var tried []string
	try := func(dir string) bool {
		tried = append(tried, dir)
		_, err := os.Stat(RunCardPath(dir))
		return err == nil
	}
	if CheckPlainName(arg) == nil {
		if d := RunDir(workspace, arg); try(d) {
			return d, nil
		}
	}
	if try(arg) {
		return arg, nil
	}
	if !filepath.IsAbs(arg) {
		if d := filepath.Join(workspace, arg); try(d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("run %q: %w (no %s in %v)", arg, ErrNoRun, RunCardFile, tried)
}
