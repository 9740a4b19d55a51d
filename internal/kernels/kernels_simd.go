//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// init picks the kernels once: Float64x8 FMAs with AVX-512, Float64x4 FMAs
// with AVX2 and FMA, else the portable ones.
func init() {
	switch {
	case archsimd.X86.AVX512():
		GemmNT, GemmNN, GemmTN = gemmNT8, gemmNN8, gemmTN8
		SIMD, ClearUpper = true, archsimd.ClearAVXUpperBits
	case archsimd.X86.AVX2() && archsimd.X86.FMA():
		GemmNT, GemmNN, GemmTN = gemmNT4, gemmNN4, gemmTN4
		SIMD, ClearUpper = true, archsimd.ClearAVXUpperBits
	}
}

// kcNN and kcNT bound the steps of k one tile runs, so that its panels of
// a and b stay in L1 (GemmNN, GemmTN: 256×16 of b is 32 KiB) or L1 and L2
// (GemmNT: 2 rows of a and 4 of b, 512 long, are 24 KiB).
const (
	kcNN = 256
	kcNT = 512
)

// kBlock splits k into equal blocks of at most max, a multiple of 8 long
// but the last: 784 is 392+392, not 512+272 (a short last block costs a
// tile's setup and sums for little work).
func kBlock(k, max int) int {
	nb := (k + max - 1) / max
	return ((k+nb-1)/nb + 7) &^ 7
}

// kMaxPackNT is the longest k for which GemmNT copies b's rows, transposed,
// into a panel and runs GemmNN's tiles on it (packNT8), rather than taking
// dot products along k, whose sums across the vectors cost as much as a
// short product.
const kMaxPackNT = 64

// packNT8 is GemmNT for short k (at most kMaxPackNT) and m a multiple of
// 4: each 16 rows of b are copied, transposed, into a k×16 panel on the
// stack, which nnTile4x16x8 multiplies by 4 rows of a at a time; 8 more
// rows of b are done one row of a at a time (tile1x8x8) and the last n%8
// by the portable code.
func packNT8(m, n, k int, a, b, c []float64, add bool) {
	a, b, c = a[:m*k], b[:n*k], c[:m*n]
	var panel [kMaxPackNT * 16]float64
	j := 0
	for ; j+16 <= n; j += 16 {
		transpose16(b[j*k:(j+16)*k], k, panel[:k*16])
		for i := 0; i < m; i += 4 {
			nnTile4x16x8(a[i*k:i*k+k], a[(i+1)*k:(i+1)*k+k], a[(i+2)*k:(i+2)*k+k], a[(i+3)*k:(i+3)*k+k], panel[:], 16, c[i*n+j:], n, add)
		}
	}
	if j+8 <= n {
		transpose8(b[j*k:(j+8)*k], k, panel[:k*8])
		for i := range m {
			tile1x8x8(a, i*k, 1, k, panel[:], 8, c[i*n+j:], add)
		}
		j += 8
	}
	archsimd.ClearAVXUpperBits()
	if j < n {
		ntGo(m, n, k, a, b, c, add, j)
	}
}

// transpose16 copies the 16 rows of b, k long, into the k×16 panel p: 8×8
// blocks through registers (transpose8x8), the last k%8 columns one by
// one.
func transpose16(b []float64, k int, p []float64) {
	b, p = b[:16*k], p[:16*k]
	lo1 := archsimd.LoadUint64x8(&[8]uint64{0, 8, 2, 10, 4, 12, 6, 14})
	hi1 := archsimd.LoadUint64x8(&[8]uint64{1, 9, 3, 11, 5, 13, 7, 15})
	lo2 := archsimd.LoadUint64x8(&[8]uint64{0, 1, 8, 9, 4, 5, 12, 13})
	hi2 := archsimd.LoadUint64x8(&[8]uint64{2, 3, 10, 11, 6, 7, 14, 15})
	lo3 := archsimd.LoadUint64x8(&[8]uint64{0, 1, 2, 3, 8, 9, 10, 11})
	hi3 := archsimd.LoadUint64x8(&[8]uint64{4, 5, 6, 7, 12, 13, 14, 15})
	q := 0
	for ; q+8 <= k; q += 8 {
		transpose8x8(b[q:], k, p[q*16:], 16, lo1, hi1, lo2, hi2, lo3, hi3)
		transpose8x8(b[8*k+q:], k, p[q*16+8:], 16, lo1, hi1, lo2, hi2, lo3, hi3)
	}
	for ; q < k; q++ {
		d := (*[16]float64)(p[q*16 : q*16+16])
		for jj := range d {
			d[jj] = b[jj*k+q]
		}
	}
}

