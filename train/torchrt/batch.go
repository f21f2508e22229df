package torchrt

// #include <stdlib.h>
// #include "batch.h"
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// ImageBatch turns n uint8 images (NCHW, pix holds at least n*c*h*w
// bytes) into a float tensor on dev, pix * scale + shift (scale and shift
// broadcast, on dev), in channels-last memory format if asked, in one
// libtorch call. On the CPU it reads pix straight from Go memory (no host
// copy); to a GPU pix is copied into page-locked memory and sent without
// waiting for the GPU's queue. Call it on the Thread.
func ImageBatch(pix []uint8, n, c, h, w int, dev gotch.Device, scale, shift *ts.Tensor, channelsLast bool) (*ts.Tensor, error) {
	if n <= 0 || len(pix) < n*c*h*w {
		return nil, fmt.Errorf("image batch: %d bytes for %d images of %dx%dx%d", len(pix), n, c, h, w)
	}
	cl := 0
	if channelsLast {
		cl = 1
	}
	var out unsafe.Pointer
	msg := C.chara_image_batch((*C.uint8_t)(unsafe.Pointer(&pix[0])), C.int64_t(n), C.int64_t(c), C.int64_t(h), C.int64_t(w),
		C.int(dev.CInt()), scale.Ctensor(), shift.Ctensor(), C.int(cl), &out)
	runtime.KeepAlive(scale)
	runtime.KeepAlive(shift)
	if err := cError("image batch", msg); err != nil {
		return nil, err
	}
	return ts.FromCtensor(out), nil
}

// Labels copies y to a new int64 tensor on dev. To a GPU the copy goes
// through page-locked memory and does not wait for the GPU's queue. Call it
// on the Thread.
func Labels(y []int64, dev gotch.Device) (*ts.Tensor, error) {
	if len(y) == 0 {
		return nil, fmt.Errorf("labels: none")
	}
	var out unsafe.Pointer
	msg := C.chara_labels((*C.int64_t)(unsafe.Pointer(&y[0])), C.int64_t(len(y)), C.int(dev.CInt()), &out)
	if err := cError("labels", msg); err != nil {
		return nil, err
	}
	return ts.FromCtensor(out), nil
}

// ChannelsLast stores every 4-D tensor among ts in channels-last memory
// format, in place (Module.to(memory_format=torch.channels_last)): with
// bf16 autocast on a GPU, convolutions then skip layout conversions. Call it
// on the Thread before an optimizer makes state for the tensors.
func ChannelsLast(tensors []*ts.Tensor) error {
	return onHandles("channels last", tensors, func(h *unsafe.Pointer, n C.int) *C.char { return C.chara_channels_last(h, n) })
}
