package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoticesAreCurrent checks that NOTICES.md names every module compiled
// into chara (scripts/notices.sh rewrites it) and that the LICENSE exists.
func TestNoticesAreCurrent(t *testing.T) {
	root := filepath.Join("..", "..")
	lic, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	if err != nil || !strings.HasPrefix(string(lic), "MIT License") {
		t.Fatalf("LICENSE: %v", err)
	}
	notices, err := os.ReadFile(filepath.Join(root, "NOTICES.md"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}}@{{.Version}}{{end}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	mods := map[string]bool{}
	for _, m := range strings.Fields(string(out)) {
		mods[m] = true
	}
	if len(mods) < 20 {
		t.Fatalf("go list found only %d modules", len(mods))
	}
	for m := range mods {
		if !strings.Contains(string(notices), "\n### "+m+"\n") {
			t.Errorf("NOTICES.md lacks %s: run scripts/notices.sh", m)
		}
	}
	for _, lib := range []string{"libtorch_cpu", "libjpeg", "libstdc++"} {
		if !strings.Contains(string(notices), lib) {
			t.Errorf("NOTICES.md does not name %s", lib)
		}
	}
}
