package repo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"

	"slipway/internal/rpm"
)

// A snapshot is parsed metadata in a compact binary form, so that a warm
// load neither decompresses nor parses XML:
//
//	magic | kind | string count | string lengths | string bytes | body | CRC-32C
//
// Numbers are uvarints; strings in the body are indexes into the table,
// which holds each distinct string once. Decoding makes one string of all
// the table's bytes and slices it, so loading costs a few allocations per
// package rather than one per string.
const snapshotMagic = "slipway-repo-snapshot-1\n"

// Snapshot kinds.
const (
	kindPrimary   = 'P'
	kindFilelists = 'F'
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type encoder struct {
	body  []byte
	index map[string]uint64
	table []string
}

func newEncoder() *encoder { return &encoder{index: map[string]uint64{}} }

func (e *encoder) uint(v uint64) { e.body = binary.AppendUvarint(e.body, v) }

func (e *encoder) str(s string) {
	i, ok := e.index[s]
	if !ok {
		i = uint64(len(e.table))
		e.index[s] = i
		e.table = append(e.table, s)
	}
	e.uint(i)
}

// bytes assembles the snapshot.
func (e *encoder) bytes(kind byte) []byte {
	size := 0
	for _, s := range e.table {
		size += len(s)
	}
	out := make([]byte, 0, len(snapshotMagic)+1+binary.MaxVarintLen64*(1+len(e.table))+size+len(e.body)+4)
	out = append(out, snapshotMagic...)
	out = append(out, kind)
	out = binary.AppendUvarint(out, uint64(len(e.table)))
	for _, s := range e.table {
		out = binary.AppendUvarint(out, uint64(len(s)))
	}
	for _, s := range e.table {
		out = append(out, s...)
	}
	out = append(out, e.body...)
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, crcTable))
}

var errCorrupt = errors.New("corrupt snapshot")

type decoder struct {
	buf  []byte
	strs []string
	err  error
}

// newDecoder checks a snapshot's magic, kind and CRC and reads its table.
func newDecoder(data []byte, kind byte) (*decoder, error) {
	n := len(snapshotMagic)
	if len(data) < n+5 || string(data[:n]) != snapshotMagic || data[n] != kind {
		return nil, errCorrupt
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return nil, errCorrupt
	}
	d := &decoder{buf: body[n+1:]}
	lens := make([]int, d.count())
	total := 0
	for i := range lens {
		lens[i] = int(d.uint())
		total += lens[i]
	}
	if d.err != nil || total > len(d.buf) {
		return nil, errCorrupt
	}
	blob := string(d.buf[:total])
	d.buf = d.buf[total:]
	d.strs = make([]string, len(lens))
	for i, l := range lens {
		d.strs[i], blob = blob[:l], blob[l:]
	}
	return d, nil
}

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.err = errCorrupt
		d.buf = nil
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// count reads a length, which cannot exceed the bytes left.
func (d *decoder) count() int {
	v := d.uint()
	if v > uint64(len(d.buf)) {
		d.err = errCorrupt
		d.buf = nil
		return 0
	}
	return int(v)
}

func (d *decoder) str() string {
	i := d.uint()
	if i >= uint64(len(d.strs)) {
		d.err = errCorrupt
		return ""
	}
	return d.strs[i]
}

// done reports an error unless the body was read exactly.
func (d *decoder) done() error {
	if d.err == nil && len(d.buf) != 0 {
		d.err = errCorrupt
	}
	return d.err
}

// encodePackages makes a primary snapshot.
func encodePackages(pkgs []Package) []byte {
	e := newEncoder()
	var nprov, nreq, nfiles int
	for i := range pkgs {
		p := &pkgs[i]
		nprov += len(p.Provides) + len(p.Conflicts) + len(p.Obsoletes)
		nreq += len(p.Requires)
		nfiles += len(p.Files)
	}
	e.uint(uint64(len(pkgs)))
	e.uint(uint64(nprov))
	e.uint(uint64(nreq))
	e.uint(uint64(nfiles))
	deps := func(ds []rpm.Dep) {
		e.uint(uint64(len(ds)))
		for _, d := range ds {
			e.str(d.Name)
			e.uint(uint64(d.Op))
			if d.Op != 0 {
				e.str(d.EVR.Epoch)
				e.str(d.EVR.Version)
				e.str(d.EVR.Release)
			}
		}
	}
	for i := range pkgs {
		p := &pkgs[i]
		for _, s := range []string{p.Name, p.Arch, p.EVR.Epoch, p.EVR.Version, p.EVR.Release, p.SourceRPM,
			p.Location, p.LocationBase, p.Checksum.Type, p.Checksum.Value} {
			e.str(s)
		}
		e.uint(uint64(p.Size))
		deps(p.Provides)
		deps(p.Conflicts)
		deps(p.Obsoletes)
		e.uint(uint64(len(p.Requires)))
		for _, r := range p.Requires {
			e.str(r.Name)
			flags := uint64(r.Op) << 1
			if r.Pre {
				flags |= 1
			}
			e.uint(flags)
			if r.Op != 0 {
				e.str(r.EVR.Epoch)
				e.str(r.EVR.Version)
				e.str(r.EVR.Release)
			}
		}
		e.uint(uint64(len(p.Files)))
		for _, f := range p.Files {
			e.str(f)
		}
	}
	return e.bytes(kindPrimary)
}