// transpose8x8 copies b's 8×8 block at b[0:8], b[k:k+8], ... transposed
// into d[0:8], d[ld:ld+8], ...: three rounds of two-vector permutations,
// pairing elements, then pairs, then fours (lo1 and hi1 pick the even and
// odd elements of two vectors interleaved, lo2 and hi2 the even and odd
// pairs, lo3 and hi3 the low and high fours).
func transpose8x8(b []float64, k int, d []float64, ld int, lo1, hi1, lo2, hi2, lo3, hi3 archsimd.Uint64x8) {
	r0 := archsimd.LoadFloat64x8((*[8]float64)(b[0:8]))
	r1 := archsimd.LoadFloat64x8((*[8]float64)(b[k : k+8]))
	r2 := archsimd.LoadFloat64x8((*[8]float64)(b[2*k : 2*k+8]))
	r3 := archsimd.LoadFloat64x8((*[8]float64)(b[3*k : 3*k+8]))
	r4 := archsimd.LoadFloat64x8((*[8]float64)(b[4*k : 4*k+8]))
	r5 := archsimd.LoadFloat64x8((*[8]float64)(b[5*k : 5*k+8]))
	r6 := archsimd.LoadFloat64x8((*[8]float64)(b[6*k : 6*k+8]))
	r7 := archsimd.LoadFloat64x8((*[8]float64)(b[7*k : 7*k+8]))
	t0, t1 := r0.ConcatPermute(r1, lo1), r0.ConcatPermute(r1, hi1)
	t2, t3 := r2.ConcatPermute(r3, lo1), r2.ConcatPermute(r3, hi1)
	t4, t5 := r4.ConcatPermute(r5, lo1), r4.ConcatPermute(r5, hi1)
	t6, t7 := r6.ConcatPermute(r7, lo1), r6.ConcatPermute(r7, hi1)
	u0, u2 := t0.ConcatPermute(t2, lo2), t0.ConcatPermute(t2, hi2)
	u1, u3 := t1.ConcatPermute(t3, lo2), t1.ConcatPermute(t3, hi2)
	u4, u6 := t4.ConcatPermute(t6, lo2), t4.ConcatPermute(t6, hi2)
	u5, u7 := t5.ConcatPermute(t7, lo2), t5.ConcatPermute(t7, hi2)
	u0.ConcatPermute(u4, lo3).Store((*[8]float64)(d[0:8]))
	u1.ConcatPermute(u5, lo3).Store((*[8]float64)(d[ld : ld+8]))
	u2.ConcatPermute(u6, lo3).Store((*[8]float64)(d[2*ld : 2*ld+8]))
	u3.ConcatPermute(u7, lo3).Store((*[8]float64)(d[3*ld : 3*ld+8]))
	u0.ConcatPermute(u4, hi3).Store((*[8]float64)(d[4*ld : 4*ld+8]))
	u1.ConcatPermute(u5, hi3).Store((*[8]float64)(d[5*ld : 5*ld+8]))
	u2.ConcatPermute(u6, hi3).Store((*[8]float64)(d[6*ld : 6*ld+8]))
	u3.ConcatPermute(u7, hi3).Store((*[8]float64)(d[7*ld : 7*ld+8]))
}

// transpose8 copies the 8 rows of b, k long, into the k×8 panel p.
func transpose8(b []float64, k int, p []float64) {
	b, p = b[:8*k], p[:8*k]
	r0, r1, r2, r3 := b[:k], b[k:2*k], b[2*k:3*k], b[3*k:4*k]
	r4, r5, r6, r7 := b[4*k:5*k], b[5*k:6*k], b[6*k:7*k], b[7*k:8*k]
	for q, v := range r0 {
		d := (*[8]float64)(p[q*8 : q*8+8])
		d[0], d[1], d[2], d[3] = v, r1[q], r2[q], r3[q]
		d[4], d[5], d[6], d[7] = r4[q], r5[q], r6[q], r7[q]
	}
}

