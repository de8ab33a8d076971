package traces

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// trEnvDir returns the trace collection named by BWE_TRACES, or skips the
// test if it is unset. A relative path that does not exist from the
// package directory (where go test runs) is taken relative to the module
// root, so that BWE_TRACES=../shared/traces set for the whole module works
// here too.
func trEnvDir(t testing.TB) string {
	t.Helper()
	dir := EnvDir()
	if dir == "" {
		t.Skip("BWE_TRACES is not set: set it to the trace collection (e.g. BWE_TRACES=/work/shared/traces) to test against the real traces")
	}
	if _, err := os.Stat(dir); err != nil && !filepath.IsAbs(dir) {
		if wd, err := os.Getwd(); err == nil {
			for d := wd; ; d = filepath.Dir(d) {
				if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
					dir = filepath.Join(d, dir)
					break
				}
				if filepath.Dir(d) == d {
					break
				}
			}
		}
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("BWE_TRACES=%q is not a directory: %v", EnvDir(), err)
	}
	return dir
}

func TestCorpus(t *testing.T) {
	entries := Corpus()
	if len(entries) != 25 {
		t.Errorf("Corpus: %d entries, want 25", len(entries))
	}
	entries[0].Name = "changed"
	if Corpus()[0].Name == "changed" {
		t.Errorf("Corpus returns its own slice, not a copy")
	}
	attribution, err := trCorpusFS.ReadFile("corpus/ATTRIBUTION.md")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	files := map[string]bool{}
	families := map[string]bool{"3g": true, "4g": true, "5g": true, "broadband": true, "wired": true}
	for _, e := range Corpus() {
		if names[e.Name] {
			t.Errorf("%s: duplicate name", e.Name)
		}
		names[e.Name] = true
		files[e.File] = true
		if !families[e.Family] || e.Source == "" || e.License == "" || e.Format == FormatUnknown {
			t.Errorf("%s: incomplete entry %+v", e.Name, e)
		}
		folder := strings.Split(e.File, "/")[0]
		if !bytes.Contains(attribution, []byte("## "+folder+"/")) {
			t.Errorf("%s: ATTRIBUTION.md has no section for %s/", e.Name, folder)
		}
		if !strings.HasPrefix(e.Name, strings.Split(e.Name, "/")[0]+"/") || strings.ContainsAny(e.Name, " #") {
			t.Errorf("%s: name is not <source>/<trace>", e.Name)
		}
		tr, err := CorpusTrace(e.Name)
		if err != nil {
			t.Errorf("CorpusTrace(%s): %v", e.Name, err)
			continue
		}
		if tr.Name != e.Name || tr.Format != e.Format || !tr.Loop || tr.Validate() != nil {
			t.Errorf("CorpusTrace(%s) = name %q, format %v, loop %v, %v", e.Name, tr.Name, tr.Format, tr.Loop, tr.Validate())
		}
		if e.Format == FormatOpenNetLab && tr.Max() >= DefaultSpikeThreshold {
			t.Errorf("CorpusTrace(%s): spike of %v kept", e.Name, tr.Max())
		}
	}
	// The three carriers of the car-driving file differ.
	s, _ := CorpusTrace("5gophers/driving-sprint")
	v, _ := CorpusTrace("5gophers/driving-verizon")
	if s.Mean() == v.Mean() {
		t.Errorf("5gophers driving: Sprint and Verizon traces are the same")
	}
	if _, err := CorpusTrace("nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("CorpusTrace(nope) = %v, want an error naming it", err)
	}

	// Every embedded data file belongs to an entry, and the whole is small.
	var total int64
	err = fs.WalkDir(trCorpusFS, "corpus", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, _ := d.Info()
		total += info.Size()
		rel := strings.TrimPrefix(p, "corpus/")
		if rel != "ATTRIBUTION.md" && !files[rel] {
			t.Errorf("embedded file %s belongs to no corpus entry", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total >= 1<<20 {
		t.Errorf("embedded corpus is %d bytes, want under 1 MiB", total)
	}
	for f := range files {
		if _, err := trCorpusFS.ReadFile("corpus/" + f); err != nil {
			t.Errorf("corpus entry file %s is not embedded: %v", f, err)
		}
	}
}

// TestCorpusMatchesEnvDir: the embedded files are byte-identical to the
// trace collection's, and no file of a folder whose licence forbids
// redistribution is embedded.
func TestCorpusMatchesEnvDir(t *testing.T) {
	dir := trEnvDir(t)
	var embedded []string
	fs.WalkDir(trCorpusFS, "corpus", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != "ATTRIBUTION.md" {
			embedded = append(embedded, strings.TrimPrefix(p, "corpus/"))
		}
		return err
	})
	for _, rel := range embedded {
		got, _ := trCorpusFS.ReadFile("corpus/" + rel)
		want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: embedded bytes differ from %s", rel, dir)
		}
		folder := strings.Split(rel, "/")[0]
		if !slices.Contains([]string{"norway-hsdpa-3g", "fcc-broadband", "opennetlab-alphartc", "5gophers"}, folder) {
			t.Errorf("%s: embedded from a folder that may not be redistributed", rel)
		}
	}
	// Every data file of the redistributable folders is embedded.
	for _, folder := range []string{"norway-hsdpa-3g", "fcc-broadband", "opennetlab-alphartc", "5gophers"} {
		ents, err := os.ReadDir(filepath.Join(dir, folder))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if rel := folder + "/" + e.Name(); !trIsDoc(e.Name()) && !slices.Contains(embedded, rel) {
				t.Errorf("%s is not embedded", rel)
			}
		}
	}
}
