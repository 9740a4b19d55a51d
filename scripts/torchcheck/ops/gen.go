// Package ops holds one tiny model per op or layer that
// scripts/torch_check_layers.py checks against PyTorch (float64); its test
// compares their values and gradients with the ones torch computed
// (testdata/torch.json), without Python.
package ops

//go:generate go run ../../../cmd/backpropgen -o amax_axis_grad.go amax_axis.bp
//go:generate go run ../../../cmd/backpropgen -o attn_grad.go attn.bp
//go:generate go run ../../../cmd/backpropgen -o avgpool_grad.go avgpool.bp
//go:generate go run ../../../cmd/backpropgen -o bcast_grad.go bcast.bp
//go:generate go run ../../../cmd/backpropgen -o conv1_grad.go conv1.bp
//go:generate go run ../../../cmd/backpropgen -o conv2_grad.go conv2.bp
//go:generate go run ../../../cmd/backpropgen -o gather_grad.go gather.bp
//go:generate go run ../../../cmd/backpropgen -o lnorm_grad.go lnorm.bp
//go:generate go run ../../../cmd/backpropgen -o log_softmax_grad.go log_softmax.bp
//go:generate go run ../../../cmd/backpropgen -o logsumexp_axis_grad.go logsumexp_axis.bp
//go:generate go run ../../../cmd/backpropgen -o maxpool_grad.go maxpool.bp
//go:generate go run ../../../cmd/backpropgen -o mean_axis_grad.go mean_axis.bp
//go:generate go run ../../../cmd/backpropgen -o offsets_grad.go offsets.bp
//go:generate go run ../../../cmd/backpropgen -o softmax_grad.go softmax.bp
//go:generate go run ../../../cmd/backpropgen -o sum_axis_grad.go sum_axis.bp
//go:generate go run ../../../cmd/backpropgen -o xent_grad.go xent.bp
