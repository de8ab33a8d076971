package traces

import (
	"bytes"
	"embed"
	"fmt"
	"os"
)

// EnvVar is the environment variable that names the directory of the
// trace collection that cannot be embedded (see [EnvDir]).
const EnvVar = "BWE_TRACES"

// EnvDir returns the value of the BWE_TRACES environment variable: the
// directory of the full trace collection, laid out as [LoadDir] expects
// (mahimahi-cellular/, orange-4g/, ucc-5g/, nyu-multipath-wifi-cellular/
// and the folders of the embedded corpus), or "" if it is unset. The
// traces whose licences do not allow redistribution with this package are
// read from there. It is the only environment variable the package reads,
// and only here.
func EnvDir() string { return os.Getenv(EnvVar) }

//go:embed corpus
var trCorpusFS embed.FS

// CorpusEntry describes one trace of the embedded corpus.
type CorpusEntry struct {
	// Name is the short, stable name of the trace, "<source>/<trace>",
	// e.g. "norway/bus-ljansbakken", "fcc/10322", "opennetlab/4G_3mbps",
	// "5gophers/walking".
	Name string
	// Family is the kind of network: "3g", "4g", "5g", "broadband" or
	// "wired".
	Family string
	// Format is the file format.
	Format Format
	// File is the file's path in the embedded corpus, which is also its
	// path under the trace collection's directory ([EnvDir]).
	File string
	// Column is the rate column read from a CSV with several, "" for the
	// format's default.
	Column string
	// Source names the measurement campaign and its publication.
	Source string
	// License is the licence under which the file is redistributed.
	License string
}

// Sources and licences of the embedded corpus (corpus/ATTRIBUTION.md
// gives the full origin, notices and citations).
const (
	trNorwaySource     = "Riiser et al., Commute Path Bandwidth Traces from 3G Networks, ACM MMSys 2013 (Telenor HSDPA, Oslo); Pensieve cooked form"
	trFCCSource        = "FCC Measuring Broadband America 2016, web browsing; Pensieve cooked form (synthetic 5-s time axis)"
	trOpenNetLabSource = "OpenNetLab AlphaRTC gym, ACM MMSys 2021 bandwidth-estimation challenge traces"
	trGophersSource    = "Narayanan et al., A First Look at Commercial 5G Performance on Smartphones, WWW 2020 (5Gophers 1.0, mmWave, Minneapolis)"
	trPensieveLicense  = "MIT (Pensieve repository)"
	trBSD3License      = "BSD-3-Clause (OpenNetLab contributors)"
	trCCBYLicense      = "CC BY 4.0"
)

