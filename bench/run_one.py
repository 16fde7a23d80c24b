"""Child process of `python -m bench`: run one measurement module and write its lines as JSON."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from bench.common import setup_django


def main() -> int:
    module_path, size, out = sys.argv[1:4]
    setup_django()
    module = importlib.import_module(module_path)
    lines = module.measure(size)
    Path(out).write_text(json.dumps(lines, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
