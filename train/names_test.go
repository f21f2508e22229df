package train

import (
	"context"
	"errors"
	"testing"
)

// A dataset name that leaves datasets/ is refused before anything is read.
func TestDatasetNameIsChecked(t *testing.T) {
	for _, bad := range []string{"../../x", "a/b", "..", "bad\nname"} {
		if _, err := Run(context.Background(), t.TempDir(), quick("cnn", bad, "r", 1)...); !errors.Is(err, ErrOptions) {
			t.Errorf("dataset %q: %v, want ErrOptions", bad, err)
		}
	}
}