// gemmNN8 is GemmNN with Float64x8 FMAs.
func gemmNN8(m, n, k int, a, b, c []float64, add bool) {
	a, b, c = a[:m*k], b[:k*n], c[:m*n]
	nv := n &^ 7
	kc := kBlock(k, kcNN)
	for p0 := 0; p0 < k; p0 += kc {
		p1 := min(p0+kc, k)
		acc := add || p0 > 0
		i := 0
		for ; i+4 <= m; i += 4 {
			a0, a1 := a[i*k+p0:i*k+p1], a[(i+1)*k+p0:(i+1)*k+p1]
			a2, a3 := a[(i+2)*k+p0:(i+2)*k+p1], a[(i+3)*k+p0:(i+3)*k+p1]
			j := 0
			for ; j+16 <= nv; j += 16 {
				nnTile4x16x8(a0, a1, a2, a3, b[p0*n+j:], n, c[i*n+j:], n, acc)
			}
			if j < nv {
				for r := range 4 {
					tile1x8x8(a, (i+r)*k+p0, 1, p1-p0, b[p0*n+j:], n, c[(i+r)*n+j:], acc)
				}
			}
		}
		for ; i < m; i++ {
			for j := 0; j < nv; j += 8 {
				tile1x8x8(a, i*k+p0, 1, p1-p0, b[p0*n+j:], n, c[i*n+j:], acc)
			}
		}
	}
	archsimd.ClearAVXUpperBits()
	if nv < n {
		axpyGo(m, n, k, a, k, 1, b, c, add, nv)
	}
}

// gemmTN8 is GemmTN with Float64x8 FMAs.
func gemmTN8(m, n, k int, a, b, c []float64, add bool) {
	a, b, c = a[:k*m], b[:k*n], c[:m*n]
	nv := n &^ 7
	kc := kBlock(k, kcNN)
	for p0 := 0; p0 < k; p0 += kc {
		p1 := min(p0+kc, k)
		acc := add || p0 > 0
		i := 0
		for ; i+4 <= m; i += 4 {
			j := 0
			for ; j+16 <= nv; j += 16 {
				tnTile4x16x8(a[p0*m+i:], m, p1-p0, b[p0*n+j:], n, c[i*n+j:], acc)
			}
			if j < nv {
				for r := range 4 {
					tile1x8x8(a, p0*m+i+r, m, p1-p0, b[p0*n+j:], n, c[(i+r)*n+j:], acc)
				}
			}
		}
		for ; i < m; i++ {
			for j := 0; j < nv; j += 8 {
				tile1x8x8(a, p0*m+i, m, p1-p0, b[p0*n+j:], n, c[i*n+j:], acc)
			}
		}
	}
	archsimd.ClearAVXUpperBits()
	if nv < n {
		axpyGo(m, n, k, a, 1, m, b, c, add, nv)
	}
}

// nnTile4x16x8 computes c's 4×16 block at c[0:16], c[n:n+16], ... as the
// rows a0..a3 times the len(a0) rows of b's 16 columns at b[0:16],
// b[ldb:ldb+16], ...: eight accumulators, each step two loads of b, four
// broadcasts and eight FMAs.
func nnTile4x16x8(a0, a1, a2, a3, b []float64, ldb int, c []float64, n int, add bool) {
	a1, a2, a3 = a1[:len(a0)], a2[:len(a0)], a3[:len(a0)]
	var s00, s01, s10, s11, s20, s21, s30, s31 archsimd.Float64x8
	o := 0
	for p, x := range a0 {
		bp := b[o : o+16 : o+16]
		y0 := archsimd.LoadFloat64x8((*[8]float64)(bp[0:8]))
		y1 := archsimd.LoadFloat64x8((*[8]float64)(bp[8:16]))
		v := archsimd.BroadcastFloat64x8(x)
		s00, s01 = v.MulAdd(y0, s00), v.MulAdd(y1, s01)
		v = archsimd.BroadcastFloat64x8(a1[p])
		s10, s11 = v.MulAdd(y0, s10), v.MulAdd(y1, s11)
		v = archsimd.BroadcastFloat64x8(a2[p])
		s20, s21 = v.MulAdd(y0, s20), v.MulAdd(y1, s21)
		v = archsimd.BroadcastFloat64x8(a3[p])
		s30, s31 = v.MulAdd(y0, s30), v.MulAdd(y1, s31)
		o += ldb
	}
	put2x8(c[0:16], s00, s01, add)
	put2x8(c[n:n+16], s10, s11, add)
	put2x8(c[2*n:2*n+16], s20, s21, add)
	put2x8(c[3*n:3*n+16], s30, s31, add)
}

