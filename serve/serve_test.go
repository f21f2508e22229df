package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/testutil"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/predict"
)

func postRaw(t testing.TB, url string, body []byte, ctype string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Post(url, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func postMultipart(t testing.TB, url, field string, body []byte) (*http.Response, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("note", "hello")
	fw, _ := mw.CreateFormFile(field, "upload.png")
	fw.Write(body)
	mw.Close()
	return postRaw(t, url, buf.Bytes(), mw.FormDataContentType())
}

func decodePredictions(t testing.TB, res *http.Response, b []byte) []PredictionInfo {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	var out PredictResponse
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out.Predictions
}

func samePreds(t testing.TB, got []PredictionInfo, want []predict.Prediction) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d predictions, want %d", len(got), len(want))
	}
	for i := range want {
		g := got[i]
		if g.Label != want[i].Label || g.Class != want[i].Class || g.Slug != want[i].Slug {
			t.Fatalf("rank %d: %+v, want %+v", i, g, want[i])
		}
		if d := g.Prob - want[i].Prob; d > 1e-5 || d < -1e-5 {
			t.Fatalf("rank %d: prob %v, want %v", i, g.Prob, want[i].Prob)
		}
		if g.Picture != fmt.Sprintf("/pictures/%d", g.Label) {
			t.Fatalf("picture URL %q", g.Picture)
		}
	}
}

func TestPredictAPIMatchesPredictor(t *testing.T) {
	f := newFixture(t)
	_, hs := f.server(t)
	ctx := context.Background()
	imgs := append([][]byte{}, f.test[:4]...)
	imgs = append(imgs, pngBytes(t, picture(1000, 320, 240)), pngBytes(t, picture(1001, 60, 200)))
	for i, b := range imgs {
		want, err := f.p.PredictBytes(ctx, b, 3)
		if err != nil {
			t.Fatal(err)
		}
		// The same answer as "chara predict" on the same file.
		path := filepath.Join(t.TempDir(), "x.png")
		os.WriteFile(path, b, 0o644)
		cli, err := f.p.PredictFiles(ctx, []string{path}, 3, 1)
		if err != nil || cli[0].Err != nil {
			t.Fatal(err, cli[0].Err)
		}
		res, body := postRaw(t, hs.URL+"/api/predict?top=3", b, "image/png")
		samePreds(t, decodePredictions(t, res, body), want)
		res, body = postRaw(t, hs.URL+"/api/predict?top=3", b, "application/octet-stream")
		samePreds(t, decodePredictions(t, res, body), cli[0].Predictions)
		res, body = postMultipart(t, hs.URL+"/api/predict?top=3", "image", b)
		samePreds(t, decodePredictions(t, res, body), want)
		if i == 0 {
			// Default top 5, capped by the 3 classes.
			res, body = postRaw(t, hs.URL+"/api/predict", b, "image/png")
			all, _ := f.p.PredictBytes(ctx, b, 0)
			samePreds(t, decodePredictions(t, res, body), all)
			res, body = postRaw(t, hs.URL+"/api/predict?top=1", b, "image/png")
			samePreds(t, decodePredictions(t, res, body), all[:1])
		}
	}
}

