"""`make dist-check`: build the bundle from a fresh clone of HEAD, start the built binary, see it exit cleanly."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = Path("dist") / "parley"
STARTED = re.compile(r"Parley \S+ running \(profile ")
DEMO_SERVER_UP = re.compile(r"demo server up on (http://127\.0\.0\.1:\d+)")
# The demo account's first sync stored conversations: server, seeding, keyring and connector all worked.
DEMO_SYNCED = re.compile(r"synced \d+ pages, [1-9]\d* new")
QT_PLUGINS = (
    "platforms/libqxcb.so",
    "platforms/libqoffscreen.so",
    "platforms/libqwayland.so",
    "imageformats/libqsvg.so",
    "iconengines/libqsvgicon.so",
)
# Lines in the profile's log that mean the bundle is missing a part it needs.
BAD_LOG_LINES = ("keyring unavailable", "Traceback", " ERROR ", " CRITICAL ")


class CheckFailed(Exception):
    """The bundle did not build, start or stop as a user would expect."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", type=Path, help="check this already built bundle folder instead of building one")
    parser.add_argument("--keep", action="store_true", help="keep the temporary clone, bundle and profile")
    parser.add_argument("--hold", type=float, default=4.0, help="seconds the demo window must stay up (default 4)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="parley-dist-check-"))
    started = time.monotonic()
    try:
        if args.bundle:
            bundle, version = args.bundle.resolve(), declared_version(ROOT)
        else:
            clone = fresh_clone(work / "clone")
            build_seconds = build(clone)
            say(f"built the bundle from a fresh clone in {build_seconds:.0f} s")
            bundle, version = clone / BUNDLE, declared_version(clone)
        check_bundle(bundle / "parley", version, work, hold=args.hold)
        check_desktop_install(bundle, work / "xdg-data")
    except CheckFailed as exc:
        say(f"FAILED: {exc}")
        return 1
    finally:
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    say(f"bundle OK ({time.monotonic() - started:.0f} s in all)")
    return 0


def say(text: str) -> None:
    print(f"dist-check: {text}", file=sys.stderr, flush=True)


def declared_version(root: Path) -> str:
    with (root / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def fresh_clone(target: Path) -> Path:
    """A clone of the committed HEAD: what a fresh checkout builds, without local edits or build leftovers."""
    head = run(["git", "-C", str(ROOT), "rev-parse", "HEAD"]).strip()
    run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(target)])
    run(["git", "-C", str(target), "checkout", "--quiet", "--detach", head])
    say(f"cloned {head[:12]} into {target}")
    return target


def build(clone: Path) -> float:
    started = time.monotonic()
    log = clone.parent / "make-dist.log"
    with log.open("w") as output:
        # A clean make: when this runs under another make (make test), its jobserver settings do not apply here.
        env = {key: value for key, value in os.environ.items() if key not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
        result = subprocess.run(
            ["make", "dist"], cwd=clone, env=env, stdout=output, stderr=subprocess.STDOUT, check=False
        )
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        raise CheckFailed(f"make dist failed (exit {result.returncode}); the end of its output:\n{tail}")
    return time.monotonic() - started


def run(command: list[str], **kwargs: object) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise CheckFailed(f"{' '.join(command)} failed (exit {result.returncode}): {output}")
    return str(result.stdout)


def check_bundle(exe: Path, version: str, work: Path, *, hold: float) -> None:
    if not exe.is_file():
        raise CheckFailed(f"no bundled binary at {exe}")
    check_contents(exe.parent)
    printed = run([str(exe), "--version"]).strip()
    if printed != f"Parley {version}":
        raise CheckFailed(f"`parley --version` printed {printed!r}, expected 'Parley {version}'")
    say(f"--version: {printed}")
    sys.path.insert(0, str(ROOT))
    from tests.peers.keyring_session import private_secret_service

    with private_secret_service() as keyring_env:
        env = {**os.environ, **keyring_env, "QT_QPA_PLATFORM": "offscreen"}
        env.pop("PARLEY_DATA_DIR", None)
        check_demo_server(exe, env, work)
        check_window(exe, env, work / "offscreen", demo=True, hold=hold)
        if shutil.which("Xvfb"):
            with x_server() as display:
                check_window(exe, {**env, "QT_QPA_PLATFORM": "xcb", "DISPLAY": display}, work / "xcb", hold=1)
        else:
            say("no Xvfb here: the xcb platform plugin was not started")


def check_contents(bundle: Path) -> None:
    """The files the app reads at run time, and the Qt plugins a desktop needs, are all in the bundle."""
    contents = bundle / "_internal"  # PyInstaller's contents folder (sys._MEIPASS)
    wanted = [contents / "pyproject.toml"]
    wanted += [contents / "resources" / p.relative_to(ROOT / "resources") for p in files(ROOT / "resources")]
    migrations = ROOT / "app" / "store" / "migrations"
    wanted += [contents / "app/store/migrations" / p.relative_to(migrations) for p in files(migrations)]
    plugins = contents / "PySide6" / "Qt" / "plugins"
    for plugin in QT_PLUGINS:
        wanted.append(plugins / plugin)
    missing = [str(path.relative_to(bundle)) for path in wanted if not path.is_file()]
    if missing:
        raise CheckFailed("the bundle lacks:\n  " + "\n  ".join(missing))
    say(f"contents: resources, migrations and {len(QT_PLUGINS)} Qt plugins present")


def files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts]