// tnTile4x16x8 is nnTile4x16x8 for a[k,m]ᵀ: the four values of step p are
// a[p*m:p*m+4].
func tnTile4x16x8(a []float64, m, k int, b []float64, n int, c []float64, add bool) {
	var s00, s01, s10, s11, s20, s21, s30, s31 archsimd.Float64x8
	oa, ob := 0, 0
	for range k {
		ap := a[oa : oa+4 : oa+4]
		bp := b[ob : ob+16 : ob+16]
		y0 := archsimd.LoadFloat64x8((*[8]float64)(bp[0:8]))
		y1 := archsimd.LoadFloat64x8((*[8]float64)(bp[8:16]))
		v := archsimd.BroadcastFloat64x8(ap[0])
		s00, s01 = v.MulAdd(y0, s00), v.MulAdd(y1, s01)
		v = archsimd.BroadcastFloat64x8(ap[1])
		s10, s11 = v.MulAdd(y0, s10), v.MulAdd(y1, s11)
		v = archsimd.BroadcastFloat64x8(ap[2])
		s20, s21 = v.MulAdd(y0, s20), v.MulAdd(y1, s21)
		v = archsimd.BroadcastFloat64x8(ap[3])
		s30, s31 = v.MulAdd(y0, s30), v.MulAdd(y1, s31)
		oa += m
		ob += n
	}
	put2x8(c[0:16], s00, s01, add)
	put2x8(c[n:n+16], s10, s11, add)
	put2x8(c[2*n:2*n+16], s20, s21, add)
	put2x8(c[3*n:3*n+16], s30, s31, add)
}

// tile1x8x8 computes c[0:8] from k steps: a[o+p*acs] times b[p*n:p*n+8].
// It does the edges, one vector row at a time.
func tile1x8x8(a []float64, o, acs, k int, b []float64, n int, c []float64, add bool) {
	var s archsimd.Float64x8
	ob := 0
	for range k {
		s = archsimd.BroadcastFloat64x8(a[o]).MulAdd(archsimd.LoadFloat64x8((*[8]float64)(b[ob:ob+8])), s)
		o += acs
		ob += n
	}
	if add {
		s = s.Add(archsimd.LoadFloat64x8((*[8]float64)(c[0:8])))
	}
	s.Store((*[8]float64)(c[0:8]))
}

func put2x8(c []float64, s0, s1 archsimd.Float64x8, add bool) {
	c0, c1 := (*[8]float64)(c[0:8]), (*[8]float64)(c[8:16])
	if add {
		s0 = s0.Add(archsimd.LoadFloat64x8(c0))
		s1 = s1.Add(archsimd.LoadFloat64x8(c1))
	}
	s0.Store(c0)
	s1.Store(c1)
}

// gemmNT8 is GemmNT with Float64x8 FMAs along k: dot products of two rows
// of a with four rows of b, summed across the vectors at the end (Go's
// register allocator gives vectors 16 registers, so 2×4 accumulators and
// six loads are what fits; 4×4 spills). The rows and columns left over
// are the portable code's.
func gemmNT8(m, n, k int, a, b, c []float64, add bool) {
	if k <= kMaxPackNT && m >= 8 && n >= 16 {
		m4 := m &^ 3
		packNT8(m4, n, k, a, b, c, add)
		if m4 < m {
			dotNT8(m-m4, n, k, a[m4*k:], b, c[m4*n:], add)
		}
		return
	}
	dotNT8(m, n, k, a, b, c, add)
}

// dotNT8 is gemmNT8's dot products along k.
func dotNT8(m, n, k int, a, b, c []float64, add bool) {
	if k <= 4 {
		dotNT4(m, n, k, a, b, c, add) // one Float64x4 covers k, without masks
		return
	}
	a, b, c = a[:m*k], b[:n*k], c[:m*n]
	m2, n4 := m&^1, n&^3
	kc := kBlock(k, kcNT)
	for p0 := 0; p0 < k; p0 += kc {
		p1 := min(p0+kc, k)
		acc := add || p0 > 0
		for i := 0; i < m2; i += 2 {
			a0, a1 := a[i*k+p0:i*k+p1], a[(i+1)*k+p0:(i+1)*k+p1]
			for j := 0; j < n4; j += 4 {
				ntTile2x4x8(a0, a1, b[j*k+p0:j*k+p1], b[(j+1)*k+p0:(j+1)*k+p1], b[(j+2)*k+p0:(j+2)*k+p1], b[(j+3)*k+p0:(j+3)*k+p1],
					c[i*n+j:], n, acc)
			}
		}
	}
	archsimd.ClearAVXUpperBits()
	if n4 < n {
		ntGo(m2, n, k, a, b, c, add, n4)
	}
	if m2 < m {
		ntGo(m-m2, n, k, a[m2*k:], b, c[m2*n:], add, 0)
	}
}

