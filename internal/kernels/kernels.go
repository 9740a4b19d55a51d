package kernels

// The kernels are func variables, not functions that test a flag: the
// portable file cannot name the archsimd functions (they exist only with
// GOEXPERIMENT=simd on amd64), so kernels_simd.go's init replaces these
// once. One indirect call per matrix product costs nothing next to the
// product, and the kernels are too big to inline either way.

// GemmNT sets c[m,n] to a[m,k]·b[n,k]ᵀ, or adds it into c if add is true
// (a dense layer's forward pass over a tile: X[B,k]·Wᵀ). All three are
// row-major and contiguous; without add, c is only written.
var GemmNT = gemmNTGo

// GemmNN sets c[m,n] to a[m,k]·b[k,n], or adds it into c if add is true
// (a dense layer's input gradient over a tile: dY[B,n]·W[n,k]). All three
// are row-major and contiguous; without add, c is only written.
var GemmNN = gemmNNGo

// GemmTN sets c[m,n] to a[k,m]ᵀ·b[k,n], or adds it into c if add is true
// (a dense layer's weight gradient over a tile: dYᵀ·X, k the tile size).
// All three are row-major and contiguous; without add, c is only written.
var GemmTN = gemmTNGo

// ClearUpper is called by a generated model's methods first thing: where
// kernels_simd.go's init put archsimd kernels in place it is
// archsimd.ClearAVXUpperBits (VZEROUPPER), else it does nothing. In a
// program built with GOEXPERIMENT=simd, Go 1.26's runtime restores the
// vector registers at their full width after an asynchronous preemption
// (runtime/preempt_amd64.s) and leaves their upper halves marked in use;
// from then on math.Exp, whose assembly mixes VEX and legacy SSE
// instructions, pays an AVX–SSE transition on each of them and ran 30 to
// 200 times slower on this project's machine (a loop of exps: 491 ns an
// exp against 15 ns; GODEBUG=asyncpreemptoff=1 or a VZEROUPPER before the
// loop restored it), until something clears the state. The kernels clear
// it when they return; a model whose per-sample code calls no kernel
// relies on this call, once per method.
var ClearUpper = func() {}

// SIMD says whether kernels_simd.go's init put archsimd kernels in place of
// the portable ones: a generated model's batch methods choose between their
// tile code and their per-sample code by it.
var SIMD bool

func gemmNTGo(m, n, k int, a, b, c []float64, add bool) {
	ntGo(m, n, k, a, b, c, add, 0)
}

func gemmNNGo(m, n, k int, a, b, c []float64, add bool) {
	axpyGo(m, n, k, a[:m*k], k, 1, b, c, add, 0)
}

func gemmTNGo(m, n, k int, a, b, c []float64, add bool) {
	axpyGo(m, n, k, a[:k*m], 1, m, b, c, add, 0)
}

// ntGo computes columns j0 to n-1 of c = a·bᵀ as dot products along k, two
// rows of a by three of b at a time: six accumulators and five loads per
// step are what Go's amd64 backend keeps in registers (it computes all
// products before the sums, so 2×4 and larger spill).
func ntGo(m, n, k int, a, b, c []float64, add bool, j0 int) {
	a, b, c = a[:m*k], b[:n*k], c[:m*n]
	i := 0
	for ; i+2 <= m; i += 2 {
		a0, a1 := a[i*k:i*k+k], a[i*k+k:i*k+2*k]
		c0, c1 := c[i*n:i*n+n], c[i*n+n:i*n+2*n]
		j := j0
		for ; j+3 <= n; j += 3 {
			s00, s01, s02, s10, s11, s12 := dot2x3(a0, a1, b[j*k:j*k+k], b[j*k+k:j*k+2*k], b[j*k+2*k:j*k+3*k])
			put3(c0[j:j+3], s00, s01, s02, add)
			put3(c1[j:j+3], s10, s11, s12, add)
		}
		for ; j < n; j++ {
			s0, s1 := dot2x1(a0, a1, b[j*k:j*k+k])
			put1(c0, j, s0, add)
			put1(c1, j, s1, add)
		}
	}
	if i < m {
		a0, c0 := a[i*k:i*k+k], c[i*n:i*n+n]
		for j := j0; j < n; j++ {
			put1(c0, j, dot1(a0, b[j*k:j*k+k]), add)
		}
	}
}

// dot2x3 returns the six dot products of a0 and a1 with b0, b1 and b2.
func dot2x3(a0, a1, b0, b1, b2 []float64) (s00, s01, s02, s10, s11, s12 float64) {
	a1, b0, b1, b2 = a1[:len(a0)], b0[:len(a0)], b1[:len(a0)], b2[:len(a0)]
	for p, x0 := range a0 {
		x1, y0, y1, y2 := a1[p], b0[p], b1[p], b2[p]
		s00 += x0 * y0
		s01 += x0 * y1
		s02 += x0 * y2
		s10 += x1 * y0
		s11 += x1 * y1
		s12 += x1 * y2
	}
	return
}

