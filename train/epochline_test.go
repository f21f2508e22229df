package train

import (
	"strings"
	"testing"
)

func TestKerasLineFitsIn80Columns(t *testing.T) {
	for _, c := range []struct {
		row    EpochRow
		epochs int
		best   bool
	}{
		{EpochRow{Epoch: 3, Seconds: 12, TrainLoss: 0.41, TrainAcc: 0.81, ValLoss: 0.5, ValAcc: 0.79}, 50, true},
		{EpochRow{Epoch: 100, Seconds: 1234, TrainLoss: 1.6094, TrainAcc: 0.2, ValLoss: 1.6094, ValAcc: 0.2}, 100, true},
	} {
		l := kerasLine(c.row, c.epochs, c.best)
		if len(l) > 80 || strings.Contains(l, "\n") {
			t.Errorf("%d columns: %q", len(l), l)
		}
		if !strings.Contains(l, "val_acc") || strings.HasSuffix(l, "*") != c.best {
			t.Errorf("line %q", l)
		}
	}
}
