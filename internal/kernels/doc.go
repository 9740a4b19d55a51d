// Package kernels holds the matrix products of mini-batch code: GemmNT,
// GemmNN and GemmTN, float64, row-major and contiguous. Codegen embeds
// kernels.go (and kernels_simd.go) into generated packages, renaming every
// top-level identifier with the model's prefix, so kernels.go imports
// nothing and has no package-level variables but the three kernels.
package kernels
