//go:build !chara_notorch

package main

import (
	"github.com/chara-dev/chara/curate"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/scrape"
	"github.com/chara-dev/chara/train"
	"github.com/chara-dev/chara/train/predict"
)

// jsonOutputs lists every --json output for docs/json.md. It lives in the
// full build only (it names train's types); the light build prints the
// same JSON for the commands it runs itself.
var jsonOutputs = []jsonOutput{
	{"chara scrape --json", "The scrape summary: per class and source what was listed, filtered, known, downloaded and failed.", scrape.Summary{}},
	{"chara scrape --status --json", "A crawl shared through scrape.redis: per class the job's files, its listings and its workers.", jobStatusJSON{}},
	{"chara collect WORKSPACE... --json", "What was gathered from the workers' workspaces.", scrape.CollectSummary{}},
	{"chara import DIR --class NAME --json", "", importJSON{}},
	{"chara curate --json", "Per class what curation kept and why the rest went.", curate.Report{}},
	{"chara dataset build --json", "", datasetBuildJSON{}},
	{"chara dataset verify --json", "", datasetVerifyJSON{}},
	{"chara train --json", "The run card (`runs/NAME/run.json`).", manifests.RunCard{}},
	{"chara evaluate RUN --json", "The run's scores on a split or a folder (the report files are in `dir`).", train.EvalResult{}},
	{"chara suspects --json", "The ranking (`curated/_suspects.json`), most suspect first.", manifests.Suspects{}},
	{"chara predict IMAGE... --json", "A list, one entry per image; an image that could not be read has `error` instead of `predictions`.", []predict.Result{}},
	{"chara compare --json", "A list of runs, best test accuracy first.", []compareJSON{}},
	{"chara classes list --json", "A list of classes with their image counts per stage.", []classJSON{}},
	{"chara doctor --json", "", doctorReport{}},
	{"--log-format json (stderr)", "Progress and log lines, one JSON object each.", progressEvent{}},
	{"--log-format json, \"event\": \"epoch\"", "After each training epoch (also `time`).", train.EpochEvent{}},
}

func compareOut(runs []train.RunSummary) []compareJSON {
	out := []compareJSON{}
	for _, r := range runs {
		out = append(out, compareJSON{Name: r.Name, Dir: r.Dir, Model: r.Model, Dataset: r.Dataset, TestAcc: r.TestAcc,
			TestLoss: r.TestLoss, BestValAcc: r.BestValAcc, BestEpoch: r.BestEpoch, Epochs: r.Epochs, Seconds: r.Seconds,
			Finished: r.Finished, StopReason: r.StopReason})
	}
	return out
}
