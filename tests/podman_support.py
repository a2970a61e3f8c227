"""Rootful podman for the container tests: a local base image, image builds, containers.

No image registry is reachable from the test machines, so the base image is made here:
``debootstrap --variant=minbase`` of the machine's Debian release, plus Debian's Python
3.11 with ``venv`` (a ``python`` on the PATH, as ``python:3.11-slim`` has) and the
certificate authorities this machine trusts. It is built once and kept in a podman store
of its own under the user's cache folder, like the images built from it.

Every podman call passes ``--root``/``--runroot`` (that store), ``--runtime runc`` (crun
cannot set the sandbox's rlimits) and, for containers, rlimits the sandbox accepts; the
containers use the host's network, on high ports.

Only the standard library: `make setup` builds the base image with the system's Python,
beside the venv's install (``scripts/ensure_services.sh``), so a fresh machine does not
wait for it in the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STORE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ai-migration-kit/podman"
BASE_IMAGE = "localhost/kit-base-py311:bookworm"
ROOTFS_IMAGE = "localhost/kit-bookworm-min:latest"
ULIMITS = ("--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768")
#: The local base on top of debootstrap's rootfs: what python:3.11-slim gives an image.
_BASE_CONTAINERFILE = f"""FROM {ROOTFS_IMAGE}
COPY certificates/ /usr/local/share/ca-certificates/
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\
      python3 python3-venv ca-certificates \\
 && update-ca-certificates \\
 && ln -s /usr/bin/python3 /usr/local/bin/python \\
 && rm -rf /var/lib/apt/lists/*
"""


def missing_tools() -> list[str]:
    return [tool for tool in ("podman", "runc", "debootstrap") if shutil.which(tool) is None]


def podman(
    *args: str, timeout: float = 1200, check: bool = True
) -> subprocess.CompletedProcess[str]:
    command = [
        "podman",
        "--root",
        str(STORE / "root"),
        "--runroot",
        str(STORE / "runroot"),
        "--runtime",
        "runc",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[7:9])} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def image_exists(ref: str) -> bool:
    return podman("image", "exists", ref, check=False).returncode == 0


def _debian_mirror() -> str:
    """The Debian mirror apt uses here (other repositories in the sources are skipped)."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            words = line.split()
            if line.startswith("URIs:") or line.startswith("deb "):
                for uri in words[1:]:
                    if "://" in uri and uri.rstrip("/").endswith("/debian"):
                        return uri
    return "http://deb.debian.org/debian"


def ensure_base_image() -> str:
    """The local base image (built on the first call on a machine, then reused)."""
    if image_exists(BASE_IMAGE):
        return BASE_IMAGE
    STORE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kit-base-", dir=STORE) as tmp:
        work = Path(tmp)
        if not image_exists(ROOTFS_IMAGE):
            rootfs = work / "rootfs"
            subprocess.run(
                ["debootstrap", "--variant=minbase", "bookworm", str(rootfs), _debian_mirror()],
                check=True,
                capture_output=True,
                timeout=900,
            )
            subprocess.run(
                ["tar", "-C", str(rootfs), "-cf", str(work / "rootfs.tar"), "."], check=True
            )
            podman("import", str(work / "rootfs.tar"), ROOTFS_IMAGE)
        context = work / "base"
        (context / "certificates").mkdir(parents=True)
        for cert in Path("/usr/local/share/ca-certificates").glob("*.crt"):
            shutil.copy(cert, context / "certificates" / cert.name)
        (context / "Containerfile").write_text(_BASE_CONTAINERFILE)
        podman("build", "--network=host", "-t", BASE_IMAGE, str(context))
    return BASE_IMAGE


def download_wheels(image: str) -> Path:
    """Every wheel ``image``'s requirements name, in a cache shared by the builds (this
    machine's pip configuration: its local wheel folders first, so torch is the local
    CPU wheel)."""
    wheels = STORE / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    requirements = REPO / f"compose/docker/{image}/requirements.txt"
    python = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin/python"
    subprocess.run(
        [str(python), "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", str(wheels),
         "-r", str(requirements)],
        check=True, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    return wheels


def build_context(image: str, dest: Path) -> Path:
    """A copy of the repository's build context for ``image``, with every wheel it installs
    downloaded into ``compose/docker/wheels`` (this machine's pip configuration: its
    local wheel folders first, so torch is the local CPU wheel) for an offline build."""
    ignore = shutil.ignore_patterns(".git", ".venv", "var", "reports", "__pycache__", "*.pyc")
    for name in ("compose", "contracts", "eventbus", "riskmodel", "datagen", "service_runtime",
                 "legacy_monolith", "strangler_proxy", "extracted_services"):  # fmt: skip
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    wheels = dest / "compose/docker/wheels"
    for wheel in download_wheels(image).glob("*.whl"):
        try:
            os.link(wheel, wheels / wheel.name)  # the cache is on the same file system
        except OSError:
            shutil.copy(wheel, wheels / wheel.name)
    return dest


def build_image(image: str, tag: str) -> float:
    """Build ``image`` from the local base with no index; the seconds it took."""
    base = ensure_base_image()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"kit-ctx-{image}-", dir=STORE) as tmp:
        context = build_context(image, Path(tmp))
        podman(
            "build", "--format", "docker", "--network=host",
            "--build-arg", f"BASE_IMAGE={base}", "--build-arg", "PIP_NO_INDEX=1",
            "-f", str(context / f"compose/docker/{image}/Dockerfile"), "-t", tag, str(context),
        )  # fmt: skip
    return time.monotonic() - started


def run_container(name: str, image: str, env: dict[str, str], mounts: dict[Path, str]) -> None:
    podman("rm", "-f", "-t", "0", name, check=False)
    args = ["run", "-d", "--name", name, "--network=host", "--init", *ULIMITS]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    for source, target in mounts.items():
        args += ["-v", f"{source}:{target}:ro"]
    result = podman(*args, image, check=False)
    if result.returncode != 0 and "systemd" in result.stderr:
        # podman schedules HEALTHCHECKs with systemd timers; without systemd (a sandbox)
        # run without them, and run the check by hand (``run_healthcheck``).
        podman("rm", "-f", "-t", "0", name, check=False)
        result = podman(*args, "--no-healthcheck", image, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"podman run {name} failed:\n{result.stderr[-3000:]}")


def run_healthcheck(name: str, image: str) -> subprocess.CompletedProcess[str]:
    """Run the image's own HEALTHCHECK command in the running container."""
    test = json.loads(
        podman("image", "inspect", "-f", "{{json .Config.Healthcheck.Test}}", image).stdout
    )
    if not test or test[0] not in ("CMD", "CMD-SHELL"):
        raise AssertionError(f"{image} has no HEALTHCHECK ({test})")
    command = test[1:] if test[0] == "CMD" else ["sh", "-c", test[1]]
    return podman("exec", name, *command, check=False)


def logs(name: str) -> str:
    result = podman("logs", "--tail", "40", name, check=False)
    return result.stdout + result.stderr


def stop_container(name: str) -> None:
    podman("rm", "-f", "-t", "5", name, check=False)


def wait_http(url: str, name: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        state = podman("inspect", "-f", "{{.State.Status}}", name, check=False).stdout.strip()
        if state in ("exited", "stopped"):
            raise RuntimeError(f"container {name} {state}:\n{logs(name)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - 127.0.0.1
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = type(exc).__name__
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout:.0f}s ({last}):\n{logs(name)}")
