package config

// Images is the images: section (the dataset's image geometry and size).
type Images struct {
	PerClass int    `yaml:"per_class"`
	Height   int    `yaml:"height"`
	Width    int    `yaml:"width"`
	Fit      string `yaml:"fit"` // pad | crop | stretch
}

func defaultImages() Images { return Images{PerClass: 800, Height: 300, Width: 150, Fit: "pad"} }

func (i Images) validate() *fieldError {
	if i.PerClass <= 0 {
		return ferr("per_class", "must be positive, got %d", i.PerClass)
	}
	if i.Height <= 0 || i.Width <= 0 || i.Height > 4096 || i.Width > 4096 {
		return ferr("height", "image size %dx%d out of range", i.Height, i.Width)
	}
	switch i.Fit {
	case "pad", "crop", "stretch":
	default:
		return ferr("fit", "want pad, crop or stretch, got %q", i.Fit)
	}
	return nil
}

// Split is the split: section.
type Split struct {
	Train          float64 `yaml:"train"`
	Val            float64 `yaml:"val"`
	Test           float64 `yaml:"test"`
	GroupThreshold int     `yaml:"group_threshold"` // -1 (default): curation's groups only; 0..64 also joins kept images this close by pHash
	MinEval        int     `yaml:"min_eval"`        // images of every class in val and in test, at least (default 1)
}

func defaultSplit() Split {
	return Split{Train: 0.70, Val: 0.15, Test: 0.15, GroupThreshold: -1, MinEval: 1}
}

func (s Split) validate() *fieldError {
	if s.Train <= 0 || s.Val < 0 || s.Test < 0 {
		return ferr("train", "fractions must be non-negative and train positive")
	}
	if sum := s.Train + s.Val + s.Test; sum < 0.999 || sum > 1.001 {
		return ferr("train", "train+val+test must be 1, got %.4g", sum)
	}
	if s.GroupThreshold < -1 || s.GroupThreshold > 64 {
		return ferr("group_threshold", "must be -1 (curation's groups only) or 0..64")
	}
	if s.MinEval < 0 {
		return ferr("min_eval", "must be 0 or more, got %d", s.MinEval)
	}
	return nil
}
