// Package serve is chara's prediction web page and its JSON API: sample
// images from the test split to click, an upload (button and drag and
// drop), and the predicted character's reference picture, name,
// probability and top-5 chart. Templates and assets are embedded; the page
// uses only the API below.
//
//	GET  /                    the page
//	GET  /static/...          its script and style (embedded)
//	GET  /api/classes         the run and its classes (with picture URLs)
//	GET  /api/samples         test-split samples (id, class, URL)
//	POST /api/predict         image as the raw body or multipart field "image"; ?top=K
//	GET  /samples/{id}        a sample image
//	GET  /pictures/{label}    a class's reference picture
//
// Uploads are capped and sniffed; refusals are 4xx JSON errors
// {"error": "...", "reason": "..."}. Libtorch work goes through the
// Predictor, which serialises it onto its own locked thread.
package serve

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chara-dev/chara/internal/hostcheck"
	"github.com/chara-dev/chara/internal/imageio"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/predict"
)

//go:embed assets
var assets embed.FS

// DefaultMaxUpload is the default upload cap (10 MB).
const DefaultMaxUpload = 10 << 20

// Reasons in error responses besides imageio's (not-an-image,
// unsupported-format, too-large, truncated, corrupt, empty).
const (
	ReasonUploadTooLarge = "upload-too-large"
	ReasonBadRequest     = "bad-request"
	ReasonNotFound       = "not-found"
	ReasonMethod         = "method-not-allowed"
	ReasonUnavailable    = "unavailable"
	ReasonInternal       = "internal"
)

type options struct {
	datasetDir      string
	datasetSet      bool
	pictures        map[string]string
	maxUpload       int64
	samplesPerClass int
	topK            int
	decoders        int
	representative  int
	hosts           []string
}

// Option configures New.
type Option func(*options)

// WithDataset sets the dataset folder samples and representative pictures
// come from (default: datasets/<run's dataset> of the run's workspace; ""
// for none).
func WithDataset(dir string) Option {
	return func(o *options) { o.datasetDir, o.datasetSet = dir, true }
}

// WithPictures sets reference pictures: class name -> image file (chara.yaml
// classes[].picture). Classes without one show a representative image of
// the train split.
func WithPictures(m map[string]string) Option { return func(o *options) { o.pictures = m } }

// WithMaxUpload caps an upload's size in bytes (default DefaultMaxUpload).
func WithMaxUpload(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxUpload = int64(n)
		}
	}
}

// WithSamplesPerClass sets how many test images per class the page offers
// (default 3).
func WithSamplesPerClass(n int) Option { return func(o *options) { o.samplesPerClass = n } }

// WithTopK sets how many classes a prediction returns by default (5).
func WithTopK(k int) Option {
	return func(o *options) {
		if k > 0 {
			o.topK = k
		}
	}
}

// WithDecoders caps concurrent upload decodes (memory; default 4).
func WithDecoders(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.decoders = n
		}
	}
}

// WithHosts names host names the server answers for besides its listening
// address (and localhost on loopback): every other Host header is refused
// (DNS-rebinding defence, internal/hostcheck).
func WithHosts(names ...string) Option {
	return func(o *options) { o.hosts = append(o.hosts, names...) }
}

// Sample is a test-split image the page offers.
type Sample struct {
	ID    int    `json:"id"`
	Label int    `json:"label"`
	Class string `json:"class"`
	URL   string `json:"url"`
	path  string // relative to the dataset folder
}

// ClassInfo is one class of /api/classes.
type ClassInfo struct {
	Label   int    `json:"label"`
	Name    string `json:"name"`
	Slug    string `json:"slug"`
	Picture string `json:"picture"`
}

// Server serves the page and the API for one Predictor.
type Server struct {
	p        *predict.Predictor
	o        options
	root     *os.Root // the dataset folder, nil without one
	samples  []Sample
	train    map[int][]string // label -> train image paths (distinct), for representatives
	pictures map[int][]byte   // label -> configured picture bytes
	repOnce  []sync.Once
	rep      [][]byte
	sem      chan struct{}
	page     []byte
	mux      *http.ServeMux
	warnings []string
}

