package readmodel

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// spillSort sorts records of w int64 words by their first k words (signed, in order), with at
// most a budget of records in memory: beyond it, each full buffer is sorted and written to a
// file of its own (a run), and each merges the runs. Records of equal keys are summed
// (merge) as they meet, in the buffer before a run is written and again in the merge. A
// rebuild sorts the group and money deltas of every item by recording moment this way, and
// the moments of its facts by position, instead of holding them in maps as large as the store
// (issue 16 point 3): its memory is the budget, whatever the store's size.
type spillSort struct {
	name  string
	w, k  int
	max   int // records in the buffer before it is written as a run
	buf   []int64
	idx   []int32
	dir   string
	runs  []string
	merge func(dst, src []int64) // adds src into dst, both of one key; nil: equal keys stay apart
	n     int64                  // records written to runs
}

// newSpillSort sorts records of w words by their first k, holding up to budget bytes of them,
// spilling runs into dir.
func newSpillSort(name, dir string, w, k, budget int, merge func(dst, src []int64)) *spillSort {
	max := max(budget/(w*8+4), 16)
	return &spillSort{name: name, w: w, k: k, max: max, dir: dir, merge: merge, buf: make([]int64, 0, 1024*w)}
}

func (s *spillSort) cmp(a, b []int64) int {
	for i := 0; i < s.k; i++ {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	return 0
}

// add takes one record (copied).
func (s *spillSort) add(rec []int64) error {
	s.buf = append(s.buf, rec...)
	if len(s.buf) >= s.max*s.w {
		return s.spill()
	}
	return nil
}

// sorted sorts the buffer and calls fn on each record in order, records of equal keys merged.
func (s *spillSort) sorted(fn func(rec []int64) error) error {
	n := len(s.buf) / s.w
	s.idx = s.idx[:0]
	for i := range n {
		s.idx = append(s.idx, int32(i))
	}
	w := s.w
	slices.SortFunc(s.idx, func(x, y int32) int {
		return s.cmp(s.buf[int(x)*w:int(x)*w+w], s.buf[int(y)*w:int(y)*w+w])
	})
	var pending []int64
	for _, i := range s.idx {
		rec := s.buf[int(i)*w : int(i)*w+w]
		if pending != nil && s.merge != nil && s.cmp(pending, rec) == 0 {
			s.merge(pending, rec)
			continue
		}
		if pending != nil {
			if err := fn(pending); err != nil {
				return err
			}
		}
		pending = rec
	}
	if pending != nil {
		return fn(pending)
	}
	return nil
}

// spill writes the buffer, sorted, as a run.
func (s *spillSort) spill() error {
	f, err := os.Create(filepath.Join(s.dir, fmt.Sprintf("%s-%d", s.name, len(s.runs))))
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<18)
	b := make([]byte, s.w*8)
	if err := s.sorted(func(rec []int64) error {
		for j, v := range rec {
			binary.LittleEndian.PutUint64(b[j*8:], uint64(v))
		}
		s.n++
		_, err := bw.Write(b)
		return err
	}); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	s.runs = append(s.runs, f.Name())
	s.buf = s.buf[:0]
	return f.Close()
}

// each calls fn on every record in key order, records of equal keys merged; the record is
// fn's only until it returns. The sorter is spent after it.
func (s *spillSort) each(fn func(rec []int64) error) error {
	if len(s.runs) == 0 {
		err := s.sorted(fn)
		s.buf, s.idx = nil, nil
		return err
	}
	if len(s.buf) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	s.buf, s.idx = nil, nil
	h := &runHeap{s: s}
	for _, name := range s.runs {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r := &runReader{r: bufio.NewReaderSize(f, 1<<16), b: make([]byte, s.w*8), rec: make([]int64, s.w)}
		ok, err := r.next()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if ok {
			h.rs = append(h.rs, r)
		}
	}
	heap.Init(h)
	pending := make([]int64, s.w)
	have := false
	for len(h.rs) > 0 {
		r := h.rs[0]
		switch {
		case have && s.merge != nil && s.cmp(pending, r.rec) == 0:
			s.merge(pending, r.rec)
		default:
			if have {
				if err := fn(pending); err != nil {
					return err
				}
			}
			copy(pending, r.rec)
			have = true
		}
		ok, err := r.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	if have {
		return fn(pending)
	}
	return nil
}

type runReader struct {
	r   *bufio.Reader
	b   []byte
	rec []int64
}

func (r *runReader) next() (bool, error) {
	if _, err := io.ReadFull(r.r, r.b); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, err
	}
	for j := range r.rec {
		r.rec[j] = int64(binary.LittleEndian.Uint64(r.b[j*8:]))
	}
	return true, nil
}

type runHeap struct {
	s  *spillSort
	rs []*runReader
}

func (h *runHeap) Len() int           { return len(h.rs) }
func (h *runHeap) Less(i, j int) bool { return h.s.cmp(h.rs[i].rec, h.rs[j].rec) < 0 }
func (h *runHeap) Swap(i, j int)      { h.rs[i], h.rs[j] = h.rs[j], h.rs[i] }
func (h *runHeap) Push(x any)         { h.rs = append(h.rs, x.(*runReader)) }
func (h *runHeap) Pop() any {
	x := h.rs[len(h.rs)-1]
	h.rs = h.rs[:len(h.rs)-1]
	return x
}
