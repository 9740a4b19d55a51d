// Command digits trains a classifier of the UCI handwritten digits (1797
// images of 8×8 pixels, digits.csv.gz) on a fixed split: every fourth image
// (rows 0, 4, 8, …) is the test set, 450 images, and the other 1347 train.
// It prints the loss and test accuracy per epoch, the time per epoch, and
// the confusion matrix of the test set.
//
// The model is chosen with -model: mlp (mlp.bp, 64-128-10 with relu) or
// cnn (cnn.bp, 16 filters of 3×3, relu, 2×2 max pooling and a dense layer).
// Each model is a file of its own (mlp.go, cnn.go) that turns the images
// into its generated inputs and implements classifier.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"
)

//go:embed digits.csv.gz
var digitsGz []byte

// image is one digit: 64 pixel counts 0..16, row-major, and its label.
type image struct {
	pixels [64]float64
	label  int
}

// load reads digits.csv.gz: 64 pixels then the label on each line.
func load() ([]image, error) {
	zr, err := gzip.NewReader(bytes.NewReader(digitsGz))
	if err != nil {
		return nil, err
	}
	var out []image
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ",")
		if len(f) != 65 {
			return nil, fmt.Errorf("digits.csv:%d: %d fields, want 65", len(out)+1, len(f))
		}
		var im image
		for i, s := range f {
			v, err := strconv.Atoi(s)
			if err != nil || v < 0 || v > 16 || (i == 64 && v > 9) {
				return nil, fmt.Errorf("digits.csv:%d: field %d: bad value %q", len(out)+1, i+1, s)
			}
			if i < 64 {
				im.pixels[i] = float64(v)
			} else {
				im.label = v
			}
		}
		out = append(out, im)
	}
	return out, sc.Err()
}

// split puts every fourth image into the test set.
func split(all []image) (trainSet, testSet []image) {
	for i, im := range all {
		if i%4 == 0 {
			testSet = append(testSet, im)
		} else {
			trainSet = append(trainSet, im)
		}
	}
	return trainSet, testSet
}

// classifier is a model being trained.
type classifier interface {
	epoch(r *rand.Rand) float64 // one pass over the training set; the mean loss
	classify(im *image) int
	close()
}

type config struct {
	model  string
	seed   uint64
	epochs int
	batch  int
	lr     float64
	nTrain int // use the first nTrain training images (0: all)
}

type result struct {
	accuracy  float64     // on the test set
	confusion [10][10]int // [true digit][predicted digit]
	perEpoch  time.Duration
}

func newClassifier(cfg config, trainSet []image) (classifier, error) {
	switch cfg.model {
	case "mlp":
		return newMLP(cfg, trainSet), nil
	case "cnn":
		return newCNN(cfg, trainSet), nil
	}
	return nil, fmt.Errorf("unknown model %q (mlp or cnn)", cfg.model)
}

func evaluate(c classifier, testSet []image) (conf [10][10]int, acc float64) {
	right := 0
	for i := range testSet {
		got := c.classify(&testSet[i])
		conf[testSet[i].label][got]++
		if got == testSet[i].label {
			right++
		}
	}
	return conf, float64(right) / float64(len(testSet))
}

func run(w io.Writer, cfg config) (result, error) {
	all, err := load()
	if err != nil {
		return result{}, err
	}
	trainSet, testSet := split(all)
	if cfg.nTrain > 0 {
		trainSet = trainSet[:min(cfg.nTrain, len(trainSet))]
	}
	c, err := newClassifier(cfg, trainSet)
	if err != nil {
		return result{}, err
	}
	defer c.close()
	fmt.Fprintf(w, "digits, model %s: %d training images, %d test images\n", cfg.model, len(trainSet), len(testSet))
	r := rand.New(rand.NewPCG(cfg.seed, 2))
	var res result
	var spent time.Duration
	for epoch := 1; epoch <= cfg.epochs; epoch++ {
		start := time.Now()
		loss := c.epoch(r)
		took := time.Since(start)
		spent += took
		res.confusion, res.accuracy = evaluate(c, testSet)
		fmt.Fprintf(w, "epoch %3d  loss %.4f  test accuracy %5.1f%%  %v\n", epoch, loss, 100*res.accuracy, took.Round(10*time.Microsecond))
	}
	res.perEpoch = spent / time.Duration(cfg.epochs)
	fmt.Fprintf(w, "test accuracy %.1f%% (%d of %d); %v per epoch of training\n",
		100*res.accuracy, int(res.accuracy*float64(len(testSet))+0.5), len(testSet), res.perEpoch.Round(10*time.Microsecond))
	printConfusion(w, &res.confusion)
	return res, nil
}

func printConfusion(w io.Writer, conf *[10][10]int) {
	fmt.Fprintln(w, "confusion matrix (rows: true digit, columns: predicted):")
	fmt.Fprint(w, "     ")
	for j := range 10 {
		fmt.Fprintf(w, "%4d", j)
	}
	fmt.Fprintln(w)
	for i := range 10 {
		fmt.Fprintf(w, "%4d ", i)
		for j := range 10 {
			fmt.Fprintf(w, "%4d", conf[i][j])
		}
		fmt.Fprintln(w)
	}
}

func main() {
	var cfg config
	flag.StringVar(&cfg.model, "model", "mlp", "the model: mlp or cnn")
	flag.Uint64Var(&cfg.seed, "seed", 1, "seed of the initial parameters and the shuffles")
	flag.IntVar(&cfg.epochs, "epochs", 30, "passes over the training images")
	flag.IntVar(&cfg.batch, "batch", 32, "images per mini-batch")
	flag.Float64Var(&cfg.lr, "lr", 0.003, "Adam's learning rate")
	flag.IntVar(&cfg.nTrain, "n", 0, "train on the first n training images only (0: all 1347)")
	flag.Parse()
	if _, err := run(os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "digits:", err)
		os.Exit(1)
	}
}
