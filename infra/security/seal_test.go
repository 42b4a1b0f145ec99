package security

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	wrapping "github.com/openbao/go-kms-wrapping/v2"
	"github.com/openbao/go-kms-wrapping/wrappers/static/v2"
)

// TestStaticSealReadsTheKey runs OpenBao's own static seal (the version
// OpenBao 2.6 builds with) on a key as the program writes it: the
// RandomBytes' base64 as the Secret's whole value, which the kubelet
// mounts as the file, read through the configuration's file:// path. It
// encrypts and decrypts under SealKeyID; a key file with a line break (the
// seal does not trim) or of the wrong length is refused at start, where
// OpenBaoSealed would page.
func TestStaticSealReadsTheKey(t *testing.T) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, want string
	}{
		{"the Secret's value", base64.StdEncoding.EncodeToString(raw), ""},
		{"with a line break", base64.StdEncoding.EncodeToString(raw) + "\n", "unknown encoding"},
		{"a short key", base64.StdEncoding.EncodeToString(raw[:16]), "unknown encoding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "key")
			if err := os.WriteFile(path, []byte(tc.file), 0o400); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			w := static.NewWrapper()
			_, err := w.SetConfig(ctx, wrapping.WithConfigMap(map[string]string{
				"current_key_id": SealKeyID, "current_key": "file://" + path,
			}))
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			blob, err := w.Encrypt(ctx, []byte("root key"))
			if err != nil {
				t.Fatal(err)
			}
			if blob.KeyInfo.KeyId != SealKeyID {
				t.Errorf("key id %q, want %q", blob.KeyInfo.KeyId, SealKeyID)
			}
			got, err := w.Decrypt(ctx, blob)
			if err != nil || string(got) != "root key" {
				t.Errorf("decrypt = %q, %v", got, err)
			}
		})
	}
}
