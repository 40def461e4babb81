package supportbundle

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Files reads a bundle back: its files' contents by their path below the
// bundle's directory ("config.txt", "objects/tasks.yaml"). It is how a
// bundle is checked, by tests and by whoever wants to look before sending.
func Files(r io.Reader) (map[string]string, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read support bundle: %w", err)
	}
	tr := tar.NewReader(gz)
	files := map[string]string{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read support bundle: %w", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("read %s from the support bundle: %w", hdr.Name, err)
		}
		_, name, _ := strings.Cut(hdr.Name, "/")
		files[name] = string(data)
	}
}
