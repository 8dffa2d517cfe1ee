"""Print mutmut's score per module: `mutmut results --all true` lines `  gs1.keys.x_check_digit__mutmut_3: killed`.

The modules are those of [tool.mutmut] source_paths (gs1/ and graph's pure rule modules); a module under the
target (TARGET of its checked mutants killed, issue 21) is marked.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict

TARGET = 0.85


def main() -> int:
    """Read mutmut's results and print killed / total per module, then the whole; exit 0."""
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], capture_output=True, text=True,
                         check=False).stdout
    per: dict[str, Counter] = defaultdict(Counter)
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if not sep or "__mutmut_" not in name:
            continue
        module = name.split("__mutmut_")[0].rsplit(".", 1)[0]
        per[module][status.strip()] += 1
    total = Counter()
    for module in sorted(per):
        counts = per[module]
        total += counts
        print(f"{module:32} {_score(counts)}{_mark(counts)}")
    print(f"{'all':32} {_score(total)}")
    return 0


def _mark(counts: Counter) -> str:
    done = sum(counts.values())
    return f"  <- under {TARGET:.0%}" if done and (counts["killed"] + counts["timeout"]) / done < TARGET else ""


def _score(counts: Counter) -> str:
    done = sum(counts.values())
    killed = counts["killed"] + counts["timeout"]
    rest = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k not in ("killed", "timeout"))
    return f"{killed}/{done} killed ({killed / done:.0%})" + (f"; {rest}" if rest else "") if done else "no mutants"


if __name__ == "__main__":
    sys.exit(main())
