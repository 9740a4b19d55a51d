// Package kernels holds the matrix products of mini-batch code, float64,
// row-major and contiguous: GemmNT (c = a·bᵀ, a dense layer's forward pass
// over a tile), GemmNN (c = a·b, its input gradient) and GemmTN (c = aᵀ·b,
// its weight gradient), each setting c or, with add, adding into it.
//
// Codegen is to embed kernels.go (and, for GOEXPERIMENT=simd on amd64,
// kernels_simd.go) into generated packages, renaming every top-level
// identifier with the model's prefix; so kernels.go imports nothing and
// has no package-level variables but the three kernels, which
// kernels_simd.go's init replaces once by the Float64x8 (AVX-512) or
// Float64x4 (AVX2 and FMA) ones.
//
// # Portable kernels
//
// GemmNT is dot products along k, 2 rows of a × 3 of b per pass (dot2x3).
// Go's amd64 backend computes all of a step's products before the sums and
// has 15 free float registers, so larger blocks spill. GFLOP/s at
// 32×128×784, paired rounds, GOAMD64=v1 (the default) / v3 (x*y+z fused):
// 1×4 5.3/–, 2×2 6.5/5.4, 2×3 6.6/7.3, 3×2 6.5/6.8, 2×4 4.8/9.7,
// 4×2 4.5/9.5, 3×3 4.2/6.6, 4×4 3.0/3.8. Callgrind: 11.94 M instructions
// per 32×128×784 product (3.7 per multiply-add).
//
// GemmNN and GemmTN share one kernel that runs along rows of b and c,
// adding 4 scaled rows of b into 2 rows of c per pass (axpy2x4); A's
// scalars are loaded outside the loop, so a's layout is two strides. Their
// k is small (10, the tile size), where accumulators in registers (the
// same blocks as GemmNT, p innermost) pay their setup every few steps: at
// 128×784×32 (TN) the row form did 6.4 GFLOP/s against 4.0 for the best
// register block (2×3), and 8.3 against 2.0 at 32×128×10 (NN).
//
// # archsimd kernels
//
// GemmNN and GemmTN: tiles of 4 rows × 2 vectors (16 columns with
// Float64x8), 8 accumulators, each step 2 loads of b, 4 broadcasts of a
// and 8 FMAs, k in blocks of at most 256; the last n%8 columns are the
// portable code's. GemmNT: dot products along k, tiles of 2 rows of a × 4
// of b (8 accumulators, 6 loads a step; a 4×4 tile spilled, as Go gives
// vectors 16 registers), summed in vector registers, k split into equal
// blocks of at most 512 (784 = 392+392: 256-long blocks left a 16-long
// one; unpaired runs gave 21-27 GFLOP/s with 256, 29-32 with 392), a part vector for k%8,
// and Float64x4 for k ≤ 4; odd rows and n%4 columns are the portable
// code's. Every kernel ends with archsimd.ClearAVXUpperBits (VZEROUPPER)
// before any scalar code: without it the dirty upper halves slow all
// later SSE code (GemmNN at 32×128×10 did 12.9 GFLOP/s without, 32.1 with,
// and the portable kernels run in the same process gained too).
//
// # Measurements
//
// GOEXPERIMENT=simd go test -run Paired -paired 7 -benchtime 200ms -v
// ./internal/kernels/ times the implementations interleaved, round by
// round in one process, and logs median GFLOP/s and the median per-round
// ratio to the portable code. On the shared 2-core machine (Xeon, family 6
// model 207, AVX-512; load average 3.5 during the run, so absolute
// numbers are low and the ratios are the steadier figures):
//
//	product (m×n×k)          go     avx2 (×go)    avx512 (×go)
//	mnist tile 32 fwd+bwd    6.2    13.6 (2.06)   23.0 (3.64)
//	NT 32×128×784            8.0    20.8 (2.63)   24.9 (3.25)
//	NT 32×10×128             7.1    11.5 (1.61)   13.9 (1.98)
//	NN 32×128×10             5.6    16.2 (2.32)   27.8 (4.41)
//	TN 128×784×32            7.6    17.0 (2.24)   34.2 (4.43)
//	TN 10×128×32             7.5    11.6 (1.49)   19.6 (2.53)
//	NT 8×16×16               5.9     9.1 (1.58)   11.0 (1.97)
//	NT 32×16×16              6.1     9.7 (1.59)   11.6 (1.87)
//	NT 32×16×4               3.2     3.8 (1.23)    4.1 (1.22)
//	NN 32×16×16              5.5    17.4 (3.14)   28.5 (4.83)
//	TN 16×16×32              6.0    17.0 (2.78)   32.2 (5.13)
//	TN 16×16×8               5.4    13.4 (2.47)   21.8 (3.87)
//
// "mnist tile 32 fwd+bwd" is both layers' forward products, the second
// layer's input gradient and both weight gradients (13.1 MFLOP).
// Instructions: go test -c -o k.test ./internal/kernels, then
// GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind on a test that
// calls gemmNTGo N times, differenced between two N.
package kernels

import _ "embed" // for Source and SIMDSource

// Source is the text of kernels.go and SIMDSource that of
// kernels_simd.go, which codegen copies into generated packages.
//
//go:embed kernels.go
var Source string

//go:embed kernels_simd.go
var SIMDSource string