// ntTile2x4x8 computes c's 2×4 block at c[0:4] and c[n:n+4] from rows a0,
// a1 and b0..b3 of one length: each step six loads and eight FMAs; the
// last step loads part vectors, zero-filled.
func ntTile2x4x8(a0, a1, b0, b1, b2, b3, c []float64, n int, add bool) {
	k := len(a0)
	a1 = a1[:k]
	b0, b1, b2, b3 = b0[:k], b1[:k], b2[:k], b3[:k]
	var s00, s01, s02, s03, s10, s11, s12, s13 archsimd.Float64x8
	p := 0
	for ; p+8 <= k; p += 8 {
		x0 := archsimd.LoadFloat64x8((*[8]float64)(a0[p : p+8]))
		x1 := archsimd.LoadFloat64x8((*[8]float64)(a1[p : p+8]))
		y0 := archsimd.LoadFloat64x8((*[8]float64)(b0[p : p+8]))
		y1 := archsimd.LoadFloat64x8((*[8]float64)(b1[p : p+8]))
		y2 := archsimd.LoadFloat64x8((*[8]float64)(b2[p : p+8]))
		y3 := archsimd.LoadFloat64x8((*[8]float64)(b3[p : p+8]))
		s00, s01, s02, s03 = x0.MulAdd(y0, s00), x0.MulAdd(y1, s01), x0.MulAdd(y2, s02), x0.MulAdd(y3, s03)
		s10, s11, s12, s13 = x1.MulAdd(y0, s10), x1.MulAdd(y1, s11), x1.MulAdd(y2, s12), x1.MulAdd(y3, s13)
	}
	if p < k {
		x0 := archsimd.LoadFloat64x8SlicePart(a0[p:])
		x1 := archsimd.LoadFloat64x8SlicePart(a1[p:])
		y0 := archsimd.LoadFloat64x8SlicePart(b0[p:])
		y1 := archsimd.LoadFloat64x8SlicePart(b1[p:])
		y2 := archsimd.LoadFloat64x8SlicePart(b2[p:])
		y3 := archsimd.LoadFloat64x8SlicePart(b3[p:])
		s00, s01, s02, s03 = x0.MulAdd(y0, s00), x0.MulAdd(y1, s01), x0.MulAdd(y2, s02), x0.MulAdd(y3, s03)
		s10, s11, s12, s13 = x1.MulAdd(y0, s10), x1.MulAdd(y1, s11), x1.MulAdd(y2, s12), x1.MulAdd(y3, s13)
	}
	putSums8(c[0:4], s00, s01, s02, s03, add)
	putSums8(c[n:n+4], s10, s11, s12, s13, add)
}

// putSums8 stores (or adds) into c[0:4] the sums of s0..s3's elements,
// without leaving vector registers (scalar SSE code after AVX-512 code
// pays for the dirty upper halves).
func putSums8(c []float64, s0, s1, s2, s3 archsimd.Float64x8, add bool) {
	putSums4(c, s0.GetLo().Add(s0.GetHi()), s1.GetLo().Add(s1.GetHi()), s2.GetLo().Add(s2.GetHi()), s3.GetLo().Add(s3.GetHi()), add)
}

// putSums4 stores (or adds) into c[0:4] the sums of s0..s3's elements.
func putSums4(c []float64, s0, s1, s2, s3 archsimd.Float64x4, add bool) {
	u, v := s0.AddPairsGrouped(s1), s2.AddPairsGrouped(s3)
	r := u.Select128FromPair(0, 2, v).Add(u.Select128FromPair(1, 3, v))
	cp := (*[4]float64)(c[0:4])
	if add {
		r = r.Add(archsimd.LoadFloat64x4(cp))
	}
	r.Store(cp)
}

// The Float64x4 kernels from here on are the Float64x8 ones above with
// every width halved (for CPUs with AVX2 but not AVX-512; tested here by
// calling them directly).

