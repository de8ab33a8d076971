package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bwelab/bwe/netstate"
	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/traces"
)

// trainCommand is the command line that produced the published models.
const trainCommand = "go run ./cmd/bwe train"

// cmdTrain generates labelled windows in the emulator and trains and
// judges the network-state predictors.
func cmdTrain(args []string, stdout, stderr io.Writer) int {
	c := newCommand("train", "", `Trains the network-state predictors (package netstate) and judges them
on scenarios they never saw.

Data: every scenario of the catalogue (every family but the corpus, which
repeats them) and every real capacity trace (those under -traces, else the
embedded ones), with every seed of -seeds, runs closed loop with the
default estimator; each media flow's sender turns the feedback it
receives into one step of 7 features per second (netstate.Extractor).
Windows of 15 steps are labelled lossy when the loss over the next
-horizon steps exceeds -loss-rate. Windows are split into training,
validation and test sets by scenario, never by window: every seed and
flow of a scenario, and every window of them, fall in one set.

The threshold heuristic, logistic regression and the LSTM (-hidden units)
are trained on the training set with Adam, early stopping on the
validation loss, and judged on the test set: precision, recall and F1 at
probability 0.5, and ROC AUC. Under -out: the models (threshold.bwens,
logistic.bwens, lstm.bwens) and results.md with the data, the training
and the scores, the command and the machine.
`)
	out := c.fs.String("out", "bwe-train", "output `directory`")
	bf := newBatchFlags(c.fs, "the results say so")
	hidden := c.fs.Int("hidden", 128, "LSTM hidden `units`")
	epochs := c.fs.Int("epochs", 50, "most training `epochs`")
	patience := c.fs.Int("patience", 5, "`epochs` without a better validation loss that end training")
	lr := c.fs.Float64("lr", 1e-3, "Adam's learning `rate`")
	decays := c.fs.String("weight-decay", "0,0.01,0.1", "decoupled weight `decays` (AdamW) to try, comma-separated: each learned predictor keeps the one with the lowest validation loss")
	horizon := c.fs.Int("horizon", 5, "`steps` (seconds) after a window whose loss labels it")
	lossRate := c.fs.Float64("loss-rate", 0.02, "loss `fraction` above which a horizon is lossy")
	stride := c.fs.Int("stride", 1, "`steps` between the starts of consecutive windows")
	valFrac := c.fs.Float64("val", 0.2, "`share` of the scenarios for validation")
	testFrac := c.fs.Float64("test", 0.2, "`share` of the scenarios for the test")
	seed := c.fs.Uint64("seed", 1, "`seed` of the split, the initial weights and the shuffling")
	if code := c.parse(args, stdout, stderr); code >= 0 {
		return code
	}
	seeds, code := bf.check(c, stderr)
	tracesDir, duration, workers := bf.tracesDir, bf.duration, bf.workers
	switch {
	case code >= 0:
		return code
	case !(*valFrac >= 0 && *testFrac > 0 && *valFrac+*testFrac < 1):
		return c.usageError(stderr, "-val %v, -test %v: want shares with 0 ≤ val, 0 < test and val + test < 1", *valFrac, *testFrac)
	}
	wcfg := netstate.WindowConfig{Horizon: *horizon, LossRate: *lossRate, Stride: *stride}
	tcfg := netstate.TrainConfig{Seed: *seed, Epochs: *epochs, Patience: *patience, Hidden: *hidden, LearningRate: *lr}
	var grid []float64
	for v := range strings.SplitSeq(*decays, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || !(x >= 0) || x**lr >= 1 {
			return c.usageError(stderr, "-weight-decay %q: want non-negative numbers below 1/lr", v)
		}
		grid = append(grid, x)
	}
	if _, err := netstate.Windows(nil, "", wcfg); err != nil {
		return c.usageError(stderr, "%v", err)
	}
	if _, err := netstate.NewLSTM(netstate.LSTMConfig{Hidden: *hidden}); err != nil {
		return c.usageError(stderr, "-hidden: %v", err)
	}

	// Data.
	sf := scenarioFlags{tracesDir: *tracesDir, duration: *duration}
	res := newResolver(&sf)
	sels := reportSelectors(*tracesDir)
	var scenarios []traces.Scenario
	for _, s := range seeds {
		ss, err := res.resolve(sels, s)
		if err != nil {
			return c.report(stderr, err)
		}
		scenarios = append(scenarios, ss...)
	}
	start := time.Now()
	type series struct {
		steps [][]netstate.Step
		err   error
	}
	est := defaultEstimator()
	progress := progressReporter(stderr, "runs", isTerminal(stderr))
	done := 0
	runs := parallel(len(scenarios), *workers, func(i int) series {
		_, steps, err := replay.RunNetState(scenarios[i], est, netstate.ExtractorConfig{})
		if err != nil {
			err = fmt.Errorf("%s: %w", scenarios[i].Name, err)
		}
		return series{steps, err}
	}, func(int, series) {
		done++
		progress(done, len(scenarios))
	})
	var ws []netstate.Window
	flows := 0
	for i, r := range runs {
		if r.err != nil {
			return c.fail(stderr, r.err)
		}
		for _, steps := range r.steps {
			w, err := netstate.Windows(steps, scenarios[i].Name, wcfg)
			if err != nil {
				return c.fail(stderr, err)
			}
			ws = append(ws, w...)
			flows++
		}
	}
	dataTime := time.Since(start)
	train, val, test := netstate.SplitTrainValTest(ws, *valFrac, *testFrac, *seed)
	if len(train) == 0 || len(test) == 0 {
		return c.fail(stderr, fmt.Errorf("%d windows: too few to train and test on", len(ws)))
	}
	fmt.Fprintf(stderr, "train: %d windows from %d flows of %d runs in %.1f s; training on %d, validating on %d, testing on %d\n",
		len(ws), flows, len(scenarios), dataTime.Seconds(), len(train), len(val), len(test))

	// Training.
	thr, err := netstate.NewThreshold(netstate.ThresholdConfig{})
	if err != nil {
		return c.fail(stderr, err)
	}
	// Each learned predictor is trained with every weight decay of the
	// grid and keeps the one whose best validation loss is lowest: the
	// test set plays no part in the choice.
	var trials []trial
	choose := func(name string, fit func(netstate.TrainConfig) (netstate.Predictor, netstate.Report, error)) (netstate.Predictor, trial, error) {
		var best netstate.Predictor
		var chosen trial
		for _, d := range grid {
			cfg := tcfg
			cfg.WeightDecay = d
			t0 := time.Now()
			p, rep, err := fit(cfg)
			if err != nil {
				return nil, trial{}, err
			}
			tr := trial{name: name, decay: d, rep: rep, d: time.Since(t0), val: bestValLoss(rep)}
			fmt.Fprintf(stderr, "train: %s, weight decay %g: %d epochs in %.1f s, best validation loss %.4f\n", name, d, rep.StoppedEpoch, tr.d.Seconds(), tr.val)
			trials = append(trials, tr)
			if best == nil || tr.val < chosen.val {
				best, chosen = p, tr
			}
		}
		trials[len(trials)-len(grid)+slices.IndexFunc(grid, func(d float64) bool { return d == chosen.decay })].chosen = true
		return best, chosen, nil
	}
	lstmName := fmt.Sprintf("LSTM (%d hidden)", *hidden)
	logit, _, err := choose("logistic", func(cfg netstate.TrainConfig) (netstate.Predictor, netstate.Report, error) {
		return netstate.TrainLogistic(train, val, cfg)
	})
	if err != nil {
		return c.fail(stderr, err)
	}
	lstm, lstmTrial, err := choose(lstmName, func(cfg netstate.TrainConfig) (netstate.Predictor, netstate.Report, error) {
		return netstate.TrainLSTM(train, val, cfg)
	})
	if err != nil {
		return c.fail(stderr, err)
	}

	// Judgement and files.
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return c.fail(stderr, err)
	}
	type judged struct {
		name          string
		p             netstate.Predictor
		file          string
		size          int
		scores, onset netstate.Scores
		raw           []float64 // scores of the test windows
	}
	labels := netstate.Labels(test)
	// The windows that end clean (their last seconds below the loss
	// rate): whether the next seconds turn lossy is what a sender wants
	// to know before the loss arrives.
	var clean []netstate.Window
	for _, w := range test {
		if endsClean(w, *lossRate) {
			clean = append(clean, w)
		}
	}
	cleanLabels := netstate.Labels(clean)
	preds := []judged{{name: "threshold", p: thr}, {name: "logistic", p: logit}, {name: lstmName, p: lstm}}
	for i, name := range []string{"threshold", "logistic", "lstm"} {
		var b bytes.Buffer
		if err := netstate.WriteModel(&b, preds[i].p); err != nil {
			return c.fail(stderr, err)
		}
		preds[i].file, preds[i].size = filepath.Join(*out, name+".bwens"), b.Len()
		if err := os.WriteFile(preds[i].file, b.Bytes(), 0o644); err != nil {
			return c.fail(stderr, err)
		}
		preds[i].raw = netstate.Score(preds[i].p, test)
		preds[i].scores = netstate.Evaluate(preds[i].raw, labels, 0.5)
		preds[i].onset = netstate.Evaluate(netstate.Score(preds[i].p, clean), cleanLabels, 0.5)
	}

	var doc bytes.Buffer
	fmt.Fprintf(&doc, "# Network-state prediction: training and test\n\n")
	fmt.Fprintf(&doc, "Generated by `%s %s`.\n\n", trainCommand, strings.Join(args, " "))
	fmt.Fprintf(&doc, "- commit: `%s`\n- machine: %s, %d logical CPUs, %s/%s, %s\n", commitID(), cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if *duration > 0 {
		fmt.Fprintf(&doc, "- **every run cut to %v**\n", *duration)
	}
	split := func(name string, w []netstate.Window) {
		groups := map[string]bool{}
		pos := 0
		for _, x := range w {
			groups[x.Group] = true
			if x.Label {
				pos++
			}
		}
		share := 0.0
		if len(w) > 0 {
			share = 100 * float64(pos) / float64(len(w))
		}
		fmt.Fprintf(&doc, "| %s | %d | %d | %d (%.1f %%) |\n", name, len(groups), len(w), pos, share)
	}
	fmt.Fprintf(&doc, "\n## Data\n\n%d runs (%d scenarios × seeds %s, default estimator), %d media flows, %.0f s; "+
		"windows of %d one-second steps, lossy when the loss over the next %d s exceeds %.3g, every %d step(s).\n\n",
		len(scenarios), len(scenarios)/len(seeds), formatSeeds(seeds), flows, dataTime.Seconds(),
		netstate.DefaultWindowConfig().Steps, *horizon, *lossRate, *stride)
	fmt.Fprintf(&doc, "| set | scenarios | windows | lossy |\n|---|---:|---:|---:|\n")
	split("training", train)
	split("validation", val)
	split("test", test)
	fmt.Fprintf(&doc, "\n## Training\n\nAdam (learning rate %g, batches of %d), positive windows weighted by negatives ÷ positives (%.2f), "+
		"early stopping after %d epochs without a lower validation loss, seed %d. Each learned predictor is trained with each weight decay "+
		"(AdamW) and keeps the one with the lowest validation loss (chosen: ✓); the test set plays no part.\n\n",
		*lr, netstate.DefaultTrainConfig().BatchSize, lstmTrial.rep.PosWeight, *patience, *seed)
	fmt.Fprintf(&doc, "| predictor | weight decay | epochs | best epoch | best validation loss | time | chosen |\n|---|---:|---:|---:|---:|---:|---|\n")
	for _, x := range trials {
		mark := ""
		if x.chosen {
			mark = "✓"
		}
		fmt.Fprintf(&doc, "| %s | %g | %d | %d | %s | %.0f s | %s |\n", x.name, x.decay, x.rep.StoppedEpoch, x.rep.BestEpoch, formatNum(x.val, 4), x.d.Seconds(), mark)
	}
	fmt.Fprintf(&doc, "\n## Test (scenarios not used for training)\n\n%d windows, %d lossy. Precision, recall and F1 at probability 0.5.\n\n",
		len(test), preds[0].scores.Positives)
	fmt.Fprintf(&doc, "| predictor | precision | recall | F1 | ROC AUC | model file |\n|---|---:|---:|---:|---:|---:|\n")
	for _, p := range preds {
		s := p.scores
		fmt.Fprintf(&doc, "| %s | %.3f | %.3f | %.3f | %.3f | %d bytes |\n", p.name, s.Precision, s.Recall, s.F1, s.AUC, p.size)
	}
	fmt.Fprintf(&doc, "\nThe %d test windows whose last %d s were below the loss rate, %d of them followed by a lossy horizon (loss coming, not yet there):\n\n",
		len(clean), endsCleanSteps, preds[0].onset.Positives)
	fmt.Fprintf(&doc, "| predictor | precision | recall | F1 | ROC AUC |\n|---|---:|---:|---:|---:|\n")
	for _, p := range preds {
		s := p.onset
		fmt.Fprintf(&doc, "| %s | %.3f | %.3f | %.3f | %.3f |\n", p.name, s.Precision, s.Recall, s.F1, s.AUC)
	}
	lstmAUC, logitAUC := preds[2].scores.AUC, preds[1].scores.AUC
	lo, hi := aucDiffCI(test, preds[2].raw, preds[1].raw, *seed)
	if lstmAUC > logitAUC {
		fmt.Fprintf(&doc, "\nThe LSTM's AUC is above logistic regression's by %.3f", lstmAUC-logitAUC)
	} else {
		fmt.Fprintf(&doc, "\n**The LSTM's AUC is not above logistic regression's**: %.3f against %.3f (%.3f lower)", lstmAUC, logitAUC, logitAUC-lstmAUC)
	}
	fmt.Fprintf(&doc, "; 95 %% interval of the difference, resampling the test scenarios (%d bootstrap samples): [%+.3f, %+.3f].\n", bootstrapSamples, lo, hi)
	if err := os.WriteFile(filepath.Join(*out, "results.md"), doc.Bytes(), 0o644); err != nil {
		return c.fail(stderr, err)
	}
	stdout.Write(doc.Bytes())
	return exitOK
}