// decodePackages reads a primary snapshot. Each package's lists are
// slices of a few shared arrays.
func decodePackages(data []byte) ([]Package, error) {
	d, err := newDecoder(data, kindPrimary)
	if err != nil {
		return nil, err
	}
	n, nprov, nreq, nfiles := d.count(), d.count(), d.count(), d.count()
	pkgs := make([]Package, n)
	provs := make([]rpm.Dep, 0, nprov)
	reqs := make([]Require, 0, nreq)
	files := make([]string, 0, nfiles)
	deps := func() []rpm.Dep {
		k := d.count()
		if len(provs)+k > cap(provs) {
			d.err = errCorrupt
			return nil
		}
		start := len(provs)
		for range k {
			dep := rpm.Dep{Name: d.str(), Op: rpm.Op(d.uint())}
			if dep.Op != 0 {
				dep.EVR = rpm.EVR{Epoch: d.str(), Version: d.str(), Release: d.str()}
			}
			provs = append(provs, dep)
		}
		if k == 0 {
			return nil
		}
		return provs[start:len(provs):len(provs)]
	}
	for i := range pkgs {
		if d.err != nil {
			break
		}
		p := &pkgs[i]
		p.Name, p.Arch = d.str(), d.str()
		p.EVR = rpm.EVR{Epoch: d.str(), Version: d.str(), Release: d.str()}
		p.SourceRPM, p.Location, p.LocationBase = d.str(), d.str(), d.str()
		p.Checksum = Checksum{Type: d.str(), Value: d.str()}
		p.Size = int64(d.uint())
		p.Provides, p.Conflicts, p.Obsoletes = deps(), deps(), deps()
		if k := d.count(); k > 0 && len(reqs)+k <= cap(reqs) {
			start := len(reqs)
			for range k {
				r := Require{Dep: rpm.Dep{Name: d.str()}}
				flags := d.uint()
				r.Op, r.Pre = rpm.Op(flags>>1), flags&1 != 0
				if r.Op != 0 {
					r.EVR = rpm.EVR{Epoch: d.str(), Version: d.str(), Release: d.str()}
				}
				reqs = append(reqs, r)
			}
			p.Requires = reqs[start:len(reqs):len(reqs)]
		} else if k > 0 {
			d.err = errCorrupt
		}
		if k := d.count(); k > 0 && len(files)+k <= cap(files) {
			start := len(files)
			for range k {
				files = append(files, d.str())
			}
			p.Files = files[start:len(files):len(files)]
		} else if k > 0 {
			d.err = errCorrupt
		}
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return pkgs, nil
}

// pkgFiles is one package's complete file list, from filelists.xml.
type pkgFiles struct {
	pkgid string // the package's checksum
	files []string
}

// encodeFilelists makes a filelists snapshot.
func encodeFilelists(lists []pkgFiles) []byte {
	e := newEncoder()
	e.uint(uint64(len(lists)))
	for _, l := range lists {
		e.str(l.pkgid)
		e.uint(uint64(len(l.files)))
		for _, f := range l.files {
			e.str(f)
		}
	}
	return e.bytes(kindFilelists)
}

// decodeFilelists reads a filelists snapshot.
func decodeFilelists(data []byte) ([]pkgFiles, error) {
	d, err := newDecoder(data, kindFilelists)
	if err != nil {
		return nil, err
	}
	lists := make([]pkgFiles, d.count())
	for i := range lists {
		if d.err != nil {
			break
		}
		l := &lists[i]
		l.pkgid = d.str()
		l.files = make([]string, d.count())
		for j := range l.files {
			l.files[j] = d.str()
		}
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return lists, nil
}

// readSnapshot reads and decodes a snapshot file; a missing file is
// fs.ErrNotExist, a damaged one errCorrupt.
func readSnapshot[T any](path string, decode func([]byte) (T, error)) (T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := decode(data)
	if err != nil {
		return v, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}
