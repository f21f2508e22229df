// Package models holds chara's image classifiers on gotch: effnet-b0
// (EfficientNet-B0 with torchvision's exact architecture and parameter names,
// plus the reference head), cnn and cnn2 (the reference's small CNNs).
package models

import (
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

// New builds a freshly initialised model (PyTorch's default initialisation)
// on device.
func New(name string, classes int, device gotch.Device) (Model, error) {
	if classes < 2 {
		return nil, fmt.Errorf("model %s: need at least 2 classes, got %d", name, classes)
	}
	switch name {
	case "effnet-b0":
		return newEffNetB0(classes, device)
	case "cnn":
		return newCNN(classes, device)
	case "cnn2":
		return newCNN2(classes, device)
	}
	return nil, fmt.Errorf("%q: %w", name, ErrUnknownModel)
}
