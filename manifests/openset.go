package manifests

// OpenSet is run.json's open_set: when an image's score is below
// Threshold, predict and serve answer "none of these characters".
// Threshold was calibrated on the validation split so that a share
// TargetFRR of its images (known characters) would be rejected; ValFRR is
// the share actually below it.
type OpenSet struct {
	Score     string  `json:"score"` // max_prob | neg_entropy
	Threshold float64 `json:"threshold"`
	TargetFRR float64 `json:"target_frr"`
	ValFRR    float64 `json:"val_frr"`
	ValImages int     `json:"val_images"`
}