def check_demo_server(exe: Path, env: dict[str, str], work: Path) -> None:
    """`parley demo-server` runs the bundled mastodon-mock through the frozen binary and stops it on SIGTERM."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stderr = work / "demo-server.err"
    with stderr.open("w") as errors:
        process = subprocess.Popen(
            [str(exe), "demo-server", "--port", str(port), "--no-traffic"], env=env, stderr=errors
        )
    try:
        wait_for(lambda: answers(url), process, 120, f"the bundled demo server to answer on {url}", stderr)
        say(f"demo-server: the bundled Mastodon API answered on {url}")
        stop(process, signal.SIGTERM, "parley demo-server", stderr)
    finally:
        kill_if_running(process)
    if answers(url):
        raise CheckFailed("the demo server's mastodon-mock child kept running after parley demo-server exited")


def check_window(exe: Path, env: dict[str, str], work: Path, *, hold: float, demo: bool = False) -> None:
    """The window opens on the given Qt platform, stays up, and quits with exit code 0 on SIGTERM."""
    name = f"{'--demo' if demo else 'window'} on {env['QT_QPA_PLATFORM']}"
    work.mkdir(parents=True, exist_ok=True)
    profile = work / "profile"
    log = (work / "profile-demo" if demo else profile) / "logs" / "parley.log"  # --demo: a profile beside it
    stderr = work / "stderr"
    with stderr.open("w") as errors:
        command = [str(exe), *(["--demo"] if demo else []), "--data-dir", str(profile)]
        process = subprocess.Popen(command, env=env, stderr=errors)
    try:
        wait_for(lambda: bool(STARTED.search(read(log))), process, 120, f"the {name} to start", stderr)
        say(f"{name}: the window is up")
        if demo:
            wait_for(lambda: bool(DEMO_SYNCED.search(read(log))), process, 300, "the demo inbox to sync", stderr)
            say(f"{name}: the demo server was seeded and its conversations synced into the inbox")
        deadline = time.monotonic() + hold
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise CheckFailed(f"{name} stopped by itself (exit {process.returncode}): {read(stderr)}")
            time.sleep(0.2)
        demo_server = DEMO_SERVER_UP.search(read(log))
        stop(process, signal.SIGTERM, name, stderr)
    finally:
        kill_if_running(process)
    problems = [line for line in read(log).splitlines() if any(bad in line for bad in BAD_LOG_LINES)]
    if problems or "Traceback" in read(stderr):
        raise CheckFailed(
            f"{name}: the profile's log or stderr reports trouble:\n" + "\n".join(problems) + read(stderr)
        )
    if demo_server and answers(demo_server.group(1)):
        raise CheckFailed(f"{name}: the demo server kept running after the app quit")
    say(f"{name}: quit cleanly on SIGTERM (exit code 0), no errors in the profile's log")


@contextmanager
def x_server() -> Iterator[str]:
    """A private Xvfb display, so the bundle's xcb plugin (what a Linux desktop uses) is started for real."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp", "-screen", "0", "1280x800x24"],
        pass_fds=(write_end,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as display_fd:
            number = display_fd.readline().strip()
        if not number:
            raise CheckFailed("Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait()


def check_desktop_install(bundle: Path, data_home: Path) -> None:
    """install_desktop.sh puts a valid launcher, pointing at this bundle, and the icons under XDG_DATA_HOME."""
    env = {**os.environ, "XDG_DATA_HOME": str(data_home)}
    run([str(ROOT / "packaging" / "install_desktop.sh"), str(bundle)], env=env)
    launcher = next(data_home.glob("applications/*.desktop"), None)
    if launcher is None or f'Exec="{bundle / "parley"}"' not in launcher.read_text():
        raise CheckFailed(f"install_desktop.sh wrote no launcher for {bundle / 'parley'}")
    if not list(data_home.glob("icons/hicolor/256x256/apps/*.png")):
        raise CheckFailed("install_desktop.sh installed no 256 px icon")
    if shutil.which("desktop-file-validate"):
        run(["desktop-file-validate", str(launcher)])
    say(f"install-desktop: launcher and icons installed for {bundle / 'parley'}")


def wait_for(
    ready: Callable[[], bool], process: subprocess.Popen[bytes], timeout: float, what: str, stderr: Path
) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise CheckFailed(f"the bundle exited (code {process.returncode}) before {what}:\n{read(stderr)}")
        if time.monotonic() > deadline:
            raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}:\n{read(stderr)}")
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes], signum: int, what: str, stderr: Path) -> None:
    process.send_signal(signum)
    try:
        code = process.wait(timeout=30)
    except subprocess.TimeoutExpired as exc:
        raise CheckFailed(f"{what} did not exit within 30 s of {signal.Signals(signum).name}") from exc
    if code != 0:
        raise CheckFailed(f"{what} exited with code {code} after {signal.Signals(signum).name}:\n{read(stderr)}")


def kill_if_running(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v1/instance", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
