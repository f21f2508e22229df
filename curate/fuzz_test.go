package curate

import (
	"testing"

	"github.com/chara-dev/chara/curate/internal/synth"
	"github.com/chara-dev/chara/internal/imageio"
	"github.com/chara-dev/chara/internal/testutil"
)

// FuzzValidateAndHash feeds arbitrary bytes through the validate-and-hash
// path: it must never panic, must refuse what it cannot hash with a known
// reason, and must be deterministic. Run as a normal test it checks the
// seed corpus; `go test -fuzz FuzzValidateAndHash ./curate/` explores.
func FuzzValidateAndHash(f *testing.F) {
	pic := synth.Picture(3, 3, 120, 90)
	jpg := synth.JPEG(pic, 80)
	big := synth.JPEG(synth.Picture(3, 4, 520, 530), 70) // takes the 1/8-scale path
	f.Add(jpg)
	f.Add(big)
	f.Add(big[:len(big)/2])
	f.Add(synth.PNG(pic))
	f.Add(jpg[:len(jpg)/3])
	f.Add([]byte{})
	f.Add([]byte("<html>404</html>"))
	f.Add(testutil.PNGHeader(100000, 100000))
	f.Add(hugeGIF)
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 \x00\x00\x00\x00"))
	f.Add([]byte("BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00\xff\xff\x00\x00\xff\xff\x00\x00\x01\x00\x18\x00"))
	known := map[string]bool{"": true, imageio.ReasonEmpty: true, imageio.ReasonNotAnImage: true, imageio.ReasonUnsupported: true,
		imageio.ReasonTooLarge: true, imageio.ReasonTruncated: true, imageio.ReasonCorrupt: true}
	f.Fuzz(func(t *testing.T, b []byte) {
		fp := Analyze(b, 4_000_000)
		if !known[fp.Invalid] {
			t.Fatalf("unknown reason %q", fp.Invalid)
		}
		if fp.Invalid == "" && (fp.Width <= 0 || fp.Height <= 0 || int64(fp.Width)*int64(fp.Height) > 4_000_000) {
			t.Fatalf("accepted %dx%d", fp.Width, fp.Height)
		}
		if again := Analyze(b, 4_000_000); again != fp {
			t.Fatalf("not deterministic: %+v vs %+v", fp, again)
		}
	})
}
