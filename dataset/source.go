package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/chara-dev/chara/internal/wspath"
	"github.com/chara-dev/chara/manifests"
)

// ErrSourceChanged is returned when a kept image's raw file is not the
// bytes its decision names (replaced after curation, or a made-up sha256).
var ErrSourceChanged = errors.New("raw file does not match its curation decision")

// readSource reads the raw file of a decision, only inside the workspace
// (no symbolic link, no path out of it), and checks its SHA-256.
func readSource(workspace string, d manifests.Decision) ([]byte, error) {
	b, _, err := wspath.ReadFile(workspace, d.File)
	if err != nil {
		return nil, fmt.Errorf("class %q: %w", d.Class, err)
	}
	if err := sameSHA(d, sha256.Sum256(b)); err != nil {
		return nil, err
	}
	return b, nil
}

// checkSource checks a decision's raw file as readSource does, without
// keeping its bytes (for an image already processed).
func checkSource(workspace string, d manifests.Decision) error {
	f, err := wspath.Open(workspace, d.File)
	if err != nil {
		return fmt.Errorf("class %q: %w", d.Class, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read %s: %w", f.Name(), err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sameSHA(d, sum)
}

func sameSHA(d manifests.Decision, sum [32]byte) error {
	if got := hex.EncodeToString(sum[:]); got != d.SHA256 {
		return fmt.Errorf("%s (class %q): %w: content sha256 %.12s, decision %.12s (run \"chara curate\" again)", d.File, d.Class, ErrSourceChanged, got, d.SHA256)
	}
	return nil
}
