package main

// One source tree, two binaries (README, "Two binaries").
//
// The full build (go build ./cmd/chara; make build writes it as
// bin/chara-torch) links libtorch through train/ and gotch and runs every
// command. The light build (go build -tags chara_notorch ./cmd/chara, with
// no libtorch cgo flags; make build writes it as bin/chara) links neither:
// it starts in milliseconds, needs no libtorch on the machine (a crawl
// worker, a machine that exports an ImageFolder to train elsewhere), and
// runs scrape, import, curate, review, dataset, classes, init, config,
// collect, version, help, doctor's non-libtorch part and a chara run that
// trains nothing (--only scrape, curate or dataset) itself.
//
// Both builds share every command's definition (name, usage, flags:
// cmd_<name>.go), so "chara --help" and "chara train --help" read the
// same. The action of a command that needs libtorch lives in
// cmd_<name>_torch.go (build tag !chara_notorch); in the light build
// (torch_light.go) that action hands the whole command line to chara-torch
// with execve: the same process id, signals, standard streams and exit
// code, as if the full binary had been started. A process boundary rather
// than loading libtorch lazily (dlopen) because gotch links libtorch at
// build time and runs its static initialisers at start, and Go cannot
// unload it; execve costs one more start (milliseconds) against the
// seconds a libtorch command runs.

// delegated names the commands ("train", "weights fetch") whose action
// the light build hands to chara-torch; empty in the full build.
var delegated = map[string]bool{}
