package dataset

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chara-dev/chara/manifests"
)

func TestClassCountsAndPurge(t *testing.T) {
	w := newWS(t)
	w.add("Nakano Miku", 22, "", 0)
	w.addRejected("Nakano Miku")
	w.add("Nakano Nino", 20, "", 0)
	var raw []manifests.RawRecord
	for _, d := range w.decs["Nakano Miku"] {
		raw = append(raw, manifests.RawRecord{SHA256: d.SHA256, File: filepath.Base(d.File), Source: "test", FetchedAt: time.Now()})
	}
	if err := manifests.WriteRawIndex(manifests.RawIndexPath(w.dir, "nakano_miku"), raw); err != nil {
		t.Fatal(err)
	}
	w.build("default", []string{"Nakano Miku", "Nakano Nino"}, WithPerClass(20))

	counts, err := ClassCounts(w.dir, "default", []string{"Nakano Miku", "Nakano Ichika"})
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 3 {
		t.Fatalf("counts %+v", counts)
	}
	miku, ichika, nino := counts[0], counts[1], counts[2]
	if miku.Slug != "nakano_miku" || miku.Raw != 23 || miku.Decided != 23 || miku.Kept != 22 ||
		miku.InDataset != (manifests.SplitCounts{Train: 14, Val: 3, Test: 3}) || !miku.Listed {
		t.Errorf("miku %+v", miku)
	}
	if ichika.Raw != 0 || ichika.Kept != 0 || ichika.InDataset != (manifests.SplitCounts{}) || !ichika.Listed {
		t.Errorf("ichika %+v", ichika)
	}
	if nino.Name != "Nakano Nino" || nino.Listed || nino.InDataset.Train != 14 {
		t.Errorf("nino (only in the dataset) %+v", nino)
	}

	removed, err := PurgeClass(w.dir, "Nakano Miku")
	if err != nil || len(removed) != 2 {
		t.Fatalf("purge: %v %v", removed, err)
	}
	for _, p := range []string{"raw/nakano_miku", "curated/nakano_miku.jsonl"} {
		if _, err := os.Stat(filepath.Join(w.dir, p)); !os.IsNotExist(err) {
			t.Errorf("%s still there", p)
		}
	}
	for _, p := range []string{"raw/nakano_nino", "curated/nakano_nino.jsonl", "datasets/default/train.csv"} {
		if _, err := os.Stat(filepath.Join(w.dir, p)); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	if _, err := PurgeClass(w.dir, "../.."); err == nil {
		t.Error("purge of ../.. accepted")
	}
}
