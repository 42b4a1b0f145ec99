package provider_test

import (
	"bytes"
	"encoding/json"
	"io"
)

func indent(w io.Writer, schema string) error {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(schema), "", "  "); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}