// bootstrapSamples is the number of resamplings of aucDiffCI.
const bootstrapSamples = 1000

// aucDiffCI returns the 95 % percentile interval of AUC(a) − AUC(b) on
// the windows ws, resampling their groups (scenarios) with replacement:
// windows of one scenario are not independent, so the scenario is the
// unit of resampling.
func aucDiffCI(ws []netstate.Window, a, b []float64, seed uint64) (lo, hi float64) {
	var order []string
	idx := map[string][]int{}
	for i, w := range ws {
		if _, ok := idx[w.Group]; !ok {
			order = append(order, w.Group)
		}
		idx[w.Group] = append(idx[w.Group], i)
	}
	rng := rand.New(rand.NewPCG(seed, 0x626f6f74)) // "boot"
	diffs := make([]float64, 0, bootstrapSamples)
	var sa, sb []float64
	var labels []bool
	for range bootstrapSamples {
		sa, sb, labels = sa[:0], sb[:0], labels[:0]
		for range order {
			for _, i := range idx[order[rng.IntN(len(order))]] {
				sa, sb, labels = append(sa, a[i]), append(sb, b[i]), append(labels, ws[i].Label)
			}
		}
		ea, eb := netstate.Evaluate(sa, labels, 0.5), netstate.Evaluate(sb, labels, 0.5)
		if ea.AUCDefined && eb.AUCDefined {
			diffs = append(diffs, ea.AUC-eb.AUC)
		}
	}
	if len(diffs) == 0 {
		return math.NaN(), math.NaN()
	}
	slices.Sort(diffs)
	return diffs[int(0.025*float64(len(diffs)))], diffs[min(int(0.975*float64(len(diffs))), len(diffs)-1)]
}

