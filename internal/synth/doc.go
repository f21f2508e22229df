// Package synth draws look-alike synthetic characters for tests and the
// built-in demo: five characters that share a face, skin and body and differ
// by hair colour and length, a ribbon, headphones and a hair ornament, like
// the Nakano quintuplets. Pose, scale, background and lighting vary with a
// seed; the same (character, seed, options) always gives the same pixels.
//
// It also makes planted near-duplicates (Resize, Crop, JPEG, Recolour,
// FlipH), off-topic pictures (OffTopic), broken files (Truncated, HTMLPage,
// ZeroBytes, PNGBomb, HugeGIF) and whole corpora with ground truth
// (NewCorpus) so that scraping, curation and training can be tested without
// a network.
package synth
