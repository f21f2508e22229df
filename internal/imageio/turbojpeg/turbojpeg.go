// Package turbojpeg decodes JPEGs at reduced scale with libjpeg-turbo
// (Debian's libjpeg62-turbo-dev), for the stages that only need a small
// version of a large picture: curation's hashes and the dataset's resize;
// and encodes the dataset's images.
package turbojpeg

// #cgo LDFLAGS: -ljpeg
// #include <stdlib.h>
// #include "turbojpeg_chara.h"
import "C"

import (
	"errors"
	"fmt"
	"image"
	"runtime"
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
// is ceil(w/denom) x ceil(h/denom), opaque.
func DecodeScaled(b []byte, denom int) (*image.NRGBA, error) {
	switch denom {
	case 1, 2, 4, 8:
	default:
		return nil, fmt.Errorf("turbojpeg: scale 1/%d (want 1, 2, 4 or 8)", denom)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("turbojpeg: %w: empty", ErrCorrupt)
	}
	// b holds no Go pointers, so libjpeg may read it in place.
	var out *C.uchar
	var w, h C.int
	var msg [200]C.char
	rc := C.chara_jpeg_decode_scaled((*C.uchar)(unsafe.Pointer(&b[0])), C.ulong(len(b)), C.int(denom), &out, &w, &h, &msg[0], C.int(len(msg)))
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
	img := image.NewNRGBA(image.Rect(0, 0, iw, ih))
	copy(img.Pix, unsafe.Slice((*byte)(unsafe.Pointer(out)), iw*ih*4))
	runtime.KeepAlive(b)
	return img, nil
}

// EncodeNRGBA encodes an opaque image as a baseline JPEG (4:2:0, libjpeg's
// standard tables, quality 1..100; alpha is ignored). The same pixels give
// the same bytes.
func EncodeNRGBA(img *image.NRGBA, quality int) ([]byte, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w <= 0 || h <= 0 || quality < 1 || quality > 100 {
		return nil, fmt.Errorf("turbojpeg: encode %dx%d at quality %d", w, h, quality)
	}
	pix := img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y):]
	var out *C.uchar
	var size C.ulong
	var msg [200]C.char
	rc := C.chara_jpeg_encode_rgba((*C.uchar)(unsafe.Pointer(&pix[0])), C.int(w), C.int(h), C.int(img.Stride), C.int(quality), &out, &size, &msg[0], C.int(len(msg)))
	runtime.KeepAlive(img)
	if rc != C.CHARA_JPEG_OK {
		return nil, fmt.Errorf("turbojpeg: encode: %s", C.GoString(&msg[0]))
	}
	defer C.free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(size)), nil
}
