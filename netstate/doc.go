// Package netstate predicts, from per-second statistics of the send side,
// whether the next seconds will be lossy, so that a sender can pick its
// anti-loss strategy (more FEC, or retransmission) before the loss
// arrives.
//
// The pieces, in the order data flows through them:
//
//   - [Extractor] turns transport-feedback batches ([bwe.Feedback]) plus
//     the estimator's estimate and RTT into one [Features] vector (and the
//     [Raw] values behind it) per interval of 1 s.
//   - A [Predictor] observes one feature vector per interval and returns a
//     [Prediction]: the probability that the next window is lossy. Three
//     are provided: [Threshold], a fixed heuristic; [Logistic], logistic
//     regression over the window; and [LSTM], a recurrent network over the
//     last 15 steps.
//   - [Windows] cuts a run's series of steps into labelled windows,
//     [SplitByGroup] and [SplitTrainValTest] split them by run, and
//     [TrainLSTM] and [TrainLogistic] fit the learned predictors.
//   - [Evaluate] and [Score] measure a predictor on held-out windows.
//   - [WriteModel] and [ReadModel] store a predictor in a small,
//     versioned, checksummed file.
//
// # Intervals
//
// Intervals are on the sender's clock, the clock of [bwe.Feedback.Time]:
// the first batch starts the first interval at its Time, and interval k
// covers [start + k·Interval, start + (k+1)·Interval). A batch belongs to
// the interval containing its Time; a batch whose Time is before the open
// interval (a clock step back) goes to the open interval and is counted as
// late. [Extractor.Step](now) returns the oldest interval that ended at or
// before now, one per call, so a caller loops until it reports false and
// hands every step to the predictor. When a batch arrives after the end of
// the open interval, Add closes that interval and the empty ones between
// it and the batch and queues them for Step (up to 32 entries; a run of
// empty intervals is one entry).
//
// An interval in which no batch arrived is empty. It is still a step: its
// rates are 0 (so the sent and acked features sit at −8), its loss is 0
// with [Raw.Packets] 0 (loss unknown), its delay trend 0, and estimate,
// RTT and jitter carry over from before. After MaxEmptyRun (default 60)
// consecutive empty intervals, further ones are skipped until feedback
// resumes, and counted in [ExtractorStats.Skipped].
//
// # Features (normalisation version 1)
//
// Every feature of an interval is computed from the batches added in it,
// and normalised with fixed constants (no statistics of the data):
//
//	index  name         raw value                                     feature                          range
//	0      estimate     last positive estimate passed to Add          log2(rate / 1 Mbps)              [−8, 8]
//	1      sent         bytes of all packets reported ÷ interval      log2(rate / 1 Mbps)              [−8, 8]
//	2      acked        bytes of the packets received ÷ interval      log2(rate / 1 Mbps)              [−8, 8]
//	3      rtt          mean of the positive RTTs passed to Add       RTT / 100 ms                     [0, 10]
//	4      jitter       RFC 3550 interarrival jitter at the end       jitter / 100 ms                  [0, 10]
//	5      loss         lost ÷ reported packets (0 if none)           the fraction                     [0, 1]
//	6      delay_trend  slope of one-way delay vs. send time, ms/s    slope / (100 ms/s)               [−10, 10]
//
// Values beyond a range are clamped to it; a rate of 0 gives −8, and NaN
// (which the extractor never produces) gives 0. Details:
//
//   - estimate: the estimate of the last Add of the interval, or of an
//     earlier one when none was positive (a time-weighted mean would smooth
//     away the cuts the predictor should see).
//   - sent and acked: every reported packet counts towards sent, the
//     received ones towards acked; sizes below 0 count as 0. Packets are
//     attributed by the feedback that reports them, so these are the
//     rates of about one RTT before the interval.
//   - rtt: carried over from the previous interval when no positive RTT
//     was passed.
//   - jitter: RFC 3550 §6.4.1 on consecutive received packets in the
//     order the feedback lists them, across intervals:
//     D = (arrival_j − arrival_i) − (send_j − send_i), J += (|D| − J)/16.
//     A received packet whose Seq repeats the previous one's is skipped.
//   - delay_trend: the least-squares slope of the one-way delay
//     (arrival − send) against the send time, over the interval's
//     received packets. The offset between the two clocks cancels in a
//     slope. It is 0 with fewer than two such packets.
//
// [Normalize] is the normalisation as a function of [Raw], and [NormVersion]
// its version, recorded in model files. Changing any constant above
// requires a new version.
//
// # Labels
//
// [Windows] labels a window of Steps (default 15) steps as lossy when the
// loss over the next Horizon (default 5) steps, Σ lost ÷ Σ reported,
// is above LossRate (default 0.02, the 2 % of libwebrtc
// send_side_bandwidth_estimation.cc kDefaultLowLossThreshold = 0.02).
// Windows whose horizon reports no packet are skipped.
//
// # Predictors
//
// All predictors sanitize their input ([Features.Sanitize]), so NaN or
// infinite values still give a probability in [0, 1]. Each keeps the last
// Steps features; Observe, Reset and Predict (the prediction for a given
// window, equal to Observe's after Reset) allocate nothing. The [LSTM]
// runs its cell over the whole stored window from the zero state on each
// Observe, exactly as it is trained: at 128 hidden units and 15 steps that
// is about 15 × 69 000 multiply-adds per Observe.
//
// # Training
//
// [TrainLSTM] and [TrainLogistic] minimise the mean over windows of the
// weighted binary cross-entropy, lossy windows weighted by PosWeight
// (default: negatives ÷ positives of the training set). The LSTM's
// gradient is exact backpropagation through time over the whole window.
// Adam (β1 0.9, β2 0.999, ε 1e-8, learning rate 1e-3) updates the
// weights after each mini-batch of 32 windows, whose gradient norm is
// clipped at 5; TrainConfig.WeightDecay adds decoupled weight decay
// (AdamW). The training windows are shuffled each epoch; after each
// epoch the validation loss decides early stopping (patience 5, at most
// 50 epochs), and the weights of the best epoch are returned. Initial
// LSTM weights: input columns Glorot-uniform, recurrent blocks random
// orthogonal per gate, forget-gate biases 1, others 0. The same windows,
// configuration and seed give bit-identical weights on one platform:
// training is single-threaded, sums run in a fixed order, and randomness
// comes only from PCG generators seeded by [TrainConfig.Seed].
//
// # Model file
//
// A model file is a header, the parameters and a checksum, all
// little-endian:
//
//	offset  size  field
//	0       5     magic "BWENS"
//	5       1     format version, 1
//	6       1     kind: 1 threshold, 2 logistic, 3 LSTM
//	7       1     normalisation version, 1 (NormVersion)
//	8       1     number of features, 7
//	9       1     reserved, 0
//	10      2     steps (uint16), 1 to 256
//	12      2     hidden units (uint16): 1 to 1024 for an LSTM, else 0
//	14      4     parameter count n (uint32), which must equal the count
//	              the kind and sizes imply
//	18      8·n   parameters, IEEE 754 float64
//	18+8·n  4     CRC-32 (IEEE) of bytes 0 … 17+8·n
//
// The parameters, by kind:
//
//   - threshold (n = 3): Loss, Trend, Jitter of [ThresholdConfig]; steps
//     holds Lookback. Trend and Jitter may be +Inf.
//   - logistic (n = 7·steps + 1): the weights, step-major from the oldest
//     step, feature index inner, then the bias.
//   - LSTM (n = 4H·(7+H) + 4H + H + 1 for H hidden units): W, 4H rows of
//     7+H columns, row-major, rows in gate blocks i, f, g, o of H rows,
//     columns the 7 inputs then the H recurrent inputs; then the 4H gate
//     biases in the same order; then the H output weights v; then the
//     output bias c. Lossy = σ(v·h_S + c) after the last step S.
//
// Logistic and LSTM parameters must be finite. An LSTM with 128 hidden
// units and 15 steps takes 69 761 parameters, 558 110 bytes. [ReadModel]
// names the byte offset and the field of any error, checks sizes before it
// allocates, and reads parameters in chunks so that a short input claiming
// a large model costs little.
//
// # Sources
//
//	RFC 3550 §6.4.1 and A.8 (interarrival jitter)
//	Hochreiter & Schmidhuber 1997, Gers et al. 2000 (LSTM with forget gate)
//	Glorot & Bengio 2010 (uniform initialisation); Saxe et al. 2014
//	(orthogonal initialisation); Jozefowicz et al. 2015 (forget bias 1)
//	Kingma & Ba 2015 (Adam); Loshchilov & Hutter 2019 (AdamW)
//	Mann & Whitney 1947; Hanley & McNeil 1982 (AUC as a rank statistic)
//
// Rates are [bwe.Bitrate], instants [bwe.Time], durations [time.Duration];
// floats appear only as features, fractions and the delay trend in ms/s.
// Nothing reads a clock, starts a goroutine or takes a lock. No type of
// this package is safe for concurrent use.
package netstate
