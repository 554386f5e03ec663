"""The browser runtime of the demo page: onnxruntime-web, vendored into the book at build time.

The demo page (``book/demo.ipynb``) runs the trained twin with onnxruntime-web, a maintained
WebAssembly runtime for ONNX models. No page of the book may load code from a CDN (it must
work offline), so the build takes the runtime's release files from the npm registry's
package, pinned by version and by the registry's sha512 integrity, and copies them into
``_static/ort/`` beside the pages, as it does for MathJax.

The package is fetched once with ``npm pack`` (Node.js's own client; the file lands in
``_build/runtime/``) and checked against :data:`INTEGRITY` every time it is used, so a
corrupt or substituted file fails the build instead of reaching a reader.

Usage: python tools/browser_runtime.py [FOLDER]   (fetch, check, and unpack into FOLDER)
"""

from __future__ import annotations

import base64
import hashlib
import pathlib
import shutil
import subprocess
import sys
import tarfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CACHE = ROOT / "_build" / "runtime"
PACKAGE = "onnxruntime-web"
VERSION = "1.20.1"
# The registry's integrity string for onnxruntime-web-1.20.1.tgz (``npm view
# onnxruntime-web@1.20.1 dist.integrity``).
INTEGRITY = "sha512-TePF6XVpLL1rWVMIl5Y9ACBQcyCNFThZON/jgElNd9Txb73CIEGlklhYR3UEr1cp5r0rbGI6nDwwrs79g7WjoA=="
# What the page loads: the WebAssembly-only bundle (no WebGPU or WebGL code, which the demo
# does not use), the module it imports, and the compiled runtime; package.json names the
# licence (MIT) and the version.
FILES = (
    "dist/ort.wasm.min.js",
    "dist/ort-wasm-simd-threaded.mjs",
    "dist/ort-wasm-simd-threaded.wasm",
    "package.json",
)
INSTALL_HINT = (
    "install Node.js and npm (Debian: apt-get install nodejs npm), which fetch it "
    f"from the npm registry: npm pack {PACKAGE}@{VERSION}"
)


def integrity_of(path: pathlib.Path) -> str:
    """The npm-style integrity string (``sha512-`` and base64) of the file at ``path``."""
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def tarball(cache: pathlib.Path | None = None) -> pathlib.Path:
    """The pinned package's tarball, fetched into ``cache`` (default :data:`CACHE`) when it
    is not there yet.

    Raises:
        RuntimeError: npm is missing or cannot fetch the package, or the file's integrity
            differs from :data:`INTEGRITY`; the message says what to do.
    """
    cache = CACHE if cache is None else cache
    path = cache / f"{PACKAGE}-{VERSION}.tgz"
    if not path.is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                f"The demo page needs {PACKAGE} {VERSION} and npm is not installed: "
                + INSTALL_HINT
            )
        cache.mkdir(parents=True, exist_ok=True)
        fetched = subprocess.run(
            [
                npm,
                "pack",
                f"{PACKAGE}@{VERSION}",
                "--pack-destination",
                str(cache),
            ],
            capture_output=True,
            text=True,
        )
        if fetched.returncode != 0 or not path.is_file():
            raise RuntimeError(
                f"npm could not fetch {PACKAGE}@{VERSION} (exit status "
                f"{fetched.returncode}): {fetched.stderr.strip()[-500:]}"
            )
    found = integrity_of(path)
    if found != INTEGRITY:
        raise RuntimeError(
            f"{path} is not the pinned {PACKAGE} {VERSION}: its integrity is {found}, "
            f"the registry's is {INTEGRITY}. Delete the file and build again."
        )
    return path


def unpack(
    target: pathlib.Path, cache: pathlib.Path | None = None
) -> dict[str, int]:
    """Copy the page's runtime files (:data:`FILES`) into ``target``; returns their sizes."""
    target.mkdir(parents=True, exist_ok=True)
    sizes = {}
    with tarfile.open(tarball(cache)) as archive:
        for name in FILES:
            member = archive.getmember(f"package/{name}")
            destination = target / pathlib.PurePosixPath(name).name
            with archive.extractfile(member) as source:
                destination.write_bytes(source.read())
            sizes[destination.name] = member.size
    return sizes


if __name__ == "__main__":
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else CACHE / "ort")
    for name, size in unpack(folder).items():
        print(f"{name:<34} {size / 1e6:6.2f} MB")
