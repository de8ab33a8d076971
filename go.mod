module github.com/bwelab/bwe

go 1.25
