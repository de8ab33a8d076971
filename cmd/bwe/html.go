package main

import (
	"bytes"
	"html/template"
	"strconv"
)

// indexEntry is one run on the index page.
type indexEntry struct {
	Title string // scenario (and estimator)
	Base  string // file name without extension
}

// indexPage is the data of index.html.
type indexPage struct {
	Title   string
	Head    []string
	Rows    [][]string
	Entries []indexEntry
}

var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; font-size: 90%; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>Metrics cover the steady part of each run (after its warm-up).
Table: <a href="results.csv">results.csv</a>, <a href="results.json">results.json</a>.</p>
<table>
<tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range $i, $c := .}}{{if eq $i 0}}<td><a href="#{{$c}}">{{$c}}</a></td>{{else}}<td>{{$c}}</td>{{end}}{{end}}</tr>
{{end}}</table>
{{range .Entries}}
<h2 id="{{.Title}}">{{.Title}}</h2>
<p><a href="{{.Base}}.png">PNG</a> · <a href="{{.Base}}.svg">SVG</a> · <a href="{{.Base}}.json">JSON</a> · <a href="{{.Base}}.csv">CSV</a></p>
<a href="{{.Base}}.png"><img src="{{.Base}}.svg" alt="{{.Title}}"></a>
{{end}}
</body>
</html>
`))

// indexHTML returns the index page of a results directory.
func indexHTML(title string, rows []row, entries []indexEntry) ([]byte, error) {
	page := indexPage{Title: title, Head: []string{"scenario", "estimator", "seed", "flows"}, Entries: entries}
	for _, c := range tableColumns() {
		page.Head = append(page.Head, c.head)
	}
	for _, r := range rows {
		flows := strconv.Itoa(r.Flows)
		if r.Cross > 0 {
			flows += "+" + strconv.Itoa(r.Cross)
		}
		cells := []string{r.Scenario, r.Estimator, strconv.FormatUint(r.Seed, 10), flows}
		for _, c := range tableColumns() {
			cells = append(cells, formatNum(c.get(r), c.prec))
		}
		page.Rows = append(page.Rows, cells)
	}
	var b bytes.Buffer
	if err := indexTemplate.Execute(&b, page); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
