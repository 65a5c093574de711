#!/usr/bin/env bash
# Render every overlay and validate it offline: yamllint on the sources, kubernetes-validate
# --strict (schemas of Kubernetes 1.37, unknown fields rejected) and checkov on what is rendered,
# checkov on the Dockerfiles; the observability files: promtool check and unit-test the rules,
# deploy/observability/check.py for the dashboard and the PrometheusRule.
# Usage: validate.sh KUBECTL TOOLS_BIN (promtool on the PATH)
set -euo pipefail
kubectl=$1
tools=$2
cd "$(dirname "$0")/../.."

"$tools/yamllint" --strict deploy .yamllint.yaml services/*/src/*/policies/kustomization.yaml

rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT
for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  "$kubectl" kustomize "$overlay" > "$rendered/$name.yaml"
  "$tools/kubernetes-validate" --strict --quiet "$rendered/$name.yaml"
  echo "overlay $name: $(grep -c '^kind:' "$rendered/$name.yaml") resources rendered and valid"
done

files=()
for file in "$rendered"/*.yaml Dockerfile; do files+=(-f "$file"); done
"$tools/checkov" --config-file deploy/checkov.yaml "${files[@]}"

promtool check rules deploy/observability/rules.yaml
promtool test rules deploy/observability/rules.test.yaml
"$tools/python" deploy/observability/check.py
