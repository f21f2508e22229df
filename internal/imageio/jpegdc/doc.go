// Package jpegdc is Go's image/jpeg decoder (Go 1.26, BSD licence, see
// LICENSE) changed to decode at 1/8 scale from the DC coefficients only:
// no inverse DCT and no full-size image. Curation uses it to hash large
// JPEGs: the result is an exact 8x8 box average, which is what an
// antialiased downscale would compute anyway.
//
// Changes from upstream: package name; makeImg allocates one pixel per
// block; reconstructBlock writes the DC mean instead of running the IDCT;
// CMYK output, Decode, DecodeConfig and format registration removed;
// DecodeDC added.
package jpegdc
