#!/usr/bin/env bash
# Builds the tools `make e2e` runs, from the Go module proxy, into a cache
# outside the repository (E2E_CACHE, default
# ${XDG_CACHE_HOME:-~/.cache}/camps-infra-e2e), once per version: a tool is
# rebuilt only when its module here (go.mod, go.sum) changes. The versions
# are pinned in one place, the go.mod of each directory beside this script,
# where Renovate's gomod manager sees them:
#
#   pulumi/             the Pulumi CLI (github.com/pulumi/pulumi/pkg/v3), at
#                       the version of the SDK in the program's go.mod
#   pulumi-kubernetes/  the Kubernetes provider plugin, stamped with the
#                       version of the Kubernetes SDK in the program's go.mod
#   kubernetes/         kube-apiserver, kube-controller-manager and kubectl
#
# etcd comes from Debian (package etcd-server), installed when missing.
# Cold, on 2 cores: about 20 minutes; afterwards a no-op.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/camps-infra-e2e}"
bin="$cache/bin"
mkdir -p "$bin"

# modversion DIR MODULE prints the version of MODULE that the module in DIR requires.
modversion() { (cd "$1" && go list -m -f '{{.Version}}' "$2"); }

# built NAME DIR VERSION prints the directory of a build of the tool module
# in DIR: named by its version and a hash of its go.mod and go.sum.
built() {
	local sum
	sum="$(cat "$2/go.mod" "$2/go.sum" | sha256sum | cut -c1-12)"
	echo "$cache/$1-$3-$sum"
}

# install DEST BINARY... links each binary of DEST into the cache's bin/.
install() {
	local dest="$1"
	shift
	for b in "$@"; do
		ln -sfn "$dest/$b" "$bin/$b"
	done
}

step() { printf 'e2e-tools: %s\n' "$*"; }

# The Pulumi CLI at the SDK's version: the engine and the program's SDK
# then agree on every protocol detail.
sdk="$(modversion "$root" github.com/pulumi/pulumi/sdk/v3)"
cli="$(modversion "$here/pulumi" github.com/pulumi/pulumi/pkg/v3)"
if [ "$sdk" != "$cli" ]; then
	echo "e2e-tools: e2e/tools/pulumi pins the CLI at $cli, the program's SDK is $sdk: bump both together" >&2
	exit 1
fi
dest="$(built pulumi "$here/pulumi" "$cli")"
if [ ! -x "$dest/pulumi" ]; then
	step "building the Pulumi CLI $cli (about 4 minutes)"
	(cd "$here/pulumi" && go build -trimpath -o "$dest.tmp/pulumi" \
		-ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$cli" \
		github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
	mv "$dest.tmp" "$dest"
fi
install "$dest" pulumi
step "pulumi $cli: $dest"

# The Kubernetes provider. Its module lacks the two files its main package
# embeds (upstream generates them before a release), so its command
# directory is copied beside a copy of the tool module, the files are made
# by its own generate.go, and the copy is built. It is stamped with the
# version the program's Kubernetes SDK asks the engine for.
k8ssdk="$(modversion "$root" github.com/pulumi/pulumi-kubernetes/sdk/v4)"
k8sprov="$(modversion "$here/pulumi-kubernetes" github.com/pulumi/pulumi-kubernetes/provider/v4)"
dest="$(built pulumi-kubernetes "$here/pulumi-kubernetes" "${k8ssdk}-${k8sprov##*-}")"
if [ ! -x "$dest/pulumi-resource-kubernetes" ]; then
	step "building the Kubernetes provider $k8ssdk (module $k8sprov; about 7 minutes)"
	src="$(cd "$here/pulumi-kubernetes" && go mod download -json github.com/pulumi/pulumi-kubernetes/provider/v4 | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
	work="$dest.src"
	rm -rf "$work"
	mkdir -p "$work"
	cp "$src/cmd/pulumi-resource-kubernetes/"* "$here/pulumi-kubernetes/go.mod" "$here/pulumi-kubernetes/go.sum" "$work/"
	chmod -R u+w "$work"
	(cd "$work" && VERSION="${k8ssdk#v}" go run generate.go &&
		go build -trimpath -o "$dest.tmp/pulumi-resource-kubernetes" \
			-ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${k8ssdk#v}" .)
	rm -rf "$work"
	mv "$dest.tmp" "$dest"
fi
install "$dest" pulumi-resource-kubernetes
step "pulumi-resource-kubernetes $k8ssdk: $dest"

# kube-apiserver, kube-controller-manager and kubectl.
kube="$(modversion "$here/kubernetes" k8s.io/kubernetes)"
dest="$(built kubernetes "$here/kubernetes" "$kube")"
if [ ! -x "$dest/kubectl" ]; then
	for cmd in kube-apiserver kube-controller-manager kubectl; do
		step "building $cmd $kube (kube-apiserver about 9 minutes, kube-controller-manager 6, kubectl 1)"
		(cd "$here/kubernetes" && go build -trimpath -o "$dest.tmp/$cmd" \
			-ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$kube" \
			"k8s.io/kubernetes/cmd/$cmd")
	done
	mv "$dest.tmp" "$dest"
fi
install "$dest" kube-apiserver kube-controller-manager kubectl
step "kubernetes $kube: $dest"

# etcd from Debian.
if ! command -v etcd >/dev/null 2>&1; then
	step "installing etcd-server from Debian"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
fi
ln -sfn "$(command -v etcd)" "$bin/etcd"
step "etcd $(etcd --version 2>/dev/null | sed -n 's/^etcd Version: //p'): $(command -v etcd)"
step "tools ready in $bin"