// gemmNN4 is GemmNN with Float64x4 FMAs.
func gemmNN4(m, n, k int, a, b, c []float64, add bool) {
	a, b, c = a[:m*k], b[:k*n], c[:m*n]
	nv := n &^ 3
	kc := kBlock(k, kcNN)
	for p0 := 0; p0 < k; p0 += kc {
		p1 := min(p0+kc, k)
		acc := add || p0 > 0
		i := 0
		for ; i+4 <= m; i += 4 {
			a0, a1 := a[i*k+p0:i*k+p1], a[(i+1)*k+p0:(i+1)*k+p1]
			a2, a3 := a[(i+2)*k+p0:(i+2)*k+p1], a[(i+3)*k+p0:(i+3)*k+p1]
			j := 0
			for ; j+8 <= nv; j += 8 {
				nnTile4x8x4(a0, a1, a2, a3, b[p0*n+j:], n, c[i*n+j:], n, acc)
			}
			if j < nv {
				for r := range 4 {
					tile1x4x4(a, (i+r)*k+p0, 1, p1-p0, b[p0*n+j:], n, c[(i+r)*n+j:], acc)
				}
			}
		}
		for ; i < m; i++ {
			for j := 0; j < nv; j += 4 {
				tile1x4x4(a, i*k+p0, 1, p1-p0, b[p0*n+j:], n, c[i*n+j:], acc)
			}
		}
	}
	archsimd.ClearAVXUpperBits()
	if nv < n {
		axpyGo(m, n, k, a, k, 1, b, c, add, nv)
	}
}

// gemmTN4 is GemmTN with Float64x4 FMAs.
func gemmTN4(m, n, k int, a, b, c []float64, add bool) {
	a, b, c = a[:k*m], b[:k*n], c[:m*n]
	nv := n &^ 3
	kc := kBlock(k, kcNN)
	for p0 := 0; p0 < k; p0 += kc {
		p1 := min(p0+kc, k)
		acc := add || p0 > 0
		i := 0
		for ; i+4 <= m; i += 4 {
			j := 0
			for ; j+8 <= nv; j += 8 {
				tnTile4x8x4(a[p0*m+i:], m, p1-p0, b[p0*n+j:], n, c[i*n+j:], acc)
			}
			if j < nv {
				for r := range 4 {
					tile1x4x4(a, p0*m+i+r, m, p1-p0, b[p0*n+j:], n, c[(i+r)*n+j:], acc)
				}
			}
		}
		for ; i < m; i++ {
			for j := 0; j < nv; j += 4 {
				tile1x4x4(a, p0*m+i, m, p1-p0, b[p0*n+j:], n, c[i*n+j:], acc)
			}
		}
	}
	archsimd.ClearAVXUpperBits()
	if nv < n {
		axpyGo(m, n, k, a, 1, m, b, c, add, nv)
	}
}

// nnTile4x8x4 computes c's 4×8 block at c[0:8], c[n:n+8], ... as the
// rows a0..a3 times the len(a0) rows of b's 8 columns at b[0:8],
// b[ldb:ldb+8], ...: eight accumulators, each step two loads of b, four
// broadcasts and eight FMAs.
func nnTile4x8x4(a0, a1, a2, a3, b []float64, ldb int, c []float64, n int, add bool) {
	a1, a2, a3 = a1[:len(a0)], a2[:len(a0)], a3[:len(a0)]
	var s00, s01, s10, s11, s20, s21, s30, s31 archsimd.Float64x4
	o := 0
	for p, x := range a0 {
		bp := b[o : o+8 : o+8]
		y0 := archsimd.LoadFloat64x4((*[4]float64)(bp[0:4]))
		y1 := archsimd.LoadFloat64x4((*[4]float64)(bp[4:8]))
		v := archsimd.BroadcastFloat64x4(x)
		s00, s01 = v.MulAdd(y0, s00), v.MulAdd(y1, s01)
		v = archsimd.BroadcastFloat64x4(a1[p])
		s10, s11 = v.MulAdd(y0, s10), v.MulAdd(y1, s11)
		v = archsimd.BroadcastFloat64x4(a2[p])
		s20, s21 = v.MulAdd(y0, s20), v.MulAdd(y1, s21)
		v = archsimd.BroadcastFloat64x4(a3[p])
		s30, s31 = v.MulAdd(y0, s30), v.MulAdd(y1, s31)
		o += ldb
	}
	put2x4(c[0:8], s00, s01, add)
	put2x4(c[n:n+8], s10, s11, add)
	put2x4(c[2*n:2*n+8], s20, s21, add)
	put2x4(c[3*n:3*n+8], s30, s31, add)
}

