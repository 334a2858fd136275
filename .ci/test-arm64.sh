#!/usr/bin/env bash
# make test-arm64: runs the linux/arm64 binary under qemu-user with the arm64 ONNX Runtime of the
# pinned npm package. Timings under emulation mean nothing and are not gated; correctness is.
#
# ONNX Runtime's CPU detection (cpuinfo) parses /proc/cpuinfo at load time and crashes on the
# x86 host's text, so the test runs in a private mount namespace with a Raspberry Pi 5
# (Cortex-A76) /proc/cpuinfo bound over the real one. That needs root (unshare -m; sudo if not root).
set -euo pipefail
cd "$(dirname "$0")/.."
ORT_ARCH=arm64 ./.ci/ort.sh >/dev/null
lib=$PWD/.cache/onnxruntime/1.30.0/arm64/libonnxruntime.so.1
bin=$PWD/dist/tailgate-linux-arm64
[ -x "$bin" ] || { echo "test-arm64: $bin missing; run 'make dist'" >&2; exit 2; }
command -v qemu-aarch64-static >/dev/null || { echo "test-arm64: qemu-aarch64-static missing (apt-get install qemu-user-static)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq 0 $(($(nproc) - 1))); do
  printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x4\nCPU part\t: 0xd0b\nCPU revision\t: 1\n\n' "$i"
done > "$work/cpuinfo"
printf 'Revision\t: d04170\nModel\t\t: Raspberry Pi 5 Model B Rev 1.0\n' >> "$work/cpuinfo"

cat > "$work/steps.sh" <<STEPS
set -euo pipefail
mount --bind "$work/cpuinfo" /proc/cpuinfo
q() { qemu-aarch64-static -L /usr/aarch64-linux-gnu "$bin" "\$@"; }
echo "--- tailgate version (arm64)"
q version --ort-lib "$lib" | tee "$work/version.txt"
grep -q '^onnxruntime 1.30.0$' "$work/version.txt"
grep -q 'sha256  1f549d46250b005580b597f4164984aaf75b3bcb9f3aeb07c7f8a8fe60b23c76' "$work/version.txt"
for r in a b; do
  echo "--- tailgate run vision-int8 (\$r)"
  q run --ort-lib "$lib" --model fixtures/models/vision-int8.onnx --input x=1x3x96x96 \
    --warmup 5 --iterations 300 --interval 1s --quiet --out "$work/\$r"
done
echo "--- tailgate compare"
set +e
q compare "$work/a" "$work/b" --threshold 'p50 < +50%' --threshold 'p99 < +100%'
rc=\$?
set -e
case \$rc in 0|1|4) echo "compare exit \$rc (emulated timings are not gated)";; *) echo "compare failed: exit \$rc" >&2; exit 1;; esac
STEPS
if [ "$(id -u)" = 0 ]; then unshare -m bash "$work/steps.sh"; else sudo unshare -m bash "$work/steps.sh"; fi
echo "test-arm64: ok"
