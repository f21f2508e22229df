// Package testutil holds helpers that several packages' tests share. It is
// imported by tests only.
package testutil

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TorchPython finds a Python that imports torchvision (Debian's
// python3-torchvision; $CHARA_PYTHON first), or "". The python3 first on
// PATH may be another installation without it.
func TorchPython() string {
	var cands []string
	if p := os.Getenv("CHARA_PYTHON"); p != "" {
		cands = append(cands, p)
	}
	cands = append(cands, "python3", "/usr/bin/python3")
	for _, c := range cands {
		if exec.Command(c, "-c", "import torchvision").Run() == nil {
			return c
		}
	}
	return ""
}

// RSSKB is this process's resident memory in KiB (VmRSS); the test is
// skipped where /proc does not say.
func RSSKB(t testing.TB) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(sc.Text())[1])
			return n
		}
	}
	t.Skip("no VmRSS")
	return 0
}
