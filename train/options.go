package train

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sugarme/gotch"

	"github.com/chara-dev/chara/internal/progress"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/models"
	"github.com/chara-dev/chara/train/openset"
	"github.com/chara-dev/chara/train/torchrt"
)

// Config is what a run was trained with; it is saved in every checkpoint
// and in run.json.
type Config struct {
	Model         string  `json:"model"`
	Dataset       string  `json:"dataset"`
	Epochs        int     `json:"epochs"`
	BatchSize     int     `json:"batch_size"`
	LR            float64 `json:"lr"`
	Patience      int     `json:"patience"` // 0: no early stopping
	Seed          int64   `json:"seed"`
	Device        string  `json:"device"`
	Threads       int     `json:"threads"`
	Freeze        bool    `json:"freeze"`
	FinetuneAfter int     `json:"finetune_after"` // with Freeze: unfreeze after this many epochs (0: never)
	FinetuneLR    float64 `json:"finetune_lr"`    // learning rate once unfrozen
	Augment       bool    `json:"augment"`
	AMP           bool    `json:"amp,omitempty"` // bf16 autocast, CUDA only
	Weights       string  `json:"weights,omitempty"`
	// InputAdapt is how dataset images reach a model input of another
	// shape: pad or stretch ("": recipe.DefaultAdapt).
	InputAdapt string `json:"input_adapt,omitempty"`
	Name       string `json:"name"`
}

// Option configures Run.
type Option func(*options)

type options struct {
	Config
	resume   bool
	changes  bool // resume: the settings given may differ from the run's
	reporter progress.Reporter
	// openSetFRR is the target false-rejection rate of the open-set
	// threshold calibrated on the validation split.
	openSetFRR float64
	// test hooks
	afterEpoch func(epoch int)
	// valAcc replaces the measured validation accuracy of an epoch.
	valAcc func(epoch int, acc float64) float64
	// crashAt, when it returns true, stops the run at that write boundary
	// of the end of an epoch as a kill would.
	crashAt func(epoch int, step string) bool
	// nonFiniteAt forces a NaN loss at this (epoch, batch), 1-based.
	nonFiniteAt [2]int
}

func defaultOptions() options {
	return options{
		Config: Config{
			Epochs:    50,
			BatchSize: 32,
			LR:        1e-3,
			Patience:  7,
			Seed:      1,
			Device:    "auto",
		},
		reporter:   progress.Nop(),
		openSetFRR: openset.DefaultFRR,
	}
}

// WithOpenSetFRR sets the target false-rejection rate of the "none of these
// characters" threshold, calibrated on the validation split (default 5%).
func WithOpenSetFRR(frr float64) Option { return func(o *options) { o.openSetFRR = frr } }

// WithModel picks the model: effnet-b0, cnn or cnn2 (required).
func WithModel(name string) Option { return func(o *options) { o.Model = name } }

// WithDataset names the dataset under datasets/ (required).
func WithDataset(name string) Option { return func(o *options) { o.Dataset = name } }

// WithEpochs sets the maximum number of epochs (default 50).
func WithEpochs(n int) Option { return func(o *options) { o.Epochs = n } }

// WithBatchSize sets the batch size (default 32).
func WithBatchSize(n int) Option { return func(o *options) { o.BatchSize = n } }

// WithLR sets Adam's learning rate (default 1e-3).
func WithLR(lr float64) Option { return func(o *options) { o.LR = lr } }

// WithPatience stops after n epochs without a better validation accuracy
// and restores the best weights (default 7; 0 turns early stopping off).
func WithPatience(n int) Option { return func(o *options) { o.Patience = n } }

// WithSeed seeds Go's generators and libtorch's (default 1).
func WithSeed(seed int64) Option { return func(o *options) { o.Seed = seed } }

// WithAMP runs forward passes under bf16 autocast (CUDA only; Run refuses
// it on the CPU).
func WithAMP(on bool) Option { return func(o *options) { o.AMP = on } }

// WithDevice picks auto, cpu, cuda or cuda:N (default auto).
func WithDevice(d string) Option { return func(o *options) { o.Device = d } }

// WithThreads sets libtorch's intra-op thread count (0: libtorch's default).
func WithThreads(n int) Option { return func(o *options) { o.Threads = n } }

// WithFreeze trains only the head of effnet-b0 on backbone features computed
// once and cached on disk. finetuneAfter > 0 unfreezes the whole network
// after that many epochs, at a tenth of the learning rate.
func WithFreeze(freeze bool, finetuneAfter int) Option {
	return func(o *options) { o.Freeze, o.FinetuneAfter = freeze, finetuneAfter }
}

// WithAugment turns on training-set augmentation (flip, crop, colour).
func WithAugment(on bool) Option { return func(o *options) { o.Augment = on } }

