package synth

import (
	"hash/fnv"
	"image/color"
)

// HairStyle is the silhouette of a character's hair.
type HairStyle int

// Hair styles.
const (
	HairShort     HairStyle = iota // a bob ending at the jaw
	HairMedium                     // to the shoulders
	HairLong                       // to the waist, with locks in front of the shoulders
	HairTwinTails                  // short back hair and two tails hanging from the sides
)

func (h HairStyle) String() string {
	switch h {
	case HairShort:
		return "short"
	case HairMedium:
		return "medium"
	case HairLong:
		return "long"
	case HairTwinTails:
		return "twin tails"
	}
	return "unknown"
}

// RibbonStyle is the shape of a ribbon.
type RibbonStyle int

// Ribbon styles; RibbonNone means no ribbon.
const (
	RibbonNone      RibbonStyle = iota
	RibbonBunny                 // a big bow on top of the head with two upright loops
	RibbonButterfly             // a pair of butterfly-shaped bows at both sides of the head
	RibbonBow                   // a small bow at one side of the head
)

// OrnamentKind is a hair clip.
type OrnamentKind int

// Hair ornaments; OrnamentNone means none.
const (
	OrnamentNone OrnamentKind = iota
	OrnamentStar
	OrnamentButterfly
)

// Character is one look-alike character. All characters share the face
// shape, skin and body; they differ only by the fields below.
type Character struct {
	Name string // display name and class name, e.g. "Ichika"
	Tag  string // booru tag, e.g. "demo_ichika"

	Hair      color.RGBA
	HairStyle HairStyle
	Bangs     float64 // how far the fringe falls over the eyes: 0 (forehead) .. 1 (covers the eyes' tops)
	Ahoge     bool    // a single upright strand on top
	Eyes      color.RGBA

	Ribbon       RibbonStyle
	RibbonColour color.RGBA

	Headphones       bool // worn around the neck
	HeadphonesColour color.RGBA

	Ornament       OrnamentKind
	OrnamentColour color.RGBA

	Earrings bool

	// Tags are the descriptive booru tags of the character (hair colour and
	// length, accessories), served with every picture of it.
	Tags []string
}

func rgba(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 255} }

// Characters returns the five demo characters. They look alike (same face,
// skin and body, hair in one colour family, like quintuplets) and differ by
// hair colour and length, a ribbon, headphones and a hair ornament.
func Characters() []Character {
	return []Character{
		{
			Name: "Ichika", Tag: "demo_ichika",
			Hair: rgba(226, 150, 160), HairStyle: HairShort, Bangs: 0.25,
			Eyes: rgba(80, 120, 180), Earrings: true,
			Tags: []string{"1girl", "solo", "pink_hair", "short_hair", "blue_eyes", "earrings"},
		},
		{
			Name: "Nino", Tag: "demo_nino",
			Hair: rgba(236, 160, 196), HairStyle: HairLong, Bangs: 0.35,
			Eyes:   rgba(130, 90, 170),
			Ribbon: RibbonButterfly, RibbonColour: rgba(30, 30, 36),
			Tags: []string{"1girl", "solo", "pink_hair", "long_hair", "purple_eyes", "hair_ribbon", "butterfly_hair_ornament"},
		},
		{
			Name: "Miku", Tag: "demo_miku",
			Hair: rgba(168, 92, 84), HairStyle: HairMedium, Bangs: 0.8,
			Eyes:       rgba(70, 140, 190),
			Headphones: true, HeadphonesColour: rgba(50, 100, 210),
			Tags: []string{"1girl", "solo", "brown_hair", "medium_hair", "blue_eyes", "headphones", "headphones_around_neck", "hair_over_eyes"},
		},
		{
			Name: "Yotsuba", Tag: "demo_yotsuba",
			Hair: rgba(238, 148, 84), HairStyle: HairShort, Bangs: 0.15,
			Eyes:   rgba(60, 150, 130),
			Ribbon: RibbonBunny, RibbonColour: rgba(70, 190, 80),
			Tags: []string{"1girl", "solo", "orange_hair", "short_hair", "green_eyes", "hair_ribbon", "green_ribbon"},
		},
		{
			Name: "Itsuki", Tag: "demo_itsuki",
			Hair: rgba(204, 72, 86), HairStyle: HairLong, Bangs: 0.3, Ahoge: true,
			Eyes:     rgba(60, 70, 160),
			Ornament: OrnamentStar, OrnamentColour: rgba(250, 210, 60),
			Tags: []string{"1girl", "solo", "red_hair", "long_hair", "blue_eyes", "ahoge", "star_hair_ornament"},
		},
	}
}

// Extra returns characters that are not among the five, for tests that add
// a class to an existing project.
func Extra() []Character {
	return []Character{
		{
			Name: "Raiha", Tag: "demo_raiha",
			Hair: rgba(120, 70, 50), HairStyle: HairTwinTails, Bangs: 0.3,
			Eyes:   rgba(110, 80, 60),
			Ribbon: RibbonBow, RibbonColour: rgba(230, 60, 60),
			Ornament: OrnamentButterfly, OrnamentColour: rgba(240, 140, 200),
			Tags: []string{"1girl", "solo", "brown_hair", "twintails", "brown_eyes", "hair_bow", "butterfly_hair_ornament"},
		},
	}
}

// CharacterByName finds a character among Characters and Extra.
func CharacterByName(name string) (Character, bool) {
	for _, c := range append(Characters(), Extra()...) {
		if c.Name == name || c.Tag == name {
			return c, true
		}
	}
	return Character{}, false
}

// key is a stable number derived from the character's identity, mixed into
// its random stream so that two characters with the same seed differ in pose.
func (c Character) key() uint64 {
	h := fnv.New64a()
	h.Write([]byte(c.Name))
	h.Write([]byte{0})
	h.Write([]byte(c.Tag))
	return h.Sum64()
}

func toRGB(c color.RGBA) rgb { return rgb{float32(c.R), float32(c.G), float32(c.B)} }
