"""Run the docs' blocks: one :class:`DocRun` per Markdown file, its blocks in order.

Console blocks share one environment per file (an ``export`` line sets a variable for the later
commands; a ``console server`` block keeps its server running until the file is done), so a page
that says "start the server, then in another shell ..." is run exactly so. The port ``8900`` in
the docs becomes a free port picked at run time.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from b2_storage.emulator import LocalB2
from tests.services import free_port

from .blocks import ROOT, Block, Command, commands, doc_files, missing_output, parse

DOC_PORTS = ("8900", "8000")  # the local B2 server's and the site's ports in the docs
BIN = str(Path(sys.executable).parent)
HATCH = re.compile(r"^hatch run (?:([\w-]+):)?(\S+)(.*)$")
TOOLS = {"python", "pytest", "b2", "django-admin", "uvicorn"}
BUCKET = re.compile(r"""["']bucket["']\s*:\s*["']([a-z0-9-]+)["']|--bucket[ =]([a-z0-9-]+)""")
ROUND_TRIP = """
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from b2_storage import B2Storage

for alias in settings.STORAGES:
    storage = storages[alias]
    if isinstance(storage, B2Storage):
        name = storage.save("docs-check/hello.txt", ContentFile(b"hello from the docs"))
        with storage.open(name) as handle:
            assert handle.read() == b"hello from the docs", alias
        print("round trip", alias, name, storage.url(name))
        storage.delete(name)
"""


class DocFailure(AssertionError):
    """A block of the docs did not do what the docs say."""


