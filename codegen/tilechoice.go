package codegen

import (
	"bytes"
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// The batch methods compute each whole tile of samples with the tile code
// (lossGradTile, forwardTile) or every sample with LossGrad and Forward,
// whichever is the faster for the model and the kernels the CPU got. The
// generator decides from the shapes, for the portable kernels and for the
// archsimd ones, and writes the decision as a package variable, PREFIXTiled,
// that the batch methods test: a person stepping through LossGradBatch sees
// the variable, and its doc comment says why it has its value. Where the
// two decisions differ, the companion file of the archsimd kernels (SIMD)
// sets the variable at init, after its kernels' init has said whether it
// put them in place (kernels.SIMD). The tests set the variable both ways,
// so that both codes stay checked whatever the decision.
//
// The rule, from measurements of the shipped models (docs/DESIGN.md, "Tile
// code or per-sample code", has the figures):
//   - The portable kernels run matrix products at about the speed of the
//     per-sample code's blocked ones (matvec4, vecmat4: four rows per
//     pass), so in the portable build the tile code wins only where the
//     per-sample code computes its matrix-vector products unblocked: where
//     their matrix is not a parameter or input (a slice W[l] of stacked
//     layers, a computed matrix) or too small to block. It is chosen there,
//     when those products are more than half the per-sample code's
//     matrix-vector multiply-adds, unless the tile's kernel products are
//     fewer than minKernel multiply-adds per sample: a kernel call's set-up
//     and edge handling are then more than it saves (policy's 32×4 layer).
//   - The archsimd kernels run them 3 to 6 times faster than the per-sample
//     code, so with them the tile code is chosen as well where the kernel
//     products are at least half the tile's matrix-product multiply-adds,
//     unless kernels already compute more than five sixths of the
//     per-sample code's products (matrix products and convolutions of a
//     sample big enough for a kernel of their own): the tile then only
//     widens kernel calls the per-sample code makes anyway, and pays for
//     its loops over the tile (the attention example: 89% per sample, the
//     tile code 1.11–1.23 of the loop's time; layers.bp 77% and the
//     digits CNN 78%, 0.89 and about 1.0).
//   - Otherwise the per-sample code is chosen: a tile of loops over the
//     samples (elementwise work, small products, indexing) is no faster
//     than the same work done sample by sample, and often slower.

// minKernel is the fewest multiply-adds per sample of a tile's kernel
// products, if it has any, for which the tile code is chosen in the
// portable build.
const minKernel = 1024

// tileChoice is the decision between the tile code and the per-sample
// code, and the counts it was made from.
type tileChoice struct {
	portable, simd bool // the tile code with the portable kernels, with the archsimd ones
	// Per sample: the per-sample code's matrix-vector multiply-adds that
	// it computes unblocked, and all of them; and the tile's matrix-product
	// multiply-adds that kernels compute, and all of them.
	unblocked, matvec int
	kernel, products  int
	// Per sample, the per-sample code's products (matrix-vector,
	// matrix-matrix and convolutions' sums) that kernels compute, and all
	// of them.
	sampleKernel, sampleProducts int
}

// chooseTiles decides, for the model of mg and the generator of its tile
// functions bg.
func (mg *modelGen) chooseTiles(bg *modelGen) tileChoice {
	var c tileChoice
	for _, n := range mg.grad.Graph.Nodes {
		if g, ok := contractionOf(n); ok {
			macs := g.m * g.n * g.k * steps(n.Scope)
			c.sampleProducts += macs
			if g.kernelSized() {
				c.sampleKernel += macs
			}
			continue
		}
		if n.Op.Kind != symbolic.MatMul {
			continue
		}
		macs := n.Shape.Size() * innerLen(n) * steps(n.Scope)
		c.sampleProducts += macs
		if bigProduct(n) {
			c.sampleKernel += macs
		}
		if len(n.Args[0].Shape)+len(n.Args[1].Shape) != 3 {
			continue
		}
		c.matvec += macs
		if !blocked(n) && !blockedVecMat(n) {
			c.unblocked += macs
		}
	}
	for _, n := range bg.m.Graph.Nodes {
		if n.Op.Kind != symbolic.MatMul {
			continue
		}
		macs := n.Shape.Size() * innerLen(n) * steps(n.Scope)
		c.products += macs
		if bigProduct(n) {
			c.kernel += macs
		}
	}
	tile := bg.tile.Tile
	c.kernel, c.products = c.kernel/tile, c.products/tile
	c.portable = 2*c.unblocked > c.matvec && (c.kernel == 0 || c.kernel >= minKernel)
	c.simd = c.portable || c.products > 0 && 2*c.kernel >= c.products && 6*c.sampleKernel <= 5*c.sampleProducts
	return c
}

// innerLen is the length of the sum of each element of the product n.
func innerLen(n *symbolic.Node) int {
	a := n.Args[0].Shape
	return a[len(a)-1]
}

// steps is the number of times a node in scope s is computed.
func steps(s *symbolic.Loop) int {
	k := 1
	for ; s != nil; s = s.Parent {
		k *= s.Len()
	}
	return k
}

// tiledVar is the name of the package variable that holds the decision.
func tiledVar(prefix string) string { return prefix + "Tiled" }

// TiledVar is the name of the package variable by which the batch methods
// of prog's model choose between their tile code and their per-sample code
// (true: the tile code), declared where the model has tile code. Tests in
// the package set it both ways, to check both codes.
func TiledVar(prog *symbolic.Program) string { return tiledVar(helperPrefix(prog)) }

// setBySIMD is the comment on the variable's declaration where the
// archsimd kernels' file sets it at init (SIMD looks for it).
const setBySIMD = "// the archsimd kernels' file sets it at init"

// tiledDecl emits the variable and its doc comment.
func (mg *modelGen) tiledDecl(c tileChoice) {
	name := tiledVar(mg.fg.prefix)
	perSample := "the per-sample code computes no matrix-vector products"
	if c.matvec > 0 {
		perSample = fmt.Sprintf("the per-sample code computes %s of its matrix-vector multiply-adds unblocked (%d of %d per sample)", percent(c.unblocked, c.matvec), c.unblocked, c.matvec)
	}
	tile := "the tile no matrix products."
	if c.products > 0 {
		tile = fmt.Sprintf("kernels compute %s of the tile's matrix-product multiply-adds (%d of %d per sample).", percent(c.kernel, c.products), c.kernel, c.products)
	}
	if c.sampleKernel > 0 {
		perSample += fmt.Sprintf(", kernels %s of all its products' (%d of %d)", percent(c.sampleKernel, c.sampleProducts), c.sampleKernel, c.sampleProducts)
	}
	counts := perSample + ", and " + tile
	var why string
	switch {
	case c.portable:
		why = "The tile code is the faster here with any kernels: " + counts
	case c.simd:
		why = "The tile code is the faster here only with the archsimd kernels, which the companion file built with GOEXPERIMENT=simd puts in place on a CPU with AVX2 and FMA or AVX-512, and its init then sets " + name + ": " + counts
	default:
		why = "The per-sample code is the faster here with any kernels: " + counts
	}
	mg.doc(fmt.Sprintf("%s says whether the batch methods compute each whole tile of samples with the tile code (lossGradTile, forwardTile: matrix products over the tile) rather than every sample with LossGrad and Forward. The generator decides from the model's shapes (docs/DESIGN.md, \"Tile code or per-sample code\", has the rule). %s The tests set it both ways, to check both codes.", name, why))
	decl := jen.Var().Id(name).Op("=").Lit(c.portable)
	if c.simd && !c.portable {
		decl.Comment(setBySIMD[3:])
	}
	mg.fg.f.Add(decl)
	mg.fg.f.Line()
}

// percent is a of b as a whole percentage, "0%" when b is 0.
func percent(a, b int) string {
	if b == 0 {
		return "0%"
	}
	return fmt.Sprintf("%d%%", (100*a+b/2)/b)
}

// simdTiledInit is the init the archsimd kernels' file ends with where the
// main file's variable waits for it (its declaration carries setBySIMD),
// "" elsewhere.
func simdTiledInit(main []byte, prefix string) string {
	if !bytes.Contains(main, []byte("\nvar "+tiledVar(prefix)+" = false "+setBySIMD+"\n")) {
		return ""
	}
	return fmt.Sprintf(`
// init makes the batch methods compute whole tiles with the tile code where
// the init above put the archsimd kernels in place: with them the tile code
// is the faster for this model (see %[1]s).
func init() {
	if %[2]s {
		%[1]s = true
	}
}
`, tiledVar(prefix), prefix+"SIMD")
}