// tnTile4x8x4 is nnTile4x8x4 for a[k,m]ᵀ: the four values of step p are
// a[p*m:p*m+4].
func tnTile4x8x4(a []float64, m, k int, b []float64, n int, c []float64, add bool) {
	var s00, s01, s10, s11, s20, s21, s30, s31 archsimd.Float64x4
	oa, ob := 0, 0
	for range k {
		ap := a[oa : oa+4 : oa+4]
		bp := b[ob : ob+8 : ob+8]
		y0 := archsimd.LoadFloat64x4((*[4]float64)(bp[0:4]))
		y1 := archsimd.LoadFloat64x4((*[4]float64)(bp[4:8]))
		v := archsimd.BroadcastFloat64x4(ap[0])
		s00, s01 = v.MulAdd(y0, s00), v.MulAdd(y1, s01)
		v = archsimd.BroadcastFloat64x4(ap[1])
		s10, s11 = v.MulAdd(y0, s10), v.MulAdd(y1, s11)
		v = archsimd.BroadcastFloat64x4(ap[2])
		s20, s21 = v.MulAdd(y0, s20), v.MulAdd(y1, s21)
		v = archsimd.BroadcastFloat64x4(ap[3])
		s30, s31 = v.MulAdd(y0, s30), v.MulAdd(y1, s31)
		oa += m
		ob += n
	}
	put2x4(c[0:8], s00, s01, add)
	put2x4(c[n:n+8], s10, s11, add)
	put2x4(c[2*n:2*n+8], s20, s21, add)
	put2x4(c[3*n:3*n+8], s30, s31, add)
}

// tile1x4x4 computes c[0:4] from k steps: a[o+p*acs] times b[p*n:p*n+4].
// It does the edges, one vector row at a time.
func tile1x4x4(a []float64, o, acs, k int, b []float64, n int, c []float64, add bool) {
	var s archsimd.Float64x4
	ob := 0
	for range k {
		s = archsimd.BroadcastFloat64x4(a[o]).MulAdd(archsimd.LoadFloat64x4((*[4]float64)(b[ob:ob+4])), s)
		o += acs
		ob += n
	}
	if add {
		s = s.Add(archsimd.LoadFloat64x4((*[4]float64)(c[0:4])))
	}
	s.Store((*[4]float64)(c[0:4]))
}

func put2x4(c []float64, s0, s1 archsimd.Float64x4, add bool) {
	c0, c1 := (*[4]float64)(c[0:4]), (*[4]float64)(c[4:8])
	if add {
		s0 = s0.Add(archsimd.LoadFloat64x4(c0))
		s1 = s1.Add(archsimd.LoadFloat64x4(c1))
	}
	s0.Store(c0)
	s1.Store(c1)
}

// gemmNT4 is GemmNT with Float64x4 FMAs along k: dot products of two rows
// of a with four rows of b, summed across the vectors at the end (Go's
// register allocator gives vectors 16 registers, so 2×4 accumulators and
// six loads are what fits; 4×4 spills). The rows and columns left over
// are the portable code's.
func gemmNT4(m, n, k int, a, b, c []float64, add bool) {
	if k <= kMaxPackNT && m >= 32 && n >= 8 {
		m4 := m &^ 3
		packNT4(m4, n, k, a, b, c, add)
		if m4 < m {
			dotNT4(m-m4, n, k, a[m4*k:], b, c[m4*n:], add)
		}
		return
	}
	dotNT4(m, n, k, a, b, c, add)
}

// dotNT4 is gemmNT4's dot products along k.
func dotNT4(m, n, k int, a, b, c []float64, add bool) {
	a, b, c = a[:m*k], b[:n*k], c[:m*n]
	m2, n4 := m&^1, n&^3
	kc := kBlock(k, kcNT)
	for p0 := 0; p0 < k; p0 += kc {
		p1 := min(p0+kc, k)
		acc := add || p0 > 0
		for i := 0; i < m2; i += 2 {
			a0, a1 := a[i*k+p0:i*k+p1], a[(i+1)*k+p0:(i+1)*k+p1]
			for j := 0; j < n4; j += 4 {
				ntTile2x4x4(a0, a1, b[j*k+p0:j*k+p1], b[(j+1)*k+p0:(j+1)*k+p1], b[(j+2)*k+p0:(j+2)*k+p1], b[(j+3)*k+p0:(j+3)*k+p1],
					c[i*n+j:], n, acc)
			}
		}
	}
	archsimd.ClearAVXUpperBits()
	if n4 < n {
		ntGo(m2, n, k, a, b, c, add, n4)
	}
	if m2 < m {
		ntGo(m-m2, n, k, a[m2*k:], b, c[m2*n:], add, 0)
	}
}