// New prepares a Server: it reads the dataset's manifests (samples and
// train images) and the configured pictures. Problems that only lose a
// picture or the samples are Warnings, not errors.
func New(p *predict.Predictor, opts ...Option) (*Server, error) {
	o := options{maxUpload: DefaultMaxUpload, samplesPerClass: 3, topK: 5, decoders: 4, representative: 8}
	for _, f := range opts {
		f(&o)
	}
	card := p.Card()
	if !o.datasetSet && card.Dataset != "" {
		ws := filepath.Dir(filepath.Dir(filepath.Clean(p.Dir())))
		o.datasetDir = manifests.DatasetDir(ws, card.Dataset)
	}
	n := len(p.Classes())
	s := &Server{
		p: p, o: o, train: map[int][]string{}, pictures: map[int][]byte{},
		repOnce: make([]sync.Once, n), rep: make([][]byte, n), sem: make(chan struct{}, o.decoders),
	}
	page, err := assets.ReadFile("assets/index.html")
	if err != nil {
		return nil, err
	}
	s.page = page
	if o.datasetDir != "" {
		if err := s.readDataset(o.datasetDir); err != nil {
			s.warnings = append(s.warnings, fmt.Sprintf("no samples or train pictures: %v", err))
		}
	}
	for name, path := range o.pictures {
		label := -1
		for _, c := range p.Classes() {
			if c.Name == name {
				label = c.Label
			}
		}
		if label < 0 || path == "" {
			continue
		}
		b, err := os.ReadFile(path)
		if err == nil {
			_, err = imageio.DecodeConfig(b)
		}
		if err != nil {
			s.warnings = append(s.warnings, fmt.Sprintf("picture of %s: %v", name, err))
			continue
		}
		s.pictures[label] = b
	}
	s.routes()
	return s, nil
}

func (s *Server) readDataset(dir string) error {
	ds, err := manifests.ReadDataset(dir)
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	s.root = root
	labels := map[string]int{}
	for _, c := range s.p.Classes() {
		labels[c.Name] = c.Label
	}
	seen := map[string]bool{}
	perClass := map[int]int{}
	for _, r := range ds.Rows[manifests.Test] {
		l, ok := labels[r.Class]
		if !ok || seen[r.SHA256] || perClass[l] >= s.o.samplesPerClass {
			continue
		}
		seen[r.SHA256] = true
		perClass[l]++
		id := len(s.samples)
		s.samples = append(s.samples, Sample{ID: id, Label: l, Class: r.Class, URL: "/samples/" + strconv.Itoa(id), path: r.Path})
	}
	seen = map[string]bool{}
	for _, r := range ds.Rows[manifests.Train] {
		l, ok := labels[r.Class]
		if !ok || seen[r.SHA256] || len(s.train[l]) >= s.o.representative {
			continue
		}
		seen[r.SHA256] = true
		s.train[l] = append(s.train[l], r.Path)
	}
	return nil
}

// Warnings lists what New could not use (a missing dataset, a bad picture).
func (s *Server) Warnings() []string { return s.warnings }

// Samples lists the samples the page offers.
func (s *Server) Samples() []Sample { return s.samples }

// Handler is the page and the API.
func (s *Server) Handler() http.Handler { return s.mux }

// Close releases the dataset folder handle (not the Predictor).
func (s *Server) Close() error {
	if s.root != nil {
		return s.root.Close()
	}
	return nil
}