class DocRun:
    """Run the blocks of one Markdown file against ``server``."""

    def __init__(self, server: LocalB2, workdir: Path, redis_url: str) -> None:
        self.server = server
        self.workdir = workdir
        self.ports = {port: str(free_port()) for port in DOC_PORTS}
        self.named: dict[str, str] = {}
        self.background: list[subprocess.Popen[str]] = []
        self.in_process: dict[str, Callable[[Block], None]] = {}
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(ROOT),
            "HOME": str(workdir / "home"),
            "B2_REALM": server.realm,
            "B2_APPLICATION_KEY_ID": server.application_key_id,
            "B2_APPLICATION_KEY": server.application_key,
            "REDIS_URL": redis_url,
            "PYTHONUNBUFFERED": "1",
            "EXAMPLE_B2_REALM": server.realm,
            "EXAMPLE_B2_KEY_ID": server.application_key_id,
            "EXAMPLE_B2_KEY": server.application_key,
            "EXAMPLE_PUBLIC_BUCKET": "docs-example-public",
            "EXAMPLE_PRIVATE_BUCKET": "docs-example-private",
            "EXAMPLE_VAR_DIR": str(workdir / "example-var"),
        }
        # What the docs ask the reader to set (their keys, their buckets) is set here instead.
        self.provided = {key for key in self.env if key.startswith(("B2_", "EXAMPLE_", "REDIS"))}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.ensure_buckets("--bucket=docs-example-public --bucket=docs-example-private")
        (workdir / "home").mkdir(exist_ok=True)

    def close(self) -> None:
        for process in self.background:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()

    def ensure_buckets(self, text: str) -> None:
        """Create, on the shared local server, every bucket a block names."""
        for match in BUCKET.finditer(text):
            name = match.group(1) or match.group(2)
            kind = "allPublic" if ("static" in name or "public" in name) else "allPrivate"
            try:
                self.server.create_bucket(name, kind)
            except Exception as exc:  # already there from an earlier block
                if "already" not in str(exc) and "duplicate" not in str(exc):
                    raise

    def run(self, block: Block) -> None:
        handler = self.in_process.get(block.kind) or getattr(
            self, "run_" + block.kind.replace("-", "_"), None
        )
        if handler is None:
            raise DocFailure(f"{block.where}: no directive; say how it runs (see tests/docs)")
        handler(block)

    # -- the kinds -------------------------------------------------------------------------------

    def run_output(self, block: Block) -> None:
        if block.lang not in ("", "text", "diff"):
            raise DocFailure(f"{block.where}: a ```{block.lang} block is code: run it")

    def run_covered_by(self, block: Block) -> None:
        texts = []
        for target in block.args:
            path, _, test = target.partition("::")
            source = ROOT / path
            if not source.is_file():
                raise DocFailure(f"{block.where}: covered by {path}, which does not exist")
            text = source.read_text(encoding="utf-8")
            if test and not re.search(rf"^\s*(async )?def {re.escape(test)}\(", text, re.M):
                raise DocFailure(f"{block.where}: {path} has no test {test}")
            texts.append(text)
        if not texts:
            raise DocFailure(f"{block.where}: covered-by names no test")
        for command in commands(block):
            literal = command.line.split("  #")[0].strip()
            words = shlex.split(self.localize(command.line, block))[1:]
            if not any(
                literal in text or (words and all(f'"{word}"' in text for word in words))
                for text in texts
            ):
                raise DocFailure(f"{block.where}: no named test runs {command.line!r}")

    def run_settings(self, block: Block) -> None:
        text = block.text
        if "after" in block.options:
            text = self.named.get(block.options["after"]) or named_block(block.options["after"])
            text += block.text
        if "name" in block.options:
            self.named[block.options["name"]] = text
        self.ensure_buckets(text)
        project = self.workdir / f"project-{block.line}"
        project.mkdir()
        self.shell(f"{sys.executable} -m django startproject mysite {project}", block)
        settings = project / "mysite" / "settings.py"
        settings.write_text(settings.read_text() + "\n" + text, encoding="utf-8")
        manage = f"{sys.executable} {project / 'manage.py'}"
        bare = {k: v for k, v in self.env.items() if not k.startswith("B2_")}
        unset = self.shell(f"{manage} check", block, env=bare, check=False)
        if "Traceback" in unset.stderr:
            raise DocFailure(f"{block.where}: without B2_* set, check crashes:\n{unset.stderr}")
        self.shell(f"{manage} check", block)
        self.shell(f"{manage} migrate --no-input -v 0", block)
        done = self.shell(f"{manage} shell -c {shlex.quote(ROUND_TRIP)}", block)
        if "round trip" not in done.stdout and "B2Storage" in text:
            raise DocFailure(f"{block.where}: no B2 storage in these settings:\n{done.stdout}")

    def run_pytest(self, block: Block) -> None:
        self.ensure_buckets(block.text)
        folder = self.workdir / f"pytest-{block.line}"
        folder.mkdir()
        (folder / "pytest.ini").write_text("[pytest]\n")
        (folder / "test_doc_block.py").write_text(block.text, encoding="utf-8")
        self.shell(
            f"{sys.executable} -m pytest -q -p no:cacheprovider -p no:randomly "
            f"--ds=tests.settings --rootdir={folder} -c {folder / 'pytest.ini'} {folder}",
            block,
        )

    def run_console(self, block: Block) -> None:
        found = commands(block)
        if not found:
            raise DocFailure(f"{block.where}: a console block with no '$ ' command")
        if "server" in block.args:
            if len(found) != 1:
                raise DocFailure(f"{block.where}: a server block runs one command")
            self.start_server(block, found[0])
            return
        for command in found:
            line = self.localize(command.line, block)
            if line.startswith("export "):
                for assignment in shlex.split(line)[1:]:
                    key, _, value = assignment.partition("=")
                    if key not in self.provided:
                        self.env[key] = value
                continue
            self.ensure_buckets(line)
            result = self.shell(line, block)
            self.expect(block, command, result.stdout + result.stderr)

    # -- helpers ---------------------------------------------------------------------------------

    def localize(self, line: str, block: Block) -> str:
        """Return ``line`` on this run's ports, a ``hatch run`` prefix run in this environment."""
        for port, free in self.ports.items():
            line = line.replace(port, free)
        command = line.split("  #")[0].strip()
        found = HATCH.match(command)
        if found is None:
            return command
        env, word, rest = found.groups()
        if word in TOOLS:
            return word + rest
        script = hatch_scripts().get((env or "default", word))
        if script is None:
            raise DocFailure(f"{block.where}: {line!r}: hatch.toml has no such script")
        return script.replace("{args}", rest.strip())

    def on_ports(self, text: str) -> str:
        for port, free in self.ports.items():
            text = text.replace(port, free)
        return text

    def expect(self, block: Block, command: Command, output: str) -> None:
        shown = tuple(self.on_ports(line) for line in command.shown)
        missing = missing_output(shown, output)
        if missing:
            raise DocFailure(
                f"{block.where}: {command.line!r} did not print {missing!r}; it printed:\n{output}"
            )

    def shell(
        self, line: str, block: Block, *, env: dict[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["bash", "-c", line],
            cwd=ROOT,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise DocFailure(
                f"{block.where}: {line!r} exited with {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def start_server(self, block: Block, command: Command, seconds: float = 30) -> None:
        line = self.localize(command.line, block)
        if "--data-dir" in line:  # a fresh data dir per run
            line = re.sub(r"--data-dir\s+\S+", f"--data-dir {self.workdir / 'b2-data'}", line)
        process = subprocess.Popen(
            ["bash", "-c", f"exec {line}"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.background.append(process)
        output = self._read_until(process, command, seconds)
        self.expect(block, command, output)
        for found in re.finditer(r"^export (\w+)=(\S+)$", output, re.M):
            self.env[found.group(1)] = found.group(2)

    def _read_until(self, process: subprocess.Popen[str], command: Command, seconds: float) -> str:
        """Return the output of ``process`` once it shows the command's lines (or time is up)."""
        lines: queue.Queue[str] = queue.Queue()
        stream = process.stdout
        assert stream is not None
        threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
        seen: list[str] = []
        wanted = tuple(self.on_ports(line) for line in command.shown)
        deadline = time.monotonic() + seconds
        while missing_output(wanted, "".join(seen)):
            try:
                seen.append(lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return "".join(seen)


def exec_python(block: Block, namespace: dict[str, Any]) -> None:
    """Execute a python block in ``namespace`` (its prelude first), as a module would be."""
    prelude = block.options.get("prelude", "")
    code = compile(prelude + "\n" + block.text, block.where, "exec")
    exec(code, namespace)  # noqa: S102 - the docs' own code, run as the reader would run it


@functools.cache
def hatch_scripts() -> dict[tuple[str, str], str]:
    """Return hatch.toml's scripts as {(environment, script): command} (one-command scripts)."""
    text = (ROOT / "hatch.toml").read_text(encoding="utf-8")
    scripts: dict[tuple[str, str], str] = {}
    env = ""
    for line in text.splitlines():
        header = re.match(r"^\[envs\.([\w-]+)\.scripts\]", line)
        if header:
            env = header.group(1)
            continue
        if line.startswith("["):
            env = ""
        entry = re.match(r'^([\w-]+)\s*=\s*"(.*)"\s*$', line)
        if env and entry:
            scripts[(env, entry.group(1))] = entry.group(2)
    return scripts


def named_block(name: str) -> str:
    """Return the text of the settings block named ``name`` in any doc (with what it follows)."""
    for path in doc_files():
        for block in parse(path):
            if block.kind == "settings" and block.options.get("name") == name:
                after = block.options.get("after")
                return (named_block(after) if after else "") + block.text
    raise DocFailure(f"no settings block is named {name!r}")