var trCorpus = []CorpusEntry{
	{"norway/bus-ljansbakken", "3g", FormatPensieve, "norway-hsdpa-3g/bus.ljansbakken-oslo-report.2010-09-28_1407CEST.log", "", trNorwaySource, trPensieveLicense},
	{"norway/car-aarnes", "3g", FormatPensieve, "norway-hsdpa-3g/car.aarnes-elverum-report.2011-02-10_1611CET.log", "", trNorwaySource, trPensieveLicense},
	{"norway/car-snaroya", "3g", FormatPensieve, "norway-hsdpa-3g/car.snaroya-smestad-report.2011-02-14_2032CET.log", "", trNorwaySource, trPensieveLicense},
	{"norway/ferry-nesoddtangen", "3g", FormatPensieve, "norway-hsdpa-3g/ferry.nesoddtangen-oslo-report.2010-09-20_1542CEST.log", "", trNorwaySource, trPensieveLicense},
	{"norway/metro-kalbakken", "3g", FormatPensieve, "norway-hsdpa-3g/metro.kalbakken-jernbanetorget-report.2010-09-14_1038CEST.log", "", trNorwaySource, trPensieveLicense},
	{"norway/train-oslo", "3g", FormatPensieve, "norway-hsdpa-3g/train.oslo-vestby-report.2011-02-11_1618CET.log", "", trNorwaySource, trPensieveLicense},
	{"norway/tram-jernbanetorget", "3g", FormatPensieve, "norway-hsdpa-3g/tram.jernbanetorget-universitetssykehuset-report.2010-11-23_1606CET.log", "", trNorwaySource, trPensieveLicense},
	{"norway/tram-ljabru", "3g", FormatPensieve, "norway-hsdpa-3g/tram.ljabru-jernbanetorget-report.2010-12-09_1334CET.log", "", trNorwaySource, trPensieveLicense},

	{"fcc/10322", "broadband", FormatPensieve, "fcc-broadband/trace_10322_http---edition.cnn.com", "", trFCCSource, trPensieveLicense},
	{"fcc/207336", "broadband", FormatPensieve, "fcc-broadband/trace_207336_http---www.amazon.com", "", trFCCSource, trPensieveLicense},
	{"fcc/215252", "broadband", FormatPensieve, "fcc-broadband/trace_215252_http---www.msn.com", "", trFCCSource, trPensieveLicense},
	{"fcc/30637", "broadband", FormatPensieve, "fcc-broadband/trace_30637_http---www.amazon.com", "", trFCCSource, trPensieveLicense},
	{"fcc/5294", "broadband", FormatPensieve, "fcc-broadband/trace_5294_http---www.youtube.com", "", trFCCSource, trPensieveLicense},
	{"fcc/799296", "broadband", FormatPensieve, "fcc-broadband/trace_799296_http---www.amazon.com", "", trFCCSource, trPensieveLicense},

	{"opennetlab/4G_3mbps", "4g", FormatOpenNetLab, "opennetlab-alphartc/4G_3mbps.json", "", trOpenNetLabSource, trBSD3License},
	{"opennetlab/4G_500kbps", "4g", FormatOpenNetLab, "opennetlab-alphartc/4G_500kbps.json", "", trOpenNetLabSource, trBSD3License},
	{"opennetlab/5G_12mbps", "5g", FormatOpenNetLab, "opennetlab-alphartc/5G_12mbps.json", "", trOpenNetLabSource, trBSD3License},
	{"opennetlab/5G_13mbps", "5g", FormatOpenNetLab, "opennetlab-alphartc/5G_13mbps.json", "", trOpenNetLabSource, trBSD3License},
	{"opennetlab/WIRED_200kbps", "wired", FormatOpenNetLab, "opennetlab-alphartc/WIRED_200kbps.json", "", trOpenNetLabSource, trBSD3License},
	{"opennetlab/WIRED_35mbps", "wired", FormatOpenNetLab, "opennetlab-alphartc/WIRED_35mbps.json", "", trOpenNetLabSource, trBSD3License},
	{"opennetlab/WIRED_900kbs", "wired", FormatOpenNetLab, "opennetlab-alphartc/WIRED_900kbs.json", "", trOpenNetLabSource, trBSD3License},

	{"5gophers/walking", "5g", FormatFiveGophers, "5gophers/walking-trace.csv", "throughput_mbps", trGophersSource, trCCBYLicense},
	{"5gophers/driving-sprint", "5g", FormatFiveGophers, "5gophers/car-driving-trace-1.csv", "Sprint_throughput_mbps", trGophersSource, trCCBYLicense},
	{"5gophers/driving-tmobile", "5g", FormatFiveGophers, "5gophers/car-driving-trace-1.csv", "TMobile_throughput_mbps", trGophersSource, trCCBYLicense},
	{"5gophers/driving-verizon", "5g", FormatFiveGophers, "5gophers/car-driving-trace-1.csv", "Verizon_throughput_mbps", trGophersSource, trCCBYLicense},
}

// Corpus returns the traces embedded in the package, in a stable order:
// the traces whose licences allow redistribution (Norway 3G/HSDPA and FCC
// broadband in Pensieve's MIT-licensed form, OpenNetLab AlphaRTC under
// BSD-3-Clause, 5Gophers mmWave 5G under CC BY 4.0; 542 685 bytes in
// all). Origins, licence notices and citations are in the package's
// corpus/ATTRIBUTION.md. The slice is a fresh copy.
func Corpus() []CorpusEntry {
	return append([]CorpusEntry(nil), trCorpus...)
}

// CorpusTrace reads the embedded trace called name (see [Corpus]) with the
// default [ReadOptions] (and the entry's column); its Trace.Name is name.
// Each call returns a new Trace.
func CorpusTrace(name string) (*Trace, error) {
	for _, e := range trCorpus {
		if e.Name == name {
			data, err := trCorpusFS.ReadFile("corpus/" + e.File)
			if err != nil {
				return nil, fmt.Errorf("traces: corpus trace %q: %w", name, err)
			}
			return ReadWith(bytes.NewReader(data), name, e.Format, ReadOptions{Column: e.Column})
		}
	}
	return nil, fmt.Errorf("traces: no corpus trace named %q", name)
}
