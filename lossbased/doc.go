// Package lossbased holds loss-based bandwidth estimators: what the send
// side believes the path can carry given the packets it loses.
//
// Two estimators implement [Estimator]:
//
//   - [Classic], the fraction-lost rule of draft-ietf-rmcat-gcc-02 §6 as
//     libwebrtc's SendSideBandwidthEstimation applies it: grow 8 % a second
//     below 2 % loss, hold up to 10 %, cut by half the loss fraction above.
//   - [Likelihood], in the spirit of libwebrtc's LossBasedBweV2: it keeps a
//     window of observations (loss and sending rate per 250 ms of sending),
//     models loss as an inherent part plus the excess of the sending rate
//     over the link capacity, and picks the capacity among a few candidates
//     that makes the observed losses most likely.
//
// [Likelihood] follows libwebrtc's LossBasedBweV2 as of mid-2024:
// [DefaultLikelihoodConfig] holds its field-trial defaults, and the tests
// reproduce every case of loss_based_bwe_v2_test.cc with its expected
// values. With those defaults, random loss above 5 % caps the estimate near
// 75 kbps / (loss − 0.05), about 1.5 Mbps at 10 % loss, whatever the
// capacity. [LossyLinkLikelihoodConfig] treats the lowest loss of the last
// 30 s as random and bounds the estimate only by the loss above it: it
// keeps a link with 10 % random loss near capacity and still backs off
// when a capacity drop causes loss.
//
// Both are driven once per transport-feedback batch with an [Input] that
// carries the batch (lost packets included) and what the rest of the send
// side knows: the delay-based estimate (which caps the loss-based one, as in
// libwebrtc), the acknowledged throughput, whether the sender is
// application-limited, and the RTT. Both keep their estimate within the
// limits given to SetLimits, whatever the input. The send-side estimator
// in package sendside composes one of them with the delay-based estimator
// and probing; [NewByName] builds either by name for tools.
//
// Sources:
//
//	modules/congestion_controller/goog_cc/send_side_bandwidth_estimation.cc
//	modules/congestion_controller/goog_cc/loss_based_bwe_v2.{h,cc}
//	modules/congestion_controller/goog_cc/loss_based_bwe_v2_test.cc
//	draft-ietf-rmcat-gcc-02 §6 (loss-based control)
//
// Rates are [bwe.Bitrate] (bits per second), times [bwe.Time]. Everything
// is deterministic: time comes only from the arguments. Estimators are not
// safe for concurrent use, and Update allocates nothing.
package lossbased