// Serve serves on ln until ctx ends, then shuts down gracefully (5 s). It
// answers only requests whose Host is ln's address or a WithHosts name.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           hostcheck.New(ln.Addr(), s.o.hosts...).Handler(s.mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
		<-errc
		return nil
	}
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /static/{file...}", s.handleStatic)
	m.HandleFunc("GET /{$}", s.handlePage)
	m.HandleFunc("GET /api/classes", s.handleClasses)
	m.HandleFunc("GET /api/samples", s.handleSamples)
	m.HandleFunc("POST /api/predict", s.handlePredict)
	m.HandleFunc("/api/predict", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, ReasonMethod, "use POST with the image as the body or as the multipart field \"image\"")
	})
	m.HandleFunc("GET /samples/{id}", s.handleSample)
	m.HandleFunc("GET /pictures/{label}", s.handlePicture)
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, ReasonNotFound, "no such API endpoint: "+r.URL.Path)
	})
	s.mux = m
}

type errorBody struct {
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, reason, msg string) {
	writeJSON(w, status, errorBody{Error: msg, Reason: reason})
}

// handleStatic serves an embedded asset: files only (no listings), and
// only names inside assets/static (fs.ValidPath refuses "..").
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	name = "assets/static/" + name
	if st, err := fs.Stat(assets, name); err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeFileFS(w, r, assets, name)
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(s.page)
}

// Classes is the body of GET /api/classes.
type Classes struct {
	Run       string      `json:"run"`
	Model     string      `json:"model"`
	Dataset   string      `json:"dataset"`
	TestAcc   float64     `json:"test_acc"`
	MaxUpload int64       `json:"max_upload"`
	Classes   []ClassInfo `json:"classes"`
}

func (s *Server) handleClasses(w http.ResponseWriter, r *http.Request) {
	card := s.p.Card()
	out := Classes{Run: card.Name, Model: card.Model, Dataset: card.Dataset, TestAcc: card.TestAcc, MaxUpload: s.o.maxUpload}
	for _, c := range card.Classes {
		out.Classes = append(out.Classes, ClassInfo{Label: c.Label, Name: c.Name, Slug: c.Slug, Picture: pictureURL(c.Label)})
	}
	writeJSON(w, http.StatusOK, out)
}

func pictureURL(label int) string { return "/pictures/" + strconv.Itoa(label) }

func (s *Server) handleSamples(w http.ResponseWriter, r *http.Request) {
	out := s.samples
	if out == nil {
		out = []Sample{}
	}
	writeJSON(w, http.StatusOK, out)
}

// readDatasetFile reads a manifest path inside the dataset folder; os.Root
// refuses anything that would leave it (.., absolute paths, symlinks out).
func (s *Server) readDatasetFile(rel string) ([]byte, error) {
	if s.root == nil {
		return nil, fs.ErrNotExist
	}
	if err := manifests.CheckRelPath(rel); err != nil {
		return nil, err
	}
	f, err := s.root.Open(filepath.FromSlash(rel))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 64<<20))
}

func writeImage(w http.ResponseWriter, b []byte) {
	ct := "application/octet-stream"
	if f := imageio.Sniff(b); f != "" {
		ct = mime.TypeByExtension(f.Ext())
		if ct == "" {
			ct = "image/" + string(f)
		}
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "max-age=300")
	_, _ = w.Write(b)
}

func (s *Server) handleSample(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id < 0 || id >= len(s.samples) {
		writeError(w, http.StatusNotFound, ReasonNotFound, "no sample "+strconv.Quote(r.PathValue("id")))
		return
	}
	b, err := s.readDatasetFile(s.samples[id].path)
	if err != nil {
		writeError(w, http.StatusNotFound, ReasonNotFound, fmt.Sprintf("sample %d: %v", id, err))
		return
	}
	writeImage(w, b)
}

func (s *Server) handlePicture(w http.ResponseWriter, r *http.Request) {
	label, err := strconv.Atoi(r.PathValue("label"))
	if err != nil || label < 0 || label >= len(s.p.Classes()) {
		writeError(w, http.StatusNotFound, ReasonNotFound, "no class "+strconv.Quote(r.PathValue("label")))
		return
	}
	b := s.picture(r.Context(), label)
	if b == nil {
		writeError(w, http.StatusNotFound, ReasonNotFound, "no picture of "+s.p.Classes()[label].Name)
		return
	}
	writeImage(w, b)
}

