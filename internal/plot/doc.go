// Package plot draws simple line charts as standalone SVG documents: one
// or more panels stacked vertically over a shared x axis, each with its
// axes, "nice" ticks (1, 2 or 5 times a power of ten), grid lines and a
// legend. It uses the standard library only and is deterministic: the same
// figure gives the same bytes.
//
// Coordinates are float64 in the caller's units; points with a NaN or
// infinite coordinate, or one beyond ±1e300, are skipped. A [Figure] is a
// plain value: writing it does not modify it, and distinct figures may be
// written concurrently.
package plot