func TestBadUploads(t *testing.T) {
	f := newFixture(t)
	_, hs := f.server(t)
	good := f.test[0]
	goodJPEG := jpegBytes(t, picture(3, 300, 200))
	big := make([]byte, DefaultMaxUpload+1)
	copy(big, good)
	for _, tc := range []struct {
		name      string
		send      func() (*http.Response, []byte)
		status    int
		reason    string
		mentioned string
	}{
		{"html", func() (*http.Response, []byte) {
			return postRaw(t, hs.URL+"/api/predict", []byte("<!doctype html><html>hi</html>"), "image/png")
		}, 415, "not-an-image", "not an image"},
		{"tiff", func() (*http.Response, []byte) {
			return postRaw(t, hs.URL+"/api/predict", []byte("II*\x00\x08\x00\x00\x00"), "image/tiff")
		}, 415, "unsupported-format", "not supported"},
		{"over 10 MB raw", func() (*http.Response, []byte) {
			return postRaw(t, hs.URL+"/api/predict", big, "image/png")
		}, 413, ReasonUploadTooLarge, "10 MB"},
		{"over 10 MB multipart", func() (*http.Response, []byte) {
			return postMultipart(t, hs.URL+"/api/predict", "image", big)
		}, 413, ReasonUploadTooLarge, "10 MB"},
		{"png bomb 100000x100000", func() (*http.Response, []byte) {
			return postRaw(t, hs.URL+"/api/predict", testutil.PNGHeader(100000, 100000), "image/png")
		}, 422, "too-large", "too many pixels"},
		{"truncated", func() (*http.Response, []byte) {
			return postRaw(t, hs.URL+"/api/predict", goodJPEG[:len(goodJPEG)/2], "image/jpeg")
		}, 422, "truncated", "cut short"},
		{"corrupt", func() (*http.Response, []byte) {
			return postRaw(t, hs.URL+"/api/predict", good[:len(good)-40], "image/png")
		}, 422, "corrupt", "corrupt"},
		{"empty", func() (*http.Response, []byte) {
			return postRaw(t, hs.URL+"/api/predict", nil, "image/png")
		}, 400, "empty", "empty"},
		{"multipart without image", func() (*http.Response, []byte) {
			return postMultipart(t, hs.URL+"/api/predict", "file", good)
		}, 400, ReasonBadRequest, `"image"`},
		{"bad top", func() (*http.Response, []byte) {
			return postRaw(t, hs.URL+"/api/predict?top=-2", good, "image/png")
		}, 400, ReasonBadRequest, "top"},
		{"GET predict", func() (*http.Response, []byte) {
			res, err := http.Get(hs.URL + "/api/predict")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res, b
		}, 405, ReasonMethod, "POST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, b := tc.send()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, b)
			}
			var e errorBody
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("not JSON: %q", b)
			}
			if e.Reason != tc.reason || !strings.Contains(e.Error, tc.mentioned) {
				t.Fatalf("error %+v, want reason %q mentioning %q", e, tc.reason, tc.mentioned)
			}
		})
	}
	// A smaller cap applies, and the server still answers afterwards.
	_, small := f.server(t, WithMaxUpload(len(goodJPEG)-1))
	if res, b := postRaw(t, small.URL+"/api/predict", goodJPEG, "image/jpeg"); res.StatusCode != 413 || !strings.Contains(string(b), fmt.Sprintf("%d bytes", len(goodJPEG)-1)) {
		t.Fatalf("cap of %d bytes: %d %s", len(goodJPEG)-1, res.StatusCode, b)
	}
	_, exact := f.server(t, WithMaxUpload(len(goodJPEG)))
	res, b := postRaw(t, exact.URL+"/api/predict", goodJPEG, "image/jpeg")
	decodePredictions(t, res, b)
	res, b = postRaw(t, hs.URL+"/api/predict", good, "image/png")
	decodePredictions(t, res, b)
}

