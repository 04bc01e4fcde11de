package repo

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// parseFilelists reads filelists.xml (decompressed) as a stream into
// every package's pkgid (its checksum) and complete file list.
func parseFilelists(r io.Reader) ([]pkgFiles, error) {
	d := xml.NewDecoder(r)
	var (
		lists  []pkgFiles
		pkgid  string
		files  []string
		inFile bool
		text   []byte
	)
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return lists, nil
		}
		if err != nil {
			line, _ := d.InputPos()
			return nil, fmt.Errorf("filelists.xml line %d: %w", line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "package":
				pkgid, files = strings.ToLower(attr(t, "pkgid")), nil
			case "file":
				inFile, text = true, text[:0]
			}
		case xml.CharData:
			if inFile {
				text = append(text, t...)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "file":
				files = append(files, strings.TrimSpace(string(text)))
				inFile = false
			case "package":
				lists = append(lists, pkgFiles{pkgid, files})
			}
		}
	}
}
