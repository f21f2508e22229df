// Package testutil holds helpers that several packages' tests share. It is
// imported by tests only.
package testutil

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
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

// PNGHeader is a valid PNG signature and IHDR declaring w x h (8-bit RGB)
// and nothing else: what a decompression bomb declares, without its data.
func PNGHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// StartHelper starts this test binary again, running only the test named
// test (a helper that reads its work from env, "KEY=value" entries added
// to the environment), with its standard error on ours. It is killed
// when t ends.
func StartHelper(t testing.TB, test string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// Halves is a w x h picture whose left half is left and right half right.
func Halves(w, h int, left, right color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if x < w/2 {
				img.SetNRGBA(x, y, left)
			} else {
				img.SetNRGBA(x, y, right)
			}
		}
	}
	return img
}

// NearOpaque reports whether a is opaque and within 12 of b in each of
// R, G and B (what a JPEG round trip keeps of a flat colour).
func NearOpaque(a, b color.NRGBA) bool {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return d(a.R, b.R) < 12 && d(a.G, b.G) < 12 && d(a.B, b.B) < 12 && a.A == 255
}
