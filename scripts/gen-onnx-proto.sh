#!/usr/bin/env bash
# Regenerates Sources/CSSImport/ONNX/onnx.pb.swift from ONNX's own onnx.proto.
#
# The generated file is committed; CI never runs this script. Run it only when moving to a new
# ONNX schema or a new swift-protobuf release.
#
# Inputs (override with environment variables):
#   ONNX_PROTO        path to onnx.proto (default: the one shipped in the onnx pip package of
#                     the tooling venv, scripts/pyenv.sh)
#   PROTOC_GEN_SWIFT  path to protoc-gen-swift built from the same swift-protobuf version as
#                     Package.swift resolves (1.39.0 at the time of writing). If it is missing,
#                     it is built from SWIFT_PROTOBUF_DIR (a swift-protobuf checkout; default
#                     .build/swift-protobuf inside this repository, git-ignored).
#   protoc            Debian package protobuf-compiler (`apt-get install protobuf-compiler`).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/Sources/CSSImport/ONNX"

if [[ -z "${ONNX_PROTO:-}" ]]; then
    py="$("$root/scripts/pyenv.sh")"
    ONNX_PROTO="$("$py" -c 'import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), "onnx.proto"))')"
fi
[[ -f "$ONNX_PROTO" ]] || { echo "onnx.proto not found at $ONNX_PROTO" >&2; exit 1; }

SWIFT_PROTOBUF_DIR="${SWIFT_PROTOBUF_DIR:-$root/.build/swift-protobuf}"
PROTOC_GEN_SWIFT="${PROTOC_GEN_SWIFT:-$SWIFT_PROTOBUF_DIR/.build/release/protoc-gen-swift}"
if [[ ! -x "$PROTOC_GEN_SWIFT" ]]; then
    [[ -d "$SWIFT_PROTOBUF_DIR" ]] || {
        echo "protoc-gen-swift missing; clone swift-protobuf into $SWIFT_PROTOBUF_DIR" \
             "(git clone --branch 1.39.0 https://github.com/apple/swift-protobuf $SWIFT_PROTOBUF_DIR)" >&2
        exit 1
    }
    (cd "$SWIFT_PROTOBUF_DIR" && swift build -c release --product protoc-gen-swift)
fi

proto_dir="$(dirname "$ONNX_PROTO")"
mkdir -p "$out"
# The one regeneration command:
protoc --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
       --swift_opt=Visibility=Internal \
       --swift_out="$out" \
       --proto_path="$proto_dir" \
       "$proto_dir/onnx.proto"
echo "wrote $out/onnx.pb.swift"
