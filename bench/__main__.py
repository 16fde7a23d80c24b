"""Run the registered measurements, one subprocess each, print a table, write var/bench/latest.json.

    python -m bench --size province|national [--only bulk_import,recompute]

Each module runs in its own process so that its peak memory (ru_maxrss) is its own. A module may
report its own ``peak_mib`` per line (e.g. when it runs the measured work in a child); otherwise
the runner fills in the peak of the module's process.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import registry
from bench.common import SIZES, VAR_BENCH, database_url, format_line, header_line, use_size_database


def run_module(module: str, size: str) -> list[dict]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    process = subprocess.Popen([sys.executable, "-m", "bench.run_one", module, size, out])
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    try:
        lines = json.loads(Path(out).read_text() or "[]")
    except json.JSONDecodeError:
        lines = []
    finally:
        Path(out).unlink(missing_ok=True)
    if process.returncode != 0:
        return [{"name": module.rsplit(".", 1)[-1], "error": f"exit code {process.returncode}"}]
    for line in lines:
        if line.get("peak_mib") is None:
            line["peak_mib"] = round(peak, 1)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--size", choices=sorted(SIZES), default="province")
    parser.add_argument("--only", default="", help="comma-separated module names, e.g. bulk_import,recompute")
    args = parser.parse_args(argv)
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    modules = [m for m in registry.MEASUREMENTS if not wanted or m.rsplit(".", 1)[-1] in wanted]
    use_size_database(args.size)
    print(f"# {args.size} on {database_url().rsplit('@', 1)[-1]}", flush=True)
    print(header_line(), flush=True)
    results = []
    for module in modules:
        for line in run_module(module, args.size):
            results.append(line)
            print(format_line(line), flush=True)
    VAR_BENCH.mkdir(parents=True, exist_ok=True)
    report = {
        "size": args.size,
        "finished_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "database": database_url().rsplit("@", 1)[-1],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "lines": results,
    }
    (VAR_BENCH / "latest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 1 if any("error" in line for line in results) else 0


if __name__ == "__main__":
    sys.exit(main())
