package synth

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// Truncated returns the first half of an encoded image, as a download cut
// off mid-transfer would leave it.
func Truncated(encoded []byte) []byte {
	return append([]byte(nil), encoded[:len(encoded)/2]...)
}

// HTMLPage returns an HTML error page, as a site answering an image URL with
// a login or error page would serve it.
func HTMLPage() []byte { return htmlPage("") }

// The salted variants differ by a comment, so that every broken post of a
// corpus has its own MD5 (boards reject identical uploads).
func htmlPage(salt string) []byte {
	b := []byte("<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head>\n" +
		"<body><h1>Forbidden</h1><p>You must be logged in to view this image.</p></body></html>\n")
	if salt != "" {
		b = append(b, "<!-- request "+salt+" -->\n"...)
	}
	return b
}

// ZeroBytes returns an empty file.
func ZeroBytes() []byte { return []byte{} }

// PNGBomb returns a PNG whose header declares 100000x100000 RGBA pixels
// (40 GB decoded). image.DecodeConfig reports that size; the file carries
// no pixel data, so a decoder that skips the size check still fails instead
// of allocating.
func PNGBomb() []byte { return pngBomb("") }

func pngBomb(salt string) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 100000)
	binary.BigEndian.PutUint32(ihdr[4:], 100000)
	ihdr[8] = 8  // bit depth
	ihdr[9] = 6  // RGBA
	ihdr[10] = 0 // deflate
	ihdr[11] = 0 // adaptive filtering
	ihdr[12] = 0 // no interlace
	writePNGChunk(&b, "IHDR", ihdr)
	if salt != "" {
		writePNGChunk(&b, "tEXt", []byte("Comment\x00"+salt))
	}
	writePNGChunk(&b, "IEND", nil)
	return b.Bytes()
}

func writePNGChunk(b *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	b.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	b.Write(n[:])
}

// HugeGIF returns a GIF whose logical screen is 65535x65535 pixels and that
// holds no image, so image.DecodeConfig reports the size and image.Decode
// fails.
func HugeGIF() []byte { return hugeGIF("") }

func hugeGIF(salt string) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, 65535)
	b = binary.LittleEndian.AppendUint16(b, 65535)
	// Global colour table of 2 entries, background 0, no aspect ratio.
	b = append(b, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff)
	if salt != "" && len(salt) < 256 {
		b = append(b, 0x21, 0xfe, byte(len(salt)))
		b = append(append(b, salt...), 0)
	}
	return append(b, 0x3b) // trailer
}
