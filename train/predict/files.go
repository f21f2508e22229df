package predict

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
)

// ImageExts are the file extensions Expand picks up inside folders
// (named files are always tried: the format is sniffed, not guessed).
var ImageExts = []string{".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp"}

// Input is one file to classify.
type Input struct {
	Path    string
	FromDir bool // found inside a folder argument
}

// Expand turns command-line arguments into files: a file is itself, a
// folder is every image file under it (by extension, recursively, sorted).
// A missing argument is an Input too, so that it is reported with the rest.
func Expand(args []string) ([]Input, bool, error) {
	var out []Input
	anyDir := false
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			out = append(out, Input{Path: a})
			continue
		}
		anyDir = true
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && isImageName(p) {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, anyDir, err
		}
		sort.Strings(found)
		for _, p := range found {
			out = append(out, Input{Path: p, FromDir: true})
		}
	}
	return out, anyDir, nil
}

func isImageName(p string) bool {
	ext := strings.ToLower(filepath.Ext(p))
	for _, e := range ImageExts {
		if ext == e {
			return true
		}
	}
	return false
}

// Result is the outcome for one file.
type Result struct {
	Path        string       `json:"path"`
	Predictions []Prediction `json:"predictions,omitempty"`
	// None: the run answers "none of these characters" (its open-set
	// score is below the threshold); Predictions still rank the classes.
	None bool  `json:"none"`
	Err  error `json:"-"`
}

// MarshalJSON adds the error as text.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	v := struct {
		plain
		Error string `json:"error,omitempty"`
	}{plain: plain(r)}
	if r.Err != nil {
		v.Error = r.Err.Error()
	}
	return json.Marshal(v)
}

// PredictFiles classifies files with workers goroutines decoding in
// parallel (<= 0: 2); results come back in input order, a failure in its
// Result.Err. It stops early only when ctx ends (ctx.Err() is returned).
func (p *Predictor) PredictFiles(ctx context.Context, files []string, k, workers int) ([]Result, error) {
	if workers <= 0 {
		workers = 2
	}
	res := make([]Result, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				preds, err := p.PredictFile(ctx, files[i], k)
				res[i] = Result{Path: files[i], Predictions: preds, None: err == nil && p.None(preds), Err: err}
			}
		}()
	}
feed:
	for i := range files {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return res, ctx.Err()
}

// WriteCSV writes path,top1,p1,top2,p2,... (k columns pairs) for the
// successful results; probabilities with 6 decimals.
func WriteCSV(w io.Writer, results []Result, k int) error {
	cw := csv.NewWriter(w)
	head := []string{"path"}
	for i := 1; i <= k; i++ {
		head = append(head, "top"+strconv.Itoa(i), "p"+strconv.Itoa(i))
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range results {
		if r.Err != nil {
			continue
		}
		row := []string{r.Path}
		for i := 0; i < k; i++ {
			if i < len(r.Predictions) {
				row = append(row, r.Predictions[i].Class, strconv.FormatFloat(r.Predictions[i].Prob, 'f', 6, 64))
			} else {
				row = append(row, "", "")
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the results as one JSON array (errors as "error").
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if results == nil {
		results = []Result{}
	}
	return enc.Encode(results)
}

// WriteTable writes, per successful image, its path and a ranked table of
// classes with percentages.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	first := true
	for _, r := range results {
		if r.Err != nil {
			continue
		}
		if !first {
			fmt.Fprintln(tw)
		}
		first = false
		fmt.Fprintf(tw, "%s\n", r.Path)
		if r.None {
			fmt.Fprintf(tw, "  %s\n", NoneOfThese)
		}
		for i, p := range r.Predictions {
			fmt.Fprintf(tw, "  %d\t%s\t%6.2f%%\n", i+1, p.Class, 100*p.Prob)
		}
	}
	return tw.Flush()
}