// WithWeights loads pretrained (ImageNet) weights for effnet-b0 from path.
func WithWeights(path string) Option { return func(o *options) { o.Weights = path } }

// WithInputAdapt sets how dataset images are brought to a model input of
// another shape: "pad" or "stretch" (default recipe.DefaultAdapt).
func WithInputAdapt(a string) Option { return func(o *options) { o.InputAdapt = a } }

// WithName names the run folder runs/<name> (default
// <model>-<dataset>-<timestamp>).
func WithName(name string) Option { return func(o *options) { o.Name = name } }

// WithResume continues the named run from its last checkpoint, as it was
// defined: the run's stored settings are the defaults, and an option given
// with a different value is refused (ErrOptions) unless WithChanges says it
// is meant. Device, threads and the reporter may always change.
func WithResume(on bool) Option { return func(o *options) { o.resume = on } }

// WithChanges lets a resumed run take the options given where they differ
// from its stored settings: epochs, patience, learning rates, finetune_after,
// augment and amp. What defines the run (model, dataset, weights, seed,
// batch size, freeze, input_adapt) never changes.
func WithChanges(on bool) Option { return func(o *options) { o.changes = on } }

// WithReporter receives progress and the per-epoch lines.
func WithReporter(r progress.Reporter) Option {
	return func(o *options) {
		if r != nil {
			o.reporter = r
		}
	}
}

// ErrOptions is returned for invalid options.
var ErrOptions = errors.New("invalid training options")

func (o *options) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrOptions, fmt.Sprintf(format, args...))
	}
	known := false
	for _, n := range models.Names {
		known = known || n == o.Model
	}
	switch {
	case o.Model == "":
		return bad("no model (want one of %s)", strings.Join(models.Names, ", "))
	case !known:
		return bad("model %q: %v", o.Model, models.ErrUnknownModel)
	case o.Dataset == "":
		return bad("no dataset")
	case o.Epochs <= 0:
		return bad("epochs must be positive, got %d", o.Epochs)
	case o.BatchSize <= 0:
		return bad("batch size must be positive, got %d", o.BatchSize)
	case !(o.LR > 0):
		return bad("learning rate must be positive, got %v", o.LR)
	case o.Patience < 0:
		return bad("patience must not be negative, got %d", o.Patience)
	case o.FinetuneAfter < 0:
		return bad("finetune-after must not be negative")
	case o.FinetuneAfter > 0 && !o.Freeze:
		return bad("finetune-after needs freeze")
	case o.Freeze && o.Augment && o.FinetuneAfter == 0:
		return bad("augment has no effect with a frozen backbone (features are computed once); drop one")
	case o.resume && o.Name == "":
		return bad("resume needs the run's name")
	}
	if err := manifests.CheckDatasetName(o.Dataset); err != nil {
		return bad("%v", err)
	}
	if o.Name != "" {
		if err := checkRunName(o.Name); err != nil {
			return bad("%v", err)
		}
	}
	dev, err := ParseDevice(o.Device)
	if err != nil {
		return bad("%v", err)
	}
	if o.AMP && !dev.IsCuda() {
		return bad("amp (bf16 autocast) needs a CUDA device; device %q is the CPU", o.Device)
	}
	if o.FinetuneLR == 0 {
		o.FinetuneLR = o.LR / 10
	}
	return nil
}

// ParseDevice maps auto, cpu, cuda or cuda:N to a gotch device; auto is
// the first CUDA device when libtorch sees one, else the CPU.
func ParseDevice(s string) (gotch.Device, error) {
	switch s {
	case "", "auto":
		if torchrt.CUDAAvailable() {
			return gotch.CudaBuilder(0), nil
		}
		return gotch.CPU, nil
	case "cpu":
		return gotch.CPU, nil
	}
	rest, ok := strings.CutPrefix(s, "cuda")
	if !ok {
		return gotch.CPU, fmt.Errorf("device %q: want auto, cpu, cuda or cuda:N", s)
	}
	n := 0
	if rest != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(rest, ":"))
		if err != nil || !strings.HasPrefix(rest, ":") || v < 0 {
			return gotch.CPU, fmt.Errorf("device %q: want auto, cpu, cuda or cuda:N", s)
		}
		n = v
	}
	if c := torchrt.CUDADeviceCount(); n >= c {
		return gotch.CPU, fmt.Errorf("device %q: libtorch sees %d CUDA device(s)", s, c)
	}
	return gotch.CudaBuilder(uint(n)), nil
}

func deviceName(d gotch.Device) string {
	if d.Name == "CPU" {
		return "cpu"
	}
	return fmt.Sprintf("cuda:%d", d.Value)
}

func checkRunName(name string) error { return manifests.CheckPlainName(name) }
