package serve

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sugarme/gotch"

	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/models"
	"github.com/chara-dev/chara/train/predict"
	"github.com/chara-dev/chara/train/torchrt"
)

// benchRun writes a run of model (random weights) at its input size, in a
// workspace without a dataset (so the dataset size is the model's).
func benchRun(b *testing.B, th *torchrt.Thread, model string, h, w int) string {
	dir := filepath.Join(b.TempDir(), "runs", model)
	os.MkdirAll(dir, 0o755)
	err := th.Do(context.Background(), func() error {
		torchrt.ManualSeed(1)
		m, err := models.New(model, len(testClasses), gotch.CPU, models.WithInputSize(h, w))
		if err != nil {
			return err
		}
		return m.VarStore().Save(filepath.Join(dir, "best.ot"))
	})
	if err != nil {
		b.Fatal(err)
	}
	classes := make([]manifests.Class, len(testClasses))
	for i, n := range testClasses {
		s, _ := manifests.Slug(n)
		classes[i] = manifests.Class{Label: i, Name: n, Slug: s}
	}
	rm, err := recipe.ForModel(recipe.Sized(h, w, manifests.FitPad), h, w, "", models.ImageNetMean, models.ImageNetStd)
	if err != nil {
		b.Fatal(err)
	}
	card := &manifests.RunCard{Name: model, Model: model, Classes: classes, Recipe: rm, BestWeights: "best.ot", Finished: true}
	if err := manifests.WriteRunCard(filepath.Join(dir, predict.RunFile), card); err != nil {
		b.Fatal(err)
	}
	return dir
}

func percentiles(d []time.Duration) (p50, p95 float64) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(q float64) float64 { return float64(d[int(q*float64(len(d)-1)+0.5)].Microseconds()) / 1000 }
	return at(0.50), at(0.95)
}

// BenchmarkLatency measures one prediction of an 800x600 JPEG (a typical
// photo upload): through the CLI path (PredictFile: read, decode,
// dataset preprocessing, forward; one at a time) and through POST
// /api/predict (4 concurrent clients). 200 predictions each; it reports
// p50 and p95 in milliseconds.
//
//	go test -run XXX -bench Latency -benchtime 1x ./serve/
func BenchmarkLatency(b *testing.B) {
	const n, clients = 200, 4
	upload := jpegBytes(b, picture(99, 800, 600))
	file := filepath.Join(b.TempDir(), "photo.jpg")
	os.WriteFile(file, upload, 0o644)
	th := torchrt.NewThread(0)
	defer th.Close()
	for _, m := range []struct {
		name string
		h, w int
	}{{"cnn", 100, 75}, {"effnet-b0", 300, 150}} {
		dir := benchRun(b, th, m.name, m.h, m.w)
		for _, batch := range []int{1, 8} {
			p, err := predict.Load(dir, predict.WithThread(th), predict.WithMaxBatch(batch))
			if err != nil {
				b.Fatal(err)
			}
			if batch == 1 {
				b.Run(m.name+"/cli", func(b *testing.B) {
					for it := 0; it < b.N; it++ {
						lat := make([]time.Duration, n)
						for i := range lat {
							t0 := time.Now()
							if _, err := p.PredictFile(context.Background(), file, 3); err != nil {
								b.Fatal(err)
							}
							lat[i] = time.Since(t0)
						}
						p50, p95 := percentiles(lat)
						b.ReportMetric(p50, "p50-ms")
						b.ReportMetric(p95, "p95-ms")
					}
				})
			}
			s, err := New(p, WithDataset(""))
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{Handler: s.Handler()}
			hs := newLoopback(b, srv)
			b.Run(fmt.Sprintf("%s/api-4-clients-maxbatch-%d", m.name, batch), func(b *testing.B) {
				for it := 0; it < b.N; it++ {
					lat := make([]time.Duration, n)
					var wg sync.WaitGroup
					var next int
					var mu sync.Mutex
					t0 := time.Now()
					for c := 0; c < clients; c++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for {
								mu.Lock()
								i := next
								next++
								mu.Unlock()
								if i >= n {
									return
								}
								t := time.Now()
								res, err := http.Post(hs+"/api/predict", "image/jpeg", bytes.NewReader(upload))
								if err != nil || res.StatusCode != 200 {
									b.Error(err, res)
									return
								}
								res.Body.Close()
								lat[i] = time.Since(t)
							}
						}()
					}
					wg.Wait()
					p50, p95 := percentiles(lat)
					b.ReportMetric(p50, "p50-ms")
					b.ReportMetric(p95, "p95-ms")
					b.ReportMetric(float64(n)/time.Since(t0).Seconds(), "req/s")
				}
			})
			srv.Close()
			p.Close()
		}
	}
}