// trial is one training of a learned predictor with one weight decay.
type trial struct {
	name   string
	decay  float64
	rep    netstate.Report
	d      time.Duration
	val    float64
	chosen bool
}

// bestValLoss returns the validation loss of a training's best epoch, or
// its last training loss without validation windows, +Inf if neither.
func bestValLoss(rep netstate.Report) float64 {
	if i := rep.BestEpoch - 1; i >= 0 && i < len(rep.ValLoss) {
		return rep.ValLoss[i]
	}
	if n := len(rep.TrainLoss); n > 0 {
		return rep.TrainLoss[n-1]
	}
	return math.Inf(1)
}

// endsCleanSteps is how many of a window's last steps must be below the
// loss rate for the window to end clean.
const endsCleanSteps = 3

// endsClean reports whether the last endsCleanSteps steps of w had a loss
// at most lossRate.
func endsClean(w netstate.Window, lossRate float64) bool {
	n := len(w.X)
	for i := max(n-endsCleanSteps, 0); i < n; i++ {
		if w.X[i][netstate.FeatLoss] > lossRate {
			return false
		}
	}
	return true
}

// reportSelectors are the scenario selectors of the report and of the
// training data: every generated family but the corpus, and the real
// traces (those under tracesDir, else the embedded ones).
func reportSelectors(tracesDir string) []string {
	var out []string
	for _, fam := range traces.Families() {
		if fam != "corpus" && fam != "traces" {
			out = append(out, fam)
		}
	}
	if tracesDir != "" {
		return append(out, dirSelector)
	}
	return append(out, "traces")
}
