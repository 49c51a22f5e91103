package xmlns_test

import (
	"os"
	"path/filepath"
	"testing"

	"aspgate/xmlns"
)

// FuzzParse feeds arbitrary documents to the reader: it must never panic, hang or blow up, and what it
// accepts must be a single well-formed tree.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{
		filepath.Join("..", "testdata", "golden", "requests", "bodies", "*.xml"),
		filepath.Join("..", "testdata", "golden", "samples", "*", "*.xml"),
		filepath.Join("..", "testdata", "seeds", "*", "*.xml"),
	} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, path := range files {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, s := range []string{
		``,
		`<a/>`,
		`<?xml version="1.0" encoding="utf-8"?><a>x</a>`,
		`<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`,
		`<a><![CDATA[x]]><!--c--></a>`,
		`<p:a xmlns:p="u" p:b="&#xD83D;&#xDE00;"><b xmlns="">&#x1;</b></p:a>`,
		"<a>\r\n\r</a>",
		`<a><b></a>`,
		`<a>]]></a>`,
		`<a>&#`,
		`<!--`,
		`<a><![CDATA[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, enc := range []string{"utf-8", "utf-16"} {
			root, err := xmlns.Parse(data, xmlns.ParseOptions{Encoding: enc})
			if err != nil {
				if root != nil {
					t.Fatalf("Parse returned a tree and an error: %v", err)
				}
				continue
			}
			if root == nil {
				t.Fatal("Parse returned neither a tree nor an error")
			}
			if d := treeDepth(root); d > xmlns.DefaultMaxDepth {
				t.Fatalf("accepted a tree %d deep", d)
			}
		}
	})
}

func treeDepth(n *xmlns.Node) int {
	d := 0
	for _, c := range n.Children {
		d = max(d, treeDepth(c))
	}
	return d + 1
}
