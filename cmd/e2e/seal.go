package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	wrapping "github.com/openbao/go-kms-wrapping/v2"
	"github.com/openbao/go-kms-wrapping/wrappers/static/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/zclconf/go-cty/cty"

	"gitlab.com/camps-ch/infra/infra/security"
)

// openBaoSeal follows the static seal through what the chart rendered in
// the API server, as a replica would at start: the configuration's seal
// block names a key file; the StatefulSet mounts the program's Secret
// read-only at that file's directory; the Secret's value is a key OpenBao's
// own static seal accepts (it encrypts and decrypts with it), and it is
// not in plain text in the stack's state. No OpenBao runs here: whether
// the server then unseals is not exercised.
func (p *project) openBaoSeal(ctx context.Context, r *runner, s auto.Stack) error {
	if r.charts == "" {
		fmt.Println("  OpenBao's seal in the API server: skipped, no charts (-charts)")
		return nil
	}
	return p.step("OpenBao's seal in the API server", func(io.Writer) (string, error) {
		ns := security.OpenBaoNamespace
		var cm struct{ Data map[string]string }
		if err := r.kube.GetJSON(ctx, "/api/v1/namespaces/"+ns+"/configmaps/openbao-config", &cm); err != nil {
			return "", err
		}
		keyID, keyURL, err := staticSeal(cm.Data["extraconfig-from-values.hcl"])
		if err != nil {
			return "", err
		}
		file, ok := strings.CutPrefix(keyURL, "file://")
		if !ok {
			return "", fmt.Errorf("the seal reads its key from %q, not a file", keyURL)
		}
		if err := mountsSealSecret(ctx, r, path.Dir(file)); err != nil {
			return "", err
		}
		var secret struct{ Data map[string]string }
		if err := r.kube.GetJSON(ctx, "/api/v1/namespaces/"+ns+"/secrets/"+security.SealSecret, &secret); err != nil {
			return "", err
		}
		value, err := base64.StdEncoding.DecodeString(secret.Data[path.Base(file)])
		if err != nil {
			return "", fmt.Errorf("the seal Secret %s: %w", security.SealSecret, err)
		}
		if err := sealWith(ctx, keyID, value); err != nil {
			return "", err
		}
		plain, err := p.plainSecrets(ctx, s, map[string]string{"the seal key": string(value)})
		if err != nil {
			return "", err
		}
		if len(plain) > 0 {
			return "", fmt.Errorf("in plain text in the state: %s", strings.Join(plain, ", "))
		}
		return fmt.Sprintf("the config's static seal %s reads %s, mounted read-only from Secret %s; OpenBao's static seal encrypts and decrypts with its key; the key is secret in the state",
			keyID, file, security.SealSecret), nil
	})
}

// staticSeal returns the key ID and key URL of the enabled static seal
// block of an OpenBao configuration.
func staticSeal(config string) (string, string, error) {
	f, diags := hclsyntax.ParseConfig([]byte(config), "openbao.hcl", hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		return "", "", fmt.Errorf("OpenBao's configuration: %v", diags)
	}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "seal" || len(b.Labels) != 1 || b.Labels[0] != "static" {
			continue
		}
		attrs := map[string]string{}
		for name, a := range b.Body.Attributes {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() || v.Type() != cty.String || v.IsNull() {
				return "", "", fmt.Errorf("seal.%s is not a string: %v", name, diags)
			}
			attrs[name] = v.AsString()
		}
		if attrs["disabled"] == "true" {
			return "", "", fmt.Errorf("the static seal is disabled")
		}
		return attrs["current_key_id"], attrs["current_key"], nil
	}
	return "", "", fmt.Errorf("OpenBao's configuration has no static seal")
}

// mountsSealSecret: the server container mounts the seal Secret read-only
// at dir, readable by its group only.
func mountsSealSecret(ctx context.Context, r *runner, dir string) error {
	var sts struct {
		Spec struct {
			Template struct {
				Spec struct {
					Volumes []struct {
						Name   string `json:"name"`
						Secret *struct {
							SecretName  string `json:"secretName"`
							DefaultMode int    `json:"defaultMode"`
						} `json:"secret"`
					} `json:"volumes"`
					Containers []struct {
						Name         string `json:"name"`
						VolumeMounts []struct {
							Name      string `json:"name"`
							MountPath string `json:"mountPath"`
							ReadOnly  bool   `json:"readOnly"`
						} `json:"volumeMounts"`
					} `json:"containers"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := r.kube.GetJSON(ctx, "/apis/apps/v1/namespaces/"+security.OpenBaoNamespace+"/statefulsets/openbao", &sts); err != nil {
		return err
	}
	spec := sts.Spec.Template.Spec
	volume := ""
	for _, v := range spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == security.SealSecret {
			if v.Secret.DefaultMode != 0o440 {
				return fmt.Errorf("the seal Secret's files have mode %o, want 440", v.Secret.DefaultMode)
			}
			volume = v.Name
		}
	}
	for _, c := range spec.Containers {
		for _, m := range c.VolumeMounts {
			if volume != "" && m.Name == volume && m.MountPath == dir && m.ReadOnly {
				return nil
			}
		}
	}
	return fmt.Errorf("no container mounts Secret %s read-only at %s", security.SealSecret, dir)
}

// sealWith runs OpenBao's static seal on key as a replica reads it from
// its file, and encrypts and decrypts with it.
func sealWith(ctx context.Context, keyID string, key []byte) error {
	f, err := os.CreateTemp("", "camps-e2e-seal-")
	if err != nil {
		return err
	}
	file := f.Name()
	defer os.Remove(file)
	_, err = f.Write(key)
	if err = errors.Join(err, f.Close()); err != nil {
		return err
	}
	w := static.NewWrapper()
	if _, err := w.SetConfig(ctx, wrapping.WithConfigMap(map[string]string{"current_key_id": keyID, "current_key": "file://" + file})); err != nil {
		return fmt.Errorf("OpenBao's static seal refuses the key: %w", err)
	}
	blob, err := w.Encrypt(ctx, []byte("root key"))
	if err != nil {
		return err
	}
	got, err := w.Decrypt(ctx, blob)
	if err != nil || string(got) != "root key" {
		return fmt.Errorf("the static seal does not decrypt what it encrypted: %v", err)
	}
	return nil
}
