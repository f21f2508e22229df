package train

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"

	"github.com/chara-dev/chara/internal/atomicfile"
)

// stateTensor is one entry of a PyTorch state dict: float32 or int64 data,
// row-major.
type stateTensor struct {
	Name  string
	Shape []int64
	F32   []float32
	I64   []int64
}

// WriteStateDict writes the VarStore as a file that PyTorch's torch.load
// reads as an ordered dict of name -> tensor (the zip format of torch.save,
// protocol 2 pickle). Batch-norm layers also get num_batches_tracked (0), so
// the backbone loads into torchvision's efficientnet_b0 with strict=True.
// Call it on the torch thread.
func WriteStateDict(path string, vs *nn.VarStore) error {
	vars := vs.Variables()
	// The values share the VarStore's C memory, which its finalizer frees.
	defer runtime.KeepAlive(vs)
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	var ts []stateTensor
	for _, n := range names {
		t := vars[n]
		shape, err := t.Size()
		if err != nil {
			return fmt.Errorf("state dict %s: %w", n, err)
		}
		var vals []float64
		if t.MustDevice() == gotch.CPU {
			vals = t.Float64Values()
		} else {
			cpu, err := t.To(gotch.CPU, false)
			if err != nil {
				return fmt.Errorf("state dict %s: %w", n, err)
			}
			vals = cpu.Float64Values()
			cpu.MustDrop()
		}
		f := make([]float32, len(vals))
		for i, v := range vals {
			f[i] = float32(v)
		}
		ts = append(ts, stateTensor{Name: n, Shape: shape, F32: f})
		if strings.HasSuffix(n, ".running_var") {
			ts = append(ts, stateTensor{Name: strings.TrimSuffix(n, "running_var") + "num_batches_tracked", Shape: []int64{}, I64: []int64{0}})
		}
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error { return encodeStateDict(w, ts) })
}

// encodeStateDict writes the torch.save zip archive.
func encodeStateDict(w io.Writer, ts []stateTensor) error {
	const root = "archive/"
	zw := zip.NewWriter(w)
	var pkl bytes.Buffer
	p := &pickler{b: &pkl}
	p.proto2()
	p.global("collections", "OrderedDict")
	p.op(')') // EMPTY_TUPLE
	p.op('R') // REDUCE
	p.op('(') // MARK
	for i, t := range ts {
		p.unicode(t.Name)
		p.global("torch._utils", "_rebuild_tensor_v2")
		p.op('(') // MARK: args of _rebuild_tensor_v2
		// persistent id ('storage', torch.XStorage, key, 'cpu', numel)
		p.op('(')
		p.unicode("storage")
		numel := len(t.F32)
		if t.I64 != nil {
			p.global("torch", "LongStorage")
			numel = len(t.I64)
		} else {
			p.global("torch", "FloatStorage")
		}
		p.unicode(fmt.Sprint(i))
		p.unicode("cpu")
		p.int(int64(numel))
		p.op('t') // TUPLE
		p.op('Q') // BINPERSID
		p.int(0)  // storage offset
		p.ints(t.Shape)
		p.ints(contiguousStrides(t.Shape))
		p.op(0x89) // NEWFALSE: requires_grad
		p.global("collections", "OrderedDict")
		p.op(')')
		p.op('R') // backward hooks: OrderedDict()
		p.op('t')
		p.op('R')
	}
	p.op('u') // SETITEMS
	p.op('.') // STOP
	if err := storeEntry(zw, root+"data.pkl", pkl.Bytes()); err != nil {
		return err
	}
	for i, t := range ts {
		var data bytes.Buffer
		if t.I64 != nil {
			binary.Write(&data, binary.LittleEndian, t.I64)
		} else {
			b := make([]byte, 4*len(t.F32))
			for j, v := range t.F32 {
				binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(v))
			}
			data.Write(b)
		}
		if err := storeEntry(zw, fmt.Sprintf("%sdata/%d", root, i), data.Bytes()); err != nil {
			return err
		}
	}
	if err := storeEntry(zw, root+"version", []byte("3\n")); err != nil {
		return err
	}
	return zw.Close()
}

func storeEntry(zw *zip.Writer, name string, b []byte) error {
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	return err
}

func contiguousStrides(shape []int64) []int64 {
	s := make([]int64, len(shape))
	acc := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// pickler writes the few pickle opcodes a state dict needs.
type pickler struct{ b *bytes.Buffer }

func (p *pickler) op(c byte) { p.b.WriteByte(c) }
func (p *pickler) proto2()   { p.b.Write([]byte{0x80, 2}) }
func (p *pickler) global(module, name string) {
	p.op('c')
	p.b.WriteString(module + "\n" + name + "\n")
}
func (p *pickler) unicode(s string) {
	p.op('X')
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	p.b.Write(n[:])
	p.b.WriteString(s)
}
func (p *pickler) int(v int64) {
	if v >= math.MinInt32 && v <= math.MaxInt32 {
		p.op('J') // BININT
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], uint32(int32(v)))
		p.b.Write(n[:])
		return
	}
	p.op(0x8a) // LONG1
	p.op(8)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(v))
	p.b.Write(n[:])
}
func (p *pickler) ints(vs []int64) {
	p.op('(')
	for _, v := range vs {
		p.int(v)
	}
	p.op('t')
}

// exportFile is the PyTorch state dict written next to the best weights.
const exportFile = "best.pt"

func writeExport(dir string, vs *nn.VarStore) error {
	path := dir + string(os.PathSeparator) + exportFile
	if err := WriteStateDict(path, vs); err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	return nil
}
