// Command synthsheet writes a contact sheet of the synthetic demo characters
// (one row per character, one column per seed) so a person can look at them.
//
//	go run ./internal/synth/cmd/synthsheet -o sheet.png -n 8
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/chara-dev/chara/internal/synth"
)

func main() {
	out := flag.String("o", "synth-sheet.png", "output PNG")
	n := flag.Int("n", 8, "pictures per character")
	w := flag.Int("w", synth.DefaultWidth, "picture width")
	h := flag.Int("h", synth.DefaultHeight, "picture height")
	v := flag.Float64("variation", 1, "pose/colour/lighting variation")
	extra := flag.Bool("extra", false, "include the extra characters")
	offtopic := flag.Bool("offtopic", false, "add a row of off-topic pictures")
	flag.Parse()
	chars := synth.Characters()
	if *extra {
		chars = append(chars, synth.Extra()...)
	}
	img := synth.ContactSheet(chars, *n, *offtopic, synth.Size(*w, *h), synth.Variation(*v))
	if err := os.WriteFile(*out, synth.PNG(img), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
