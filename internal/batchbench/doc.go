// Package batchbench measures the batch methods of every shipped model
// (generated/*) against the per-sample loop a caller writes without them:
// LossGradBatch on a batch against LossGrad on each sample into one
// gradient, in the alternating rounds of internal/baseline, and as
// benchmarks for callgrind. Its tests are the evidence behind the batch
// methods' choice between the tile code and the per-sample code
// (docs/DESIGN.md, "Batches"); it has no code outside its tests.
package batchbench
