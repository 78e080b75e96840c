"""The example outputs of README.md and docs/*.md, produced by running the code behind them.

Each output block in the markdown follows a marker line ``<!-- output: NAME -->``; NAME is a
key of :data:`EXAMPLES`, whose function runs the code and returns the text. The test
(tests/test_docs_examples.py) compares each block with a fresh run, after :func:`normalise`
(only what varies from run to run: durations, ids, ports, paths); ``--write`` puts the fresh
runs into the markdown, so updating every example is one command::

    python -m tests.docs_examples --write        # or: make docs-examples
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
MARKER = re.compile(
    r"^<!-- output: (?P<name>[\w-]+) -->\n```(?P<lang>\w*)\n(?P<body>.*?)^```$", re.M | re.S
)
README_EXAMPLE = ROOT / "tests" / "examples" / "test_readme_example.py"
#: What varies from run to run, and what stands for it in a comparison.
_VARYING = (
    (re.compile(r"took \d+(\.\d+)? s\b"), "took N s"),
    (re.compile(r"\bin \d+\.\d+s\b"), "in Ns"),
    (re.compile(r"task-unified-\d+-\w+"), "task-unified-ID"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
)


@dataclass(frozen=True)
class Block:
    """One marked output block of a markdown file."""

    path: Path
    name: str
    body: str
    start: int  # offset of the body in the file
    end: int


def blocks(path: Path) -> Iterator[Block]:
    """The marked output blocks of ``path``, in order."""
    text = path.read_text()
    for found in MARKER.finditer(text):
        yield Block(
            path=path,
            name=found["name"],
            body=found["body"],
            start=found.start("body"),
            end=found.end("body"),
        )


def normalise(text: str) -> str:
    """``text`` with what varies between runs replaced by placeholders."""
    for pattern, placeholder in _VARYING:
        text = pattern.sub(placeholder, text)
    return text


# -- the examples ----------------------------------------------------------------------------


def assertion_failure() -> str:
    """What ``assert_all_requests_valid`` says of a create without its video URL."""
    import httpx

    from sora_mock import mock
    from sora_mock.errors import ContractViolation

    with mock(seed=1) as api:
        httpx.post(
            f"{api.base_url}/v1/videos/generations",
            json={"model": "sora-character"},
            headers={"Authorization": "Bearer sk-test"},
        )
        try:
            api.assert_all_requests_valid()
        except ContractViolation as exc:
            lines = f"{type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()
            return "".join(f"E   {line}\n" for line in lines)
    raise AssertionError("the invalid create was accepted")


def _pytest_coverage(*options: str) -> str:
    """The coverage section of a pytest run of the README's example tests."""
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "test_example.py").write_text(README_EXAMPLE.read_text())
        out = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *options],
            cwd=work,
            capture_output=True,
            text=True,
            env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
            check=False,
        ).stdout
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if "sora-mock contract coverage" in line)
    last = next(i for i in range(first + 1, len(lines)) if lines[i].startswith("==="))
    return "".join(f"{line}\n" for line in lines[first:last])


def coverage_summary() -> str:
    """The default summary after the README's example tests."""
    return _pytest_coverage()


def coverage_full() -> str:
    """``--sora-coverage=full`` after the README's example tests."""
    return _pytest_coverage("--sora-coverage=full")


def config_error() -> str:
    """``sora-mock serve --config bad.yaml`` on a scenario answering an undocumented status.

    Run with ``--port 0``: the file is refused before any port is taken, and were it not, the
    server would start on a free port (and be stopped by the timeout).
    """
    bad = "scenarios:\n  - name: teapot\n    create:\n      response: {status: 418}\n"
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "bad.yaml").write_text(bad)
        out = subprocess.run(
            [sys.executable, "-m", "sora_mock", "serve", "--config", "bad.yaml", "--port", "0"],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    return f"$ sora-mock serve --config bad.yaml\n{out.stderr}"


def _conformance(client_name: str, details: int) -> str:
    from sora_mock.conformance import check_client
    from tests.conformance_clients import load_example

    client = load_example(client_name).conformance_client
    text = check_client(client).to_text(details=details).replace(f"{ROOT}/", "")
    return text if text.endswith("\n") else text + "\n"


def conformance_polite() -> str:
    """``check_client(polite_client.conformance_client).to_text()``."""
    return _conformance("polite_client", details=3)


def conformance_naive() -> str:
    """``check_client(naive_client.conformance_client).to_text(details=1)``."""
    return _conformance("naive_client", details=1)


EXAMPLES: dict[str, Callable[[], str]] = {
    "assertion-failure": assertion_failure,
    "coverage-summary": coverage_summary,
    "coverage-full": coverage_full,
    "config-error": config_error,
    "conformance-polite": conformance_polite,
    "conformance-naive": conformance_naive,
}
#: Examples that take more than a few seconds (the test marks them slow).
SLOW = frozenset({"conformance-polite", "conformance-naive"})


def write(names: set[str] | None = None) -> list[str]:
    """Put fresh runs into every marked block (or those named); the blocks changed."""
    fresh: dict[str, str] = {}
    changed = []
    for path in DOCS:
        text = path.read_text()
        for block in reversed(list(blocks(path))):
            if names and block.name not in names:
                continue
            if block.name not in fresh:
                fresh[block.name] = EXAMPLES[block.name]()
            if normalise(fresh[block.name]) != normalise(block.body):
                text = text[: block.start] + fresh[block.name] + text[block.end :]
                changed.append(f"{path.relative_to(ROOT)}: {block.name}")
        path.write_text(text)
    return changed


def main(argv: list[str] | None = None) -> int:
    """``--write [NAME ...]``: update the blocks; without it, print the examples."""
    parser = argparse.ArgumentParser(prog="python -m tests.docs_examples", description=__doc__)
    parser.add_argument("--write", action="store_true", help="update the markdown files")
    parser.add_argument(
        "names", nargs="*", help=f"examples to run (default all: {', '.join(EXAMPLES)})"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(EXAMPLES))
    if unknown:
        parser.error(f"unknown example(s): {', '.join(unknown)}")
    if args.write:
        for line in write(set(args.names) or None):
            print(f"updated {line}")
        return 0
    for name in args.names or EXAMPLES:
        print(f"--- {name}\n{EXAMPLES[name]()}", end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
