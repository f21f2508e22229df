package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/crc32"
)

// withMarker returns a copy of an encoded image with a comment embedded:
// the same pixels, different bytes. Oversampling uses it so that every
// repeated training row has its own file named by its own hash.
func withMarker(b []byte, format, text string) ([]byte, error) {
	switch format {
	case FormatPNG:
		// A tEXt chunk right after IHDR (8-byte signature + 25-byte IHDR).
		if len(b) < 33 {
			return nil, errors.New("png too short")
		}
		data := append([]byte("Comment\x00"), text...)
		chunk := make([]byte, 0, len(data)+12)
		chunk = append(chunk, byte(len(data)>>24), byte(len(data)>>16), byte(len(data)>>8), byte(len(data)))
		chunk = append(chunk, "tEXt"...)
		chunk = append(chunk, data...)
		crc := crc32.ChecksumIEEE(chunk[4:])
		chunk = append(chunk, byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc))
		out := append([]byte{}, b[:33]...)
		out = append(out, chunk...)
		return append(out, b[33:]...), nil
	default:
		// A COM segment right after SOI.
		if len(b) < 2 || b[0] != 0xff || b[1] != 0xd8 {
			return nil, errors.New("not a JPEG")
		}
		n := len(text) + 2
		out := append([]byte{}, 0xff, 0xd8, 0xff, 0xfe, byte(n>>8), byte(n))
		out = append(out, text...)
		return append(out, b[2:]...), nil
	}
}

// hashName is the processed file name: its own sha256 and the extension,
// so that verify can check a file against its name alone.
func hashName(b []byte, ext string) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]) + ext
}