// picture is the class's configured picture, else the train image (of the
// first few) that the model gives the class's highest probability: a
// representative one, computed once.
func (s *Server) picture(ctx context.Context, label int) []byte {
	if b, ok := s.pictures[label]; ok {
		return b
	}
	s.repOnce[label].Do(func() {
		best := -1.0
		for _, rel := range s.train[label] {
			b, err := s.readDatasetFile(rel)
			if err != nil {
				continue
			}
			preds, err := s.p.PredictBytes(context.WithoutCancel(ctx), b, 0)
			if err != nil {
				continue
			}
			for _, pr := range preds {
				if pr.Label == label && pr.Prob > best {
					best, s.rep[label] = pr.Prob, b
				}
			}
		}
	})
	return s.rep[label]
}

// PredictResponse is the body of POST /api/predict.
type PredictResponse struct {
	Predictions []PredictionInfo `json:"predictions"`
	// None: the run answers "none of these characters" (the image's score
	// is below its open-set threshold); Predictions still rank the classes.
	None   bool    `json:"none"`
	Millis float64 `json:"ms"`
}

// PredictionInfo is a prediction with its class's picture URL.
type PredictionInfo struct {
	predict.Prediction
	Picture string `json:"picture"`
}

func (s *Server) handlePredict(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	k := s.o.topK
	if v := r.URL.Query().Get("top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, ReasonBadRequest, "top: want a positive integer, got "+strconv.Quote(v))
			return
		}
		k = n
	}
	// Only the head of the upload is read before a decoder slot is free:
	// a request that waits holds a few KB, not the whole file.
	src, head, status, reason, err := s.openUpload(w, r)
	if err != nil {
		writeError(w, status, reason, err.Error())
		return
	}
	select {
	case s.sem <- struct{}{}:
	case <-r.Context().Done():
		return
	}
	b, status, reason, err := s.readRest(src, head, r.ContentLength)
	if err != nil {
		<-s.sem
		writeError(w, status, reason, err.Error())
		return
	}
	preds, err := s.p.PredictBytes(r.Context(), b, k)
	b = nil
	<-s.sem
	if err != nil {
		status, reason := statusOf(err)
		if r.Context().Err() != nil {
			return
		}
		writeError(w, status, reason, message(err))
		return
	}
	out := PredictResponse{Predictions: make([]PredictionInfo, len(preds)), None: s.p.None(preds)}
	for i, p := range preds {
		out.Predictions[i] = PredictionInfo{Prediction: p, Picture: pictureURL(p.Label)}
	}
	out.Millis = float64(time.Since(start).Microseconds()) / 1000
	writeJSON(w, http.StatusOK, out)
}

// headSize is how much of an upload is read before it waits for a decoder
// slot: enough for every supported format's signature and dimensions
// (a JPEG's may follow a large EXIF block: then the full decode decides).
const headSize = 4 << 10

