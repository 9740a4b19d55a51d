//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

func init() {
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		impls = append(impls, impl{"avx2", gemmNT4, gemmNN4, gemmTN4})
	}
	if archsimd.X86.AVX512() {
		impls = append(impls, impl{"avx512", gemmNT8, gemmNN8, gemmTN8})
	}
}
