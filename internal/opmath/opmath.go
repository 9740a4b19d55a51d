// Package opmath holds the scalar functions that generated code calls for
// ops that are not one Go expression, each written once: package symbolic
// calls them to evaluate and constant-fold ops, and package codegen embeds
// this file (Source) and emits each function a model uses, renamed with the
// model's prefix (Sigmoid becomes xorSigmoid).
//
// So that codegen can copy them, every function here takes and returns
// float64s, has a one-paragraph doc comment that starts with its name, and
// calls nothing but package math, Go's builtins and none of its siblings.
package opmath

import (
	_ "embed"
	"math"
)

// Source is the text of this file.
//
//go:embed opmath.go
var Source string

// Ge is 1 if a >= b, else 0.
func Ge(a, b float64) float64 {
	if a >= b {
		return 1
	}
	return 0
}

// Gt is 1 if a > b, else 0.
func Gt(a, b float64) float64 {
	if a > b {
		return 1
	}
	return 0
}

// NormCDF is Φ(x), the standard normal distribution function.
func NormCDF(x float64) float64 {
	return 0.5 * math.Erfc(-x/math.Sqrt2)
}

// PowLog is n·log(a), or 0 where a is 0: the derivative of a^b with respect to b, n = a^b.
func PowLog(n, a float64) float64 {
	if a == 0 {
		return 0
	}
	return n * math.Log(a)
}

// Relu is max(x, 0).
func Relu(x float64) float64 {
	return max(x, 0)
}

// Sigmoid is 1/(1+e⁻ˣ), computed without overflow for any x.
func Sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Sign is 1, -1 or 0 by the sign of x: the derivative of abs, 0 at 0.
func Sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// Softplus is log(1+eˣ), computed without overflow for any x.
func Softplus(x float64) float64 {
	return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
}

// Sq is x·x.
func Sq(x float64) float64 {
	return x * x
}

// Step is 1 for x > 0, else 0: the derivative of relu, 0 at 0.
func Step(x float64) float64 {
	if x > 0 {
		return 1
	}
	return 0
}

// Rsqrt is 1/√x.
func Rsqrt(x float64) float64 {
	return 1 / math.Sqrt(x)
}

// Gelu is x·Φ(x), the exact GELU, with Φ the standard normal distribution
// function.
func Gelu(x float64) float64 {
	return 0.5 * x * math.Erfc(-x/math.Sqrt2)
}

// Silu is x·σ(x) = x/(1+e⁻ˣ), without overflow for any x (for very
// negative x, e⁻ˣ is +Inf and the quotient -0).
func Silu(x float64) float64 {
	return x / (1 + math.Exp(-x))
}

// Elu is x for x > 0, else alpha·(eˣ − 1).
func Elu(x, alpha float64) float64 {
	if x > 0 {
		return x
	}
	return alpha * math.Expm1(x)
}

// EluGrad is the derivative of elu with respect to x: 1 for x > 0, else
// alpha·eˣ (alpha at 0).
func EluGrad(x, alpha float64) float64 {
	if x > 0 {
		return 1
	}
	return alpha * math.Exp(x)
}

// Softsign is x/(1+|x|).
func Softsign(x float64) float64 {
	return x / (1 + math.Abs(x))
}

// Huber is the Huber loss of a residual r with threshold delta: r²/2 for
// |r| <= delta, else delta·(|r| − delta/2).
func Huber(r, delta float64) float64 {
	if a := math.Abs(r); a > delta {
		return delta * (a - 0.5*delta)
	}
	return 0.5 * r * r
}
