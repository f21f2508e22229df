// Package models holds chara's image classifiers on gotch: effnet-b0
// (EfficientNet-B0 with torchvision's exact architecture and parameter names,
// plus the reference head), cnn and cnn2 (the reference's small CNNs).
package models

import (
	"errors"
	"fmt"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// Model is a classifier whose parameters live in a VarStore.
type Model interface {
	// ForwardT returns logits [N, classes] for a normalised float batch
	// [N, 3, H, W]; train switches dropout, batch-norm statistics and
	// stochastic depth.
	ForwardT(x *ts.Tensor, train bool) *ts.Tensor
	// VarStore holds every parameter and buffer. Keep the Model (and so the
	// VarStore) alive while its tensors are in use.
	VarStore() *nn.VarStore
	// Spec describes the model.
	Spec() Spec
}

// Spec is what callers need to feed and describe a model.
type Spec struct {
	Name    string
	Classes int
	Height  int64 // input height the model was designed for
	Width   int64
	Mean    [3]float64 // per-channel normalisation of [0,1] inputs
	Std     [3]float64
}

// ImageNet normalisation (torchvision's weights expect it).
var (
	ImageNetMean = [3]float64{0.485, 0.456, 0.406}
	ImageNetStd  = [3]float64{0.229, 0.224, 0.225}
)

// Names lists the models New accepts.
var Names = []string{"effnet-b0", "cnn", "cnn2"}

// ErrUnknownModel is returned for a model name not in Names.
var ErrUnknownModel = fmt.Errorf("unknown model (want effnet-b0, cnn or cnn2)")

// Option changes how New builds a model.
type Option func(*options)

type options struct {
	height, width int64
}

// WithInputSize sets the input height and width effnet-b0 is built and
// summarised for (default 300x150; it accepts any size at run time). The
// CNNs' dense layers fix their input at 100x75: another size is an error.
func WithInputSize(height, width int) Option {
	return func(o *options) { o.height, o.width = int64(height), int64(width) }
}

// ErrInputSize is returned for an input size a model cannot take.
var ErrInputSize = errors.New("unsupported input size")

// New builds a freshly initialised model (PyTorch's default initialisation;
// torchvision's for the EfficientNet backbone) on device. Call it on the
// libtorch thread.
func New(name string, classes int, device gotch.Device, opts ...Option) (Model, error) {
	if classes < 2 {
		return nil, fmt.Errorf("model %s: need at least 2 classes, got %d", name, classes)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	sized := func(h, w int64) error {
		if o.height == 0 && o.width == 0 {
			return nil
		}
		if o.height != h || o.width != w {
			return fmt.Errorf("model %s: input %dx%d: %w (it takes %dx%d)", name, o.height, o.width, ErrInputSize, h, w)
		}
		return nil
	}
	switch name {
	case "effnet-b0":
		h, w := int64(EffNetHeight), int64(EffNetWidth)
		if o.height != 0 || o.width != 0 {
			h, w = o.height, o.width
		}
		if h < 32 || w < 32 {
			return nil, fmt.Errorf("model %s: input %dx%d: %w (at least 32x32)", name, h, w, ErrInputSize)
		}
		m, err := newEffNetB0(classes, device, h, w)
		if err != nil {
			return nil, err
		}
		return m, nil
	case "cnn":
		if err := sized(cnnHeight, cnnWidth); err != nil {
			return nil, err
		}
		m, err := newCNN(classes, device)
		if err != nil {
			return nil, err
		}
		return m, nil
	case "cnn2":
		if err := sized(cnnHeight, cnnWidth); err != nil {
			return nil, err
		}
		m, err := newCNN2(classes, device)
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, fmt.Errorf("%q: %w", name, ErrUnknownModel)
}
