package main

import (
	"encoding/json"
	"io"

	"github.com/chara-dev/chara/dataset"
	"github.com/chara-dev/chara/manifests"
)

// writeJSON prints v as indented JSON: what --json writes to stdout.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// The --json outputs of the commands whose packages have no JSON form of
// their own. docs/json.md is generated from jsonOutputs (jsonout_torch.go).

type importJSON struct {
	Class    string `json:"class" doc:"the class, as in chara.yaml"`
	Slug     string `json:"slug" doc:"its folder under raw/"`
	Dir      string `json:"dir" doc:"the folder imported"`
	Imported int    `json:"imported" doc:"new images added (files already there are skipped)"`
}

type splitCountsJSON struct {
	Train int `json:"train"`
	Val   int `json:"val"`
	Test  int `json:"test"`
}

func splitCounts(c manifests.SplitCounts) splitCountsJSON {
	return splitCountsJSON{Train: c.Train, Val: c.Val, Test: c.Test}
}

type datasetClassJSON struct {
	Label   int             `json:"label"`
	Class   string          `json:"class"`
	Kept    int             `json:"kept" doc:"images curation kept"`
	Counts  splitCountsJSON `json:"counts" doc:"rows per split"`
	Repeats int             `json:"repeats" doc:"oversampled training rows"`
	Added   int             `json:"added" doc:"images not in the previous build"`
	Dropped int             `json:"dropped" doc:"images of the previous build no longer in it"`
	Moved   int             `json:"moved" doc:"images on another split than in the previous build"`
	Inexact bool            `json:"inexact" doc:"near-duplicate groups made the exact counts impossible"`
}

type datasetBuildJSON struct {
	Dir       string             `json:"dir"`
	Version   string             `json:"version" doc:"content hash of the manifests"`
	PerClass  int                `json:"per_class"`
	Classes   []datasetClassJSON `json:"classes" doc:"in label order"`
	Processed int                `json:"processed" doc:"images resized in this build"`
	Reused    int                `json:"reused" doc:"images already resized"`
	Pruned    int                `json:"pruned" doc:"resized images deleted (made with other settings)"`
	Notes     []string           `json:"notes"`
}

func datasetBuildOut(r *dataset.Result) datasetBuildJSON {
	out := datasetBuildJSON{Dir: r.Dir, Version: r.Version, PerClass: r.PerClass, Processed: r.Processed,
		Reused: r.Reused, Pruned: r.Pruned, Notes: r.Notes, Classes: []datasetClassJSON{}}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	for _, s := range r.Stats {
		out.Classes = append(out.Classes, datasetClassJSON{Label: s.Label, Class: s.Class, Kept: s.Kept,
			Counts: splitCounts(s.Counts), Repeats: s.Repeats, Added: s.Added, Dropped: s.Dropped, Moved: s.Moved, Inexact: s.Inexact})
	}
	return out
}

type problemJSON struct {
	File string `json:"file" doc:"the manifest or image at fault"`
	Line int    `json:"line" doc:"manifest line, 0 if none"`
	Msg  string `json:"msg"`
}

type datasetVerifyJSON struct {
	Dir      string        `json:"dir"`
	OK       bool          `json:"ok" doc:"no problems (the exit code is 1 otherwise)"`
	Problems []problemJSON `json:"problems"`
}

type classJSON struct {
	Name    string          `json:"name"`
	Slug    string          `json:"slug" doc:"its folder name"`
	Listed  bool            `json:"listed" doc:"in chara.yaml (false: only in the dataset)"`
	Raw     int             `json:"raw" doc:"downloaded or imported files"`
	Curated int             `json:"curated" doc:"curation decisions"`
	Kept    int             `json:"kept" doc:"of which keep"`
	Dataset splitCountsJSON `json:"dataset" doc:"rows per split in the dataset"`
}

type compareJSON struct {
	Name       string  `json:"name"`
	Dir        string  `json:"dir"`
	Model      string  `json:"model"`
	Dataset    string  `json:"dataset"`
	TestAcc    float64 `json:"test_acc"`
	TestLoss   float64 `json:"test_loss"`
	BestValAcc float64 `json:"best_val_acc"`
	BestEpoch  int     `json:"best_epoch"`
	Epochs     int     `json:"epochs" doc:"epochs run"`
	Seconds    float64 `json:"seconds" doc:"training time"`
	Finished   bool    `json:"finished"`
	StopReason string  `json:"stop_reason,omitempty"`
}

// progressEvent is one line of --log-format json on stderr.
type progressEvent struct {
	Event  string `json:"event" doc:"log, progress, done, or a named event such as epoch"`
	Time   string `json:"time" doc:"RFC 3339, UTC"`
	Msg    string `json:"msg,omitempty" doc:"log: the line"`
	Task   string `json:"task,omitempty" doc:"progress, done: the task (a class, an epoch)"`
	N      int64  `json:"n,omitempty" doc:"progress, done: units done"`
	Total  int64  `json:"total,omitempty" doc:"progress, done: units in all, 0 if unknown"`
	Status string `json:"status,omitempty" doc:"progress, done: short status"`
}

type jsonOutput struct {
	Command string
	Doc     string
	Value   any
}