// ntTile2x4x4 computes c's 2×4 block at c[0:4] and c[n:n+4] from rows a0,
// a1 and b0..b3 of one length: each step six loads and eight FMAs; the
// last step loads part vectors, zero-filled.
func ntTile2x4x4(a0, a1, b0, b1, b2, b3, c []float64, n int, add bool) {
	k := len(a0)
	a1 = a1[:k]
	b0, b1, b2, b3 = b0[:k], b1[:k], b2[:k], b3[:k]
	var s00, s01, s02, s03, s10, s11, s12, s13 archsimd.Float64x4
	p := 0
	for ; p+4 <= k; p += 4 {
		x0 := archsimd.LoadFloat64x4((*[4]float64)(a0[p : p+4]))
		x1 := archsimd.LoadFloat64x4((*[4]float64)(a1[p : p+4]))
		y0 := archsimd.LoadFloat64x4((*[4]float64)(b0[p : p+4]))
		y1 := archsimd.LoadFloat64x4((*[4]float64)(b1[p : p+4]))
		y2 := archsimd.LoadFloat64x4((*[4]float64)(b2[p : p+4]))
		y3 := archsimd.LoadFloat64x4((*[4]float64)(b3[p : p+4]))
		s00, s01, s02, s03 = x0.MulAdd(y0, s00), x0.MulAdd(y1, s01), x0.MulAdd(y2, s02), x0.MulAdd(y3, s03)
		s10, s11, s12, s13 = x1.MulAdd(y0, s10), x1.MulAdd(y1, s11), x1.MulAdd(y2, s12), x1.MulAdd(y3, s13)
	}
	if p < k {
		x0 := archsimd.LoadFloat64x4SlicePart(a0[p:])
		x1 := archsimd.LoadFloat64x4SlicePart(a1[p:])
		y0 := archsimd.LoadFloat64x4SlicePart(b0[p:])
		y1 := archsimd.LoadFloat64x4SlicePart(b1[p:])
		y2 := archsimd.LoadFloat64x4SlicePart(b2[p:])
		y3 := archsimd.LoadFloat64x4SlicePart(b3[p:])
		s00, s01, s02, s03 = x0.MulAdd(y0, s00), x0.MulAdd(y1, s01), x0.MulAdd(y2, s02), x0.MulAdd(y3, s03)
		s10, s11, s12, s13 = x1.MulAdd(y0, s10), x1.MulAdd(y1, s11), x1.MulAdd(y2, s12), x1.MulAdd(y3, s13)
	}
	putSums4(c[0:4], s00, s01, s02, s03, add)
	putSums4(c[n:n+4], s10, s11, s12, s13, add)
}

// packNT4 is packNT8 with Float64x4 FMAs: panels of 8 rows of b, 4 rows of
// a at a time (nnTile4x8x4), then 4 rows of b one row of a at a time; m is
// a multiple of 4.
func packNT4(m, n, k int, a, b, c []float64, add bool) {
	a, b, c = a[:m*k], b[:n*k], c[:m*n]
	var panel [kMaxPackNT * 8]float64
	j := 0
	for ; j+8 <= n; j += 8 {
		transpose8(b[j*k:(j+8)*k], k, panel[:k*8])
		for i := 0; i < m; i += 4 {
			nnTile4x8x4(a[i*k:i*k+k], a[(i+1)*k:(i+1)*k+k], a[(i+2)*k:(i+2)*k+k], a[(i+3)*k:(i+3)*k+k], panel[:], 8, c[i*n+j:], n, add)
		}
	}
	if j+4 <= n {
		transpose4(b[j*k:(j+4)*k], k, panel[:k*4])
		for i := range m {
			tile1x4x4(a, i*k, 1, k, panel[:], 4, c[i*n+j:], add)
		}
		j += 4
	}
	archsimd.ClearAVXUpperBits()
	if j < n {
		ntGo(m, n, k, a, b, c, add, j)
	}
}

// transpose4 copies the 4 rows of b, k long, into the k×4 panel p.
func transpose4(b []float64, k int, p []float64) {
	b, p = b[:4*k], p[:4*k]
	r0, r1, r2, r3 := b[:k], b[k:2*k], b[2*k:3*k], b[3*k:4*k]
	for q, v := range r0 {
		d := (*[4]float64)(p[q*4 : q*4+4])
		d[0], d[1], d[2], d[3] = v, r1[q], r2[q], r3[q]
	}
}
