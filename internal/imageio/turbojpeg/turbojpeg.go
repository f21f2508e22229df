// Package turbojpeg decodes JPEGs at reduced scale with libjpeg-turbo
// (Debian's libjpeg62-turbo-dev), for the stages that only need a small
// version of a large picture: curation's hashes and the dataset's resize.
package turbojpeg

// #cgo LDFLAGS: -ljpeg
// #include <stdlib.h>
// #include "turbojpeg_chara.h"
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"
)

var (
	// ErrCorrupt: the data is truncated or corrupt (libjpeg would have
	// filled the rest with gray).
	ErrCorrupt = errors.New("corrupt or truncated JPEG")
	// ErrUnsupported: a JPEG this decoder does not handle (CMYK); decode it
	// another way.
	ErrUnsupported = errors.New("unsupported JPEG")
)

// DecodeScaled decodes a JPEG at 1/denom of its size (denom 1, 2, 4 or 8:
// libjpeg's IDCT scaling; at 8 each 8x8 block becomes its mean). The result
// is ceil(w/denom) x ceil(h/denom).
func DecodeScaled(b []byte, denom int) (*image.RGBA, error) {
	switch denom {
	case 1, 2, 4, 8:
	default:
		return nil, fmt.Errorf("turbojpeg: scale 1/%d (want 1, 2, 4 or 8)", denom)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("turbojpeg: %w: empty", ErrCorrupt)
	}
	cb := C.CBytes(b)
	defer C.free(cb)
	var out *C.uchar
	var w, h C.int
	var msg [200]C.char
	rc := C.chara_jpeg_decode_scaled((*C.uchar)(cb), C.ulong(len(b)), C.int(denom), &out, &w, &h, &msg[0], C.int(len(msg)))
	switch rc {
	case C.CHARA_JPEG_OK:
	case C.CHARA_JPEG_CORRUPT:
		return nil, fmt.Errorf("turbojpeg: %w: %s", ErrCorrupt, C.GoString(&msg[0]))
	case C.CHARA_JPEG_UNSUPPORTED:
		return nil, fmt.Errorf("turbojpeg: %w: %s", ErrUnsupported, C.GoString(&msg[0]))
	default:
		return nil, fmt.Errorf("turbojpeg: %w: %s", ErrCorrupt, C.GoString(&msg[0]))
	}
	defer C.free(unsafe.Pointer(out))
	iw, ih := int(w), int(h)
	rgb := unsafe.Slice((*byte)(unsafe.Pointer(out)), iw*ih*3)
	img := image.NewRGBA(image.Rect(0, 0, iw, ih))
	for i, j := 0, 0; i < len(rgb); i, j = i+3, j+4 {
		img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = rgb[i], rgb[i+1], rgb[i+2], 0xff
	}
	return img, nil
}