func TestConcurrentRequests(t *testing.T) {
	f := newFixture(t)
	_, hs := f.server(t)
	ctx := context.Background()
	want := make([][]predict.Prediction, len(f.test))
	for i, b := range f.test {
		var err error
		if want[i], err = f.p.PredictBytes(ctx, b, 3); err != nil {
			t.Fatal(err)
		}
	}
	distinct := map[string]bool{}
	for _, w := range want {
		distinct[fmt.Sprintf("%.5f", w[0].Prob)] = true
	}
	if len(distinct) < 4 {
		t.Fatalf("only %d distinct answers: the test could not tell mixed-up answers apart", len(distinct))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(f.test))
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for j := range f.test {
				i := (j + 5*c) % len(f.test)
				res, err := http.Post(hs.URL+"/api/predict?top=3", "image/png", bytes.NewReader(f.test[i]))
				if err != nil {
					errs <- err
					return
				}
				var out PredictResponse
				err = json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				if err != nil {
					errs <- err
					return
				}
				for r := range want[i] {
					g := out.Predictions[r]
					if g.Label != want[i][r].Label || g.Prob-want[i][r].Prob > 1e-5 || want[i][r].Prob-g.Prob > 1e-5 {
						errs <- fmt.Errorf("image %d rank %d: %+v, want %+v", i, r, g, want[i][r])
						return
					}
				}
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func get(t testing.TB, url string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func TestClassesSamplesPictures(t *testing.T) {
	f := newFixture(t)
	// Nino has a configured picture; the others get a train image.
	nino := pngBytes(t, picture(77, 200, 300))
	ninoPath := filepath.Join(f.ws, "nino.png")
	os.WriteFile(ninoPath, nino, 0o644)
	bad := filepath.Join(f.ws, "miku.txt")
	os.WriteFile(bad, []byte("not a picture"), 0o644)
	s, hs := f.server(t, WithPictures(map[string]string{"Nino Nakano": ninoPath, "Miku Nakano": bad}), WithSamplesPerClass(2))
	if w := s.Warnings(); len(w) != 1 || !strings.Contains(w[0], "Miku Nakano") {
		t.Fatalf("warnings %v, want one about Miku's picture", w)
	}

	res, b := get(t, hs.URL+"/api/classes")
	var cl Classes
	if res.StatusCode != 200 || json.Unmarshal(b, &cl) != nil {
		t.Fatalf("classes: %d %s", res.StatusCode, b)
	}
	if cl.Run != "r1" || cl.Model != "cnn" || len(cl.Classes) != 3 || cl.Classes[2].Name != "Miku Nakano" || cl.Classes[2].Picture != "/pictures/2" || cl.MaxUpload != DefaultMaxUpload {
		t.Fatalf("classes: %+v", cl)
	}

	res, b = get(t, hs.URL+"/api/samples")
	var samples []Sample
	if json.Unmarshal(b, &samples) != nil || len(samples) != 6 {
		t.Fatalf("samples: %s", b)
	}
	for i, sm := range samples {
		if sm.ID != i || sm.Class != testClasses[sm.Label] || sm.Label != i/2 {
			t.Fatalf("sample %+v", sm)
		}
		res, img := get(t, hs.URL+sm.URL)
		want := f.test[4*sm.Label+i%2]
		if res.StatusCode != 200 || !bytes.Equal(img, want) || res.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("sample %d: %d %s, %d bytes", i, res.StatusCode, res.Header.Get("Content-Type"), len(img))
		}
	}

	if _, b := get(t, hs.URL+"/pictures/1"); !bytes.Equal(b, nino) {
		t.Fatal("configured picture not served")
	}
	for _, label := range []int{0, 2} {
		res, b := get(t, hs.URL+fmt.Sprintf("/pictures/%d", label))
		found := false
		for _, tb := range f.train[testClasses[label]] {
			found = found || bytes.Equal(b, tb)
		}
		if res.StatusCode != 200 || !found {
			t.Fatalf("picture %d: %d, not one of the class's train images", label, res.StatusCode)
		}
		// It is the train image the model finds most typical of the class.
		best, bestP := []byte(nil), -1.0
		for _, tb := range f.train[testClasses[label]] {
			preds, _ := f.p.PredictBytes(context.Background(), tb, 0)
			for _, p := range preds {
				if p.Label == label && p.Prob > bestP {
					best, bestP = tb, p.Prob
				}
			}
		}
		if !bytes.Equal(b, best) {
			t.Fatalf("picture %d is not the most confident train image", label)
		}
	}

	res, b = get(t, hs.URL+"/")
	if res.StatusCode != 200 || !strings.Contains(string(b), `src="/static/app.js"`) {
		t.Fatalf("page: %d %s", res.StatusCode, b)
	}
	for _, asset := range []string{"/static/app.js", "/static/style.css"} {
		if res, b := get(t, hs.URL+asset); res.StatusCode != 200 || len(b) < 100 {
			t.Fatalf("%s: %d", asset, res.StatusCode)
		}
	}
}

func TestPathsCannotEscape(t *testing.T) {
	f := newFixture(t)
	// A test-split row whose file is a symlink out of the dataset folder.
	secret := filepath.Join(f.ws, "secret.png")
	os.WriteFile(secret, pngBytes(t, picture(5, 10, 10)), 0o644)
	link := "images/" + strings.Repeat("ab", 32) + ".png"
	if err := os.Symlink(secret, filepath.Join(f.dsDir, link)); err != nil {
		t.Fatal(err)
	}
	row := manifests.SplitRow{Path: link, Label: 0, Class: testClasses[0], Split: manifests.Test, SHA256: strings.Repeat("ab", 32), Width: dsW, Height: dsH}
	f.rows[manifests.Test] = append([]manifests.SplitRow{row}, f.rows[manifests.Test]...)
	f.writeDataset(t, f.classes, f.rows)
	s, hs := f.server(t)
	if s.Samples()[0].path != link {
		t.Fatalf("first sample %+v, want the symlink", s.Samples()[0])
	}
	if res, b := get(t, hs.URL+"/samples/0"); res.StatusCode != 404 || bytes.Contains(b, []byte("PNG")) {
		t.Fatalf("symlink out of the dataset served: %d %q", res.StatusCode, b)
	}
	if res, _ := get(t, hs.URL+"/samples/1"); res.StatusCode != 200 {
		t.Fatalf("ordinary sample: %d", res.StatusCode)
	}
	for _, p := range []string{
		"/samples/-1", "/samples/99", "/samples/x", "/samples/..%2f..%2fsecret.png", "/samples/../../secret.png",
		"/static/../serve.go", "/static/..%2fserve.go", "/static/%2e%2e/index.html", "/pictures/3", "/pictures/-1", "/pictures/..%2f..%2fsecret.png",
		"/api/nothing", "/secret.png", "/static/../../secret.png",
	} {
		req, _ := http.NewRequest("GET", hs.URL+p, nil)
		req.URL.Opaque = p // send the path exactly as written
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == 200 && (bytes.Contains(b, []byte("package serve")) || bytes.Contains(b, []byte("<title>")) && p != "/" || bytes.Contains(b, []byte("\x89PNG"))) {
			t.Errorf("%s: served %d bytes", p, len(b))
		}
		if res.StatusCode != 404 && res.StatusCode != 400 && !(res.StatusCode >= 300 && res.StatusCode < 400) {
			t.Errorf("%s: status %d", p, res.StatusCode)
		}
	}
}

func TestServeShutsDownWithContext(t *testing.T) {
	f := newFixture(t)
	s, err := New(f.p)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	res, _ := get(t, "http://"+ln.Addr().String()+"/api/classes")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
		t.Fatal("still serving after cancel")
	}
}
