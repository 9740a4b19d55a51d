// Package kernels holds the matrix products of mini-batch code, float64,
// row-major and contiguous: GemmNT (c = a·bᵀ), GemmNN (c = a·b) and
// GemmTN (c = aᵀ·b), each setting c or, with add, adding into it. The
// generated code keeps a tile's B samples last (each value is
// [features, B]), so a dense layer's forward pass over a tile is GemmNN
// (W·X), its input gradient GemmTN (Wᵀ·δ) and its weight gradient GemmNT
// (δ·Xᵀ, k = B, added straight into g): mnist 784-128-10 over a tile of 32
// calls NN 128×32×784 and 10×32×128, TN 128×32×10, NT 128×784×32 and
// 10×128×32 (m×n×k); the recurrent models (hidden 16, input 4) NN 16×32×16
// and 16×32×4, TN 16×32×16, NT 16×16×32 and 16×4×32 per time step.
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
// Without FMA (GOAMD64 below v3) every multiply-add is a MULSD and an
// ADDSD, and this core issues float operations on three ports, so no
// scalar block does better than 1.5 multiply-adds a cycle (about 9 GFLOP/s
// here); all three portable kernels run at 6-8. A 2×3 register block for
// GemmNN with long k over a panel of b copied to the stack (b's columns in
// order, no bounds checks) took 13.21 M instructions per 128×32×784
// product against the row kernel's 14.81 M (callgrind), but was 3% slower
// at 128×32×784 and 14% at 10×32×128 (paired, 11 rounds), so GemmNN keeps
// the row kernel for every k.
//
// math.FMA does not help at GOAMD64=v1 (Go 1.26). The compiler
// intrinsifies it as a test of runtime.x86HasFMA (loaded once, the flags
// reused), a VFMADD231SD and, on the other branch, a call of the software
// math.FMA laid out inline after the fast path, which jumps over it: one
// taken jump per FMA. Worse, the call clobbers every register, and Go
// places the spills of the values live across it on the fast path: a
// block of accumulators (dot products, register blocks) stores every
// accumulator and every loaded operand to the stack each step. Paired,
// against the code here (load 4-6): GemmNT's dot blocks 2×3, 2×4, 3×3
// and 4×2 with math.FMA did 0.32-0.82× at 32×128×784 and 0.31-0.67× at
// 128×784×32 (over three runs); GemmNN register blocks (4×2, 2×4, 3×3,
// 6×2, over b in place) 0.45-0.75× at 128×32×784; the row kernel rewritten as FMA chains
// (c0[j] = FMA(x03, b3[j], ... FMA(x00, b0[j], c0[j])), so that only the
// index is live across the calls) 0.26-0.69× on GemmNN and GemmTN; the
// mnist tile 0.48-0.75×. At GOAMD64=v3 there is no branch and no call
// (bare VFMADD231SD), but there the compiler already fuses x*y+z (the v3
// figures above), so math.FMA adds nothing. Without FMA in the CPU the
// fallback is software: math.FMA through a func value (f := math.FMA
// compiles to an indirect call of the software version, not the
// intrinsic) took 23-36 ns a call here against 1.0-1.7 for the intrinsic,
// and a 2×3 dot block with it ran at 0.05 GFLOP/s, 1% of the portable
// code. So the portable kernels keep x*y+z (MULSD and ADDSD at v1, fused
// by the compiler at v3), the same on every CPU and needing no feature check
// or second path; kernels.go still imports nothing (codegen drops
// kernels.go's imports when it copies the declarations, so an import would
// also need codegen to add it to the generated file).
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
// portable code's. GemmNT with short k (k ≤ kMaxPackNT = 64, the weight
// gradients over a tile) and m ≥ 8 (AVX-512) or m ≥ 32 (AVX2): 16 rows of
// b (8 with AVX2) are copied, transposed, into a k×16 panel on the stack
// (8 KiB; 8×8 blocks through registers with two-vector permutations,
// ConcatPermute; AVX2's transpose is scalar), which GemmNN's 4×16 tile
// multiplies by 4 rows of a at a time; the last m%4 rows take the dot
// products below, 8 more columns one row at a time, the last n%8 the
// portable code. The dot products summed across vectors cost as much as a
// product of k = 32 (128×784×32 went from 16 to 26 GFLOP/s). Go's
// archsimd FMA is only the 213 form (the result replaces a factor) and a
// broadcast only from a register, so the tile's loop spends 4 register
// copies, 8 moves back into the accumulators and 4 port-5 broadcasts per 8
// FMAs: about half of the FMA ports' rate. The step is also some 42
// instructions for 8 FMAs (a LEA per load: the archsimd loads take no
// indexed address), so the front end bounds it as much as port 5 does
// (4 broadcasts and half the FMAs). Tried and dropped (paired against
// the tile, mnist products, load 3.5-6): k unrolled by 2 (the 8 moves
// back stay, the allocator does not alternate registers between the
// halves; 0.98 at 128×32×784, mnist 1.00); 4×24 and 4×32 tiles (the
// allocator gives vectors X0-X14 only, although AVX-512 instructions
// could take X16-X31: 11 and 42 spill instructions, 0.57 and 0.48 at
// 128×32×784); 2×32 (no spills, 2 broadcasts per 8 FMAs but 6 copies:
// 0.93-0.97, mnist 0.98-1.01); b's vectors loaded once per FMA from four
// copies of the slice (so not merged) and overwritten by it instead of
// copies of the broadcasts (integer spills: 0.64). A control, the same
// tile called through a func value from a copy of gemmNN8, ran 10×32×128
// 1.13× faster (and so did the variants above on that product), which
// looks like code placement, not the tile. Otherwise GemmNT: dot products
// along k, tiles of 2 rows of a × 4 of b (8 accumulators, 6 loads a step; a 4×4 tile spilled, as Go gives
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
// GOEXPERIMENT=simd go test ./internal/kernels/ -run Paired -paired 7
// -benchtime 100ms -v times the implementations interleaved, round by
// round in one process (who goes first rotates), and logs median GFLOP/s,
// the median per-round ratio to the portable code and the load average
// before and after (-paired.only and -paired.impl pick products and
// implementations by regexp; benchExtra takes more implementations, such
// as a renamed copy of the previous kernels kept out of the tree, which is
// how the "before" columns below were measured in the same process).
// On the shared 2-core machine (Xeon, family 6 model 207, AVX-512; load
// average 1.7 at the start of the run and 4.3 at its end, others building,
// so absolute numbers are low and the ratios to go are the steadier
// figures), GFLOP/s with the ratio to the portable code of the same round:
//
//	product (m×n×k)         go    avx2 (×go)    avx512 (×go)   before: avx2, avx512
//	mnist tile 32 fwd+bwd   6.4   19.3 (3.03)   35.9 (5.49)    16.5 (2.51), 25.0 (3.68)
//	rnn/lstm step           6.8   15.0 (2.18)   26.8 (3.79)    14.2 (2.08), 20.6 (3.14)
//	NN 128×32×784           7.0   22.7 (3.34)   42.4 (6.17)    23.4 (3.35), 43.0 (6.17)
//	NN 10×32×128            7.1   12.9 (1.83)   22.9 (3.34)    12.9 (1.83), 24.4 (3.53)
//	TN 128×32×10            6.2   15.3 (2.33)   25.4 (4.13)    15.7 (2.50), 28.4 (4.31)
//	NT 128×784×32 add       6.0   14.1 (2.48)   25.6 (5.32)    11.8 (2.00), 16.1 (2.66)
//	NT 10×128×32 add *      6.3    7.6 (1.16)   14.9 (2.22)    12.7 (2.15), 18.9 (2.91)
//	NT 16×16×32 add         5.5   12.5 (1.91)   22.7 (4.10)    13.0 (2.00), 16.5 (2.77)
//	NT 16×16×8 add          4.1    6.3 (1.47)   14.4 (3.45)     6.1 (1.50),  5.3 (1.35)
//	NT 32×128×784 (old)     7.7   19.8 (2.64)   25.5 (3.20)    21.0 (2.70), 22.6 (3.09)
//	NT 32×16×16 (old)       5.1   12.0 (2.01)   22.6 (3.89)     8.1 (1.69), 10.9 (1.97)
//	NN 32×128×10 (old)      7.1   17.2 (2.44)   29.5 (4.50)    15.3 (2.10), 27.0 (3.92)
//	TN 128×784×32 (old)     7.3   16.8 (2.36)   30.8 (4.38)    17.1 (2.33), 31.0 (4.15)
//
// The portable code is unchanged (its before and after agree within the
// noise, 0.95-1.06). * the row of 10×128×32 is from before packing was
// restricted to m ≥ 8 (AVX-512) and m ≥ 32 (AVX2) with the last m%4 rows
// on the dot products; after it, a paired run (load 4) gave avx2 13.75
// and avx512 19.87 against 13.85 and 18.78 before. GemmNN and GemmTN are
// unchanged; their rows show the noise (±10% on the small ones). With
// that restriction AVX2's NT rows of m < 32 (16×16×32, 16×16×8) are the
// dot products again, as before.
//
// With math.FMA tried and the kernels left as they are, a rerun (-paired
// 7, load average 4.1 at the start, 5.2 at the end) gave go, avx2 (×go),
// avx512 (×go): mnist tile 5.9, 19.4 (3.25), 34.7 (5.64); rnn/lstm step
// 6.7, 13.3 (2.09), 26.7 (4.01); NN 128×32×784 6.8, 22.8 (3.32), 41.5
// (6.05); NT 128×784×32 add 4.9, 12.3 (2.55), 24.6 (4.37) (35.9-36.5 in
// the quieter runs of the tile variants); a renamed copy of the portable
// code ran at 0.98-1.07× of it (1.12 on one small product).
//
// "mnist tile 32 fwd+bwd" is the five mnist products above, sample-last
// (13.1 MFLOP); "rnn/lstm step" the five of a recurrent step.
// Instructions: GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind on a
// program that calls gemmNNGo N times (kernels.go copied into package
// main), differenced between N = 30 and 10: 14.81 M per 128×32×784
// product (4.6 per multiply-add) for the row kernel, 13.21 M (4.1) for
// the 2×3 panel tried and dropped.
package kernels

import _ "embed" // for Source and SIMDSource

// Source is the text of kernels.go and SIMDSource that of
// kernels_simd.go, which codegen copies into generated packages.
//
//go:embed kernels.go
var Source string

//go:embed kernels_simd.go
var SIMDSource string