// openUpload finds the image in a raw body or in the multipart field
// "image", reads its head and refuses at once an upload that is over the
// cap (by its Content-Length), empty, or not an image of a supported
// format (by its signature). The pixel limit is the Predictor's, checked
// before it decodes.
func (s *Server) openUpload(w http.ResponseWriter, r *http.Request) (io.Reader, []byte, int, string, error) {
	limit := s.o.maxUpload
	fail := func(status int, reason string, err error) (io.Reader, []byte, int, string, error) {
		return nil, nil, status, reason, err
	}
	if r.ContentLength > limit+1<<20 { // multipart framing aside
		return fail(s.tooLarge())
	}
	body := http.MaxBytesReader(w, r.Body, limit+1<<20)
	var src io.Reader = body
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return fail(http.StatusBadRequest, ReasonBadRequest, errors.New(`no multipart field "image"`))
			}
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return fail(s.tooLarge())
			}
			if err != nil {
				return fail(http.StatusBadRequest, ReasonBadRequest, fmt.Errorf("multipart: %w", err))
			}
			if part.FormName() == "image" {
				src = part
				break
			}
			part.Close()
		}
	}
	src = io.LimitReader(src, limit+1)
	head := make([]byte, headSize)
	n, err := io.ReadFull(src, head)
	head = head[:n]
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return fail(s.tooLarge())
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
		return fail(http.StatusBadRequest, ReasonBadRequest, fmt.Errorf("reading the upload: %w", err))
	case n == 0:
		return fail(http.StatusBadRequest, imageio.ReasonEmpty, errors.New("empty upload: send an image file"))
	}
	if _, err := imageio.DecodeConfig(head, imageio.WithMaxPixels(math.MaxInt64)); err != nil {
		var ie *imageio.Error
		if errors.As(err, &ie) && ie.Reason != imageio.ReasonTruncated && ie.Reason != imageio.ReasonCorrupt {
			status, reason := statusOf(err)
			return fail(status, reason, errors.New(message(err)))
		}
	}
	return src, head, 0, "", nil
}

func (s *Server) tooLarge() (int, string, error) {
	return http.StatusRequestEntityTooLarge, ReasonUploadTooLarge,
		fmt.Errorf("upload larger than %s (the limit)", humanBytes(s.o.maxUpload))
}

// readRest reads the rest of an upload after its head, into one buffer
// sized from the Content-Length when there is one, refusing more than the
// cap.
func (s *Server) readRest(src io.Reader, head []byte, length int64) ([]byte, int, string, error) {
	limit := s.o.maxUpload
	if int64(len(head)) < headSize { // the whole upload is in head
		return head, 0, "", nil
	}
	var buf bytes.Buffer
	if length > 0 {
		buf.Grow(int(min(length, limit+1)))
	}
	buf.Write(head)
	_, err := buf.ReadFrom(src)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || int64(buf.Len()) > limit {
		status, reason, err := s.tooLarge()
		return nil, status, reason, err
	}
	if err != nil {
		return nil, http.StatusBadRequest, ReasonBadRequest, fmt.Errorf("reading the upload: %w", err)
	}
	return buf.Bytes(), 0, "", nil
}

// statusOf maps a prediction error to an HTTP status and reason.
func statusOf(err error) (int, string) {
	var ie *imageio.Error
	switch {
	case errors.As(err, &ie):
		switch ie.Reason {
		case imageio.ReasonNotAnImage, imageio.ReasonUnsupported:
			return http.StatusUnsupportedMediaType, ie.Reason
		case imageio.ReasonEmpty:
			return http.StatusBadRequest, ie.Reason
		}
		return http.StatusUnprocessableEntity, ie.Reason // too-large, truncated, corrupt
	case errors.Is(err, predict.ErrClosed):
		return http.StatusServiceUnavailable, ReasonUnavailable
	}
	return http.StatusInternalServerError, ReasonInternal
}

// message is a sentence for the page.
func message(err error) string {
	var ie *imageio.Error
	if errors.As(err, &ie) {
		switch ie.Reason {
		case imageio.ReasonNotAnImage:
			return "This is not an image (" + ie.Err.Error() + "). Use a JPEG, PNG, GIF, WebP or BMP file."
		case imageio.ReasonUnsupported:
			return "This image format is not supported (" + ie.Err.Error() + "). Use a JPEG, PNG, GIF, WebP or BMP file."
		case imageio.ReasonTooLarge:
			return "The image has too many pixels: " + ie.Err.Error() + "."
		case imageio.ReasonTruncated:
			return "The image file is cut short (truncated)."
		case imageio.ReasonEmpty:
			return "The file is empty."
		}
		return "The image file is corrupt: " + ie.Err.Error() + "."
	}
	return strings.TrimSpace(err.Error())
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
