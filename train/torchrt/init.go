package torchrt

import (
	"math"

	"github.com/sugarme/gotch/nn"
)

// gotch v0.9.1 initialises layers from N(0,1) by default (its kaiming code
// is commented out), which makes EfficientNet-B0 start at a loss near 94.
// These give PyTorch's defaults instead.

// FanIn is the fan-in of a weight of the given shape (out, in, k...).
func FanIn(shape []int64) int64 {
	if len(shape) < 2 {
		return shape[0]
	}
	f := shape[1]
	for _, k := range shape[2:] {
		f *= k
	}
	return f
}

// KaimingUniform is PyTorch's default for conv and linear weights:
// kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
func KaimingUniform(fanIn int64) nn.Init {
	b := 1 / math.Sqrt(float64(fanIn))
	return nn.NewUniformInit(-b, b)
}

// BiasUniform is PyTorch's default bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
func BiasUniform(fanIn int64) nn.Init { return KaimingUniform(fanIn) }

// Conv2DConfig returns a conv config with PyTorch's default initialisation.
func Conv2DConfig(in, k, groups int64, opts ...nn.Conv2DConfigOpt) *nn.Conv2DConfig {
	fanIn := in / groups * k * k
	all := append([]nn.Conv2DConfigOpt{
		nn.WithWsInit2D(KaimingUniform(fanIn)),
		nn.WithBsInit2D(BiasUniform(fanIn)),
		nn.WithGroup2D(groups),
	}, opts...)
	return nn.NewConv2DConfig(all...)
}

// LinearConfig returns a linear config with PyTorch's default initialisation.
func LinearConfig(in int64) *nn.LinearConfig {
	c := nn.DefaultLinearConfig()
	c.WsInit = KaimingUniform(in)
	b := BiasUniform(in)
	c.BsInit = b
	c.Bias = true
	return c
}

// BatchNormConfig returns PyTorch's batch-norm defaults: weight 1, bias 0,
// eps 1e-5, momentum 0.1.
func BatchNormConfig() *nn.BatchNormConfig {
	c := nn.DefaultBatchNormConfig()
	c.WsInit = nn.NewConstInit(1)
	c.BsInit = nn.NewConstInit(0)
	c.Eps = 1e-5
	c.Momentum = 0.1
	return c
}