// dot1 returns the dot product of a0 and b0.
func dot1(a0, b0 []float64) (s float64) {
	b0 = b0[:len(a0)]
	for p, x := range a0 {
		s += x * b0[p]
	}
	return
}

// dot2x1 returns the dot products of a0 and a1 with b0.
func dot2x1(a0, a1, b0 []float64) (s0, s1 float64) {
	a1, b0 = a1[:len(a0)], b0[:len(a0)]
	for p, x0 := range a0 {
		y := b0[p]
		s0 += x0 * y
		s1 += a1[p] * y
	}
	return
}

func put3(c []float64, s0, s1, s2 float64, add bool) {
	c = c[:3]
	if add {
		s0, s1, s2 = s0+c[0], s1+c[1], s2+c[2]
	}
	c[0], c[1], c[2] = s0, s1, s2
}

func put1(c []float64, j int, s float64, add bool) {
	if add {
		s += c[j]
	}
	c[j] = s
}

// axpyGo computes columns j0 to n-1 of c = A·b, where A's element (i, p)
// is a[i*ars+p*acs]: ars, acs = k, 1 for a[m,k] and 1, m for a[k,m]ᵀ. It
// runs along rows of b and c, adding four rows of b, scaled, into two rows
// of c per pass (2 rows × 4 products of k): the scalars of A are loaded
// outside the loop, so one kernel serves both layouts, and a long
// contiguous inner loop suits the small k of these products (k = 10 or
// the tile size) better than accumulators in registers, which must be
// set up and stored every k steps.
func axpyGo(m, n, k int, a []float64, ars, acs int, b, c []float64, add bool, j0 int) {
	b, c = b[:k*n], c[:m*n]
	if k == 0 {
		if !add {
			for i := range m {
				clear(c[i*n+j0 : i*n+n])
			}
		}
		return
	}
	i := 0
	for ; i+2 <= m; i += 2 {
		c0, c1 := c[i*n+j0:i*n+n], c[i*n+n+j0:i*n+2*n]
		set := !add
		p := 0
		for ; p+4 <= k; p += 4 {
			o0, o1 := i*ars+p*acs, (i+1)*ars+p*acs
			axpy2x4(c0, c1, b[p*n+j0:p*n+n], b[(p+1)*n+j0:(p+1)*n+n], b[(p+2)*n+j0:(p+2)*n+n], b[(p+3)*n+j0:(p+3)*n+n],
				a[o0], a[o0+acs], a[o0+2*acs], a[o0+3*acs], a[o1], a[o1+acs], a[o1+2*acs], a[o1+3*acs], set)
			set = false
		}
		for ; p < k; p++ {
			axpy2x1(c0, c1, b[p*n+j0:p*n+n], a[i*ars+p*acs], a[(i+1)*ars+p*acs], set)
			set = false
		}
	}
	if i < m {
		c0 := c[i*n+j0 : i*n+n]
		for p := range k {
			axpy1x1(c0, b[p*n+j0:p*n+n], a[i*ars+p*acs], !add && p == 0)
		}
	}
}

// axpy2x4 adds (or with set, stores) x0j·bj into c0 and x1j·bj into c1.
func axpy2x4(c0, c1, b0, b1, b2, b3 []float64, x00, x01, x02, x03, x10, x11, x12, x13 float64, set bool) {
	c1, b1, b2, b3 = c1[:len(c0)], b1[:len(c0)], b2[:len(c0)], b3[:len(c0)]
	b0 = b0[:len(c0)]
	if set {
		for j, y0 := range b0 {
			y1, y2, y3 := b1[j], b2[j], b3[j]
			c0[j] = x00*y0 + x01*y1 + x02*y2 + x03*y3
			c1[j] = x10*y0 + x11*y1 + x12*y2 + x13*y3
		}
		return
	}
	for j, y0 := range b0 {
		y1, y2, y3 := b1[j], b2[j], b3[j]
		c0[j] += x00*y0 + x01*y1 + x02*y2 + x03*y3
		c1[j] += x10*y0 + x11*y1 + x12*y2 + x13*y3
	}
}

// axpy2x1 adds (or with set, stores) x0·b0 into c0 and x1·b0 into c1.
func axpy2x1(c0, c1, b0 []float64, x0, x1 float64, set bool) {
	c1, b0 = c1[:len(c0)], b0[:len(c0)]
	if set {
		for j, y := range b0 {
			c0[j] = x0 * y
			c1[j] = x1 * y
		}
		return
	}
	for j, y := range b0 {
		c0[j] += x0 * y
		c1[j] += x1 * y
	}
}

// axpy1x1 adds (or with set, stores) x·b0 into c0.
func axpy1x1(c0, b0 []float64, x float64, set bool) {
	b0 = b0[:len(c0)]
	if set {
		for j, y := range b0 {
			c0[j] = x * y
		}
		return
	}
	for j, y := range b0 {
		c0[j] += x * y
	}
}
