//go:build !chara_notorch

package main

import (
	"context"
	"fmt"

	"github.com/chara-dev/chara/train/torchrt"
)

// doctorTorch fills in the libtorch part of the report from the libtorch
// this binary links.
func doctorTorch(_ context.Context, _ *globalOptions, r *doctorReport, _ bool) error {
	r.Libtorch = torchrt.RuntimeVersion()
	r.LibtorchHeader = torchrt.CompiledVersion()
	r.TorchThreads = torchrt.NumThreads()
	r.CUDA = torchrt.CUDAAvailable()
	if r.CUDA {
		for i := 0; i < torchrt.CUDADeviceCount(); i++ {
			name := torchrt.CUDADeviceName(i)
			if name == "" {
				name = "unknown"
			}
			r.Devices = append(r.Devices, fmt.Sprintf("cuda:%d %s", i, name))
		}
		r.CuDNN = torchrt.CuDNNVersion()
	}
	if r.Libtorch == "" {
		return errNoTorchVersion
	}
	return nil
}
