package suggest

import "testing"

func TestNearest(t *testing.T) {
	cmds := []string{"init", "scrape", "import", "curate", "train", "predict", "run"}
	for _, c := range []struct{ in, want string }{
		{"trian", "train"}, {"scarpe", "scrape"}, {"predcit", "predict"}, {"epocs", ""}, {"xyzzy", ""},
	} {
		if got := Nearest(c.in, cmds); got != c.want {
			t.Errorf("Nearest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := Nearest("epocs", []string{"epochs", "batch_size", "lr"}); got != "epochs" {
		t.Errorf("Nearest(epocs) = %q, want epochs", got)
	}
}
