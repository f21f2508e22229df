package train

import (
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sugarme/gotch"

	"github.com/chara-dev/chara/internal/testutil"
	"github.com/chara-dev/chara/train/models"
	"github.com/chara-dev/chara/train/torchrt"
)

// The exported state dict loads with torch.load, holds every variable with
// its shape and values, and the effnet-b0 backbone loads into torchvision's
// efficientnet_b0 with strict=True.
func TestStateDictLoadsInPyTorch(t *testing.T) {
	py := testutil.TorchPython()
	if py == "" {
		t.Skip("no python3 with torch and torchvision (apt-get install python3-torchvision, or set CHARA_PYTHON)")
	}
	th := torchrt.NewThread(0)
	defer th.Close()
	dir := t.TempDir()
	for _, name := range []string{"cnn2", "effnet-b0"} {
		path := filepath.Join(dir, name+".pt")
		sums := map[string]float64{}
		shapes := map[string][]int64{}
		err := th.Do(context.Background(), func() error {
			torchrt.ManualSeed(3)
			var opts []models.Option
			if name == "effnet-b0" {
				opts = append(opts, models.WithInputSize(64, 48))
			}
			m, err := models.New(name, 4, gotch.CPU, opts...)
			if err != nil {
				return err
			}
			for n, v := range m.VarStore().Variables() {
				s := 0.0
				for _, x := range v.Float64Values() {
					s += x
				}
				sums[n] = s
				shapes[n] = v.MustSize()
			}
			return WriteStateDict(path, m.VarStore())
		})
		if err != nil {
			t.Fatal(err)
		}
		script := `
import json, sys, torch, torchvision
sd = torch.load(sys.argv[1])
out = {k: [float(v.double().sum()), list(v.shape), str(v.dtype)] for k, v in sd.items()}
if sys.argv[2] == "effnet-b0":
    m = torchvision.models.efficientnet_b0()
    bb = {k: v for k, v in sd.items() if k.startswith("features.")}
    missing, unexpected = m.load_state_dict(bb, strict=False)
    out["__missing_features__"] = [k for k in missing if k.startswith("features.")]
    out["__unexpected__"] = unexpected
print(json.dumps(out))
`
		b, err := exec.Command(py, "-c", script, path, name).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: torch.load: %v\n%s", name, err, b)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
		for n, s := range sums {
			e, ok := got[n].([]any)
			if !ok {
				t.Errorf("%s: %s missing from the state dict", name, n)
				continue
			}
			if v := e[0].(float64); math.Abs(v-s) > 1e-3*(1+math.Abs(s)) {
				t.Errorf("%s: %s sums to %v in PyTorch, %v here", name, n, v, s)
			}
			if shape := e[1].([]any); len(shape) != len(shapes[n]) {
				t.Errorf("%s: %s shape %v, want %v", name, n, shape, shapes[n])
			}
		}
		if name == "effnet-b0" {
			if m := got["__missing_features__"].([]any); len(m) != 0 {
				t.Errorf("torchvision efficientnet_b0 lacks %d backbone tensors, e.g. %v", len(m), m[0])
			}
			if u := got["__unexpected__"].([]any); len(u) != 0 {
				t.Errorf("unexpected keys for torchvision: %v", u)
			}
		}
	}
}
