"""Writes docs/models.md: the shipped models' catalog (`zoo models --table`) and measured recipes"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from zoo.models import format_models_table, model_records
from zoo.registry import get_registry

OUT = Path(__file__).with_name("models.md")
MEASURED = Path(__file__).resolve().parents[1] / "recipes" / "measured.json"

INTRO = """# Models

The pretrained models in the wheel (`plugins/zoo_models/`), each loadable by name (`zoo.load(NAME)`,
`zoo upscale --model NAME`, `zoo eval --model NAME`, `init_from: {model: NAME}`). This page is
generated from their catalog by `python docs/gen_models.py` (the table is `zoo models --table`;
the `docs` nox session regenerates it and a test fails when it is stale), so it cannot drift
from what ships. Every PSNR and SSIM is measured under the published protocol (Y channel of
BT.601, `scale` pixels shaved, 8-bit output; docs/metrics.md) by the command that the model's
catalog entry records beside it (`zoo eval --model NAME --data ../shared/data/Set5/HR
--convention y --json`), and `python tools/record_metrics.py NAME` reruns those commands and
records what they print; `tests/test_shipped_models.py` reproduces every Set5 number within
0.01 dB. The published column is the paper's number under the same protocol; training minutes
are wall-clock on this project's 2-core CPU for the whole `zoo run`, with nothing else running
unless the model's training line says otherwise (`zoo models`). The networks and where they
deviate from their papers: [networks](networks.md); their crops: [the gallery](gallery.md).

```bash
zoo models --table                          # this table, from the installed models
python tools/record_metrics.py resnet_x2    # rerun one model's Set5 / Set14 commands, record them
python docs/gen_models.py                   # this page
python docs/gen_gallery.py                  # the gallery (needs ../shared/data)
zoo models --gallery models.html            # the crops of the installed models, as one page
```

"""


MEASURED_NOTE = """
The rows marked *not shipped* are per-architecture recipes in `recipes/`, each trained once by
`python tools/measure_recipe.py recipes/NAME.yaml` with nothing else on the machine. That command
times the whole `zoo run`, measures the final checkpoint with `zoo eval --checkpoint runs/NAME
--data ../shared/data/SET/HR --convention y --json` and records the numbers, with those commands,
in `recipes/measured.json`, from which this page takes them; the recipe's own header carries the
same Time and Reach lines. A design without a published figure at that scale in
../shared/data/README.md shows none.
"""


def measured_recipes(shipped: set[str]) -> list[dict]:
    """The recipes tools/measure_recipe.py trained and measured, but not shipped (a shipped
    model's row comes from its catalog), by scale, then name."""
    if not MEASURED.exists():
        return []
    entries = json.loads(MEASURED.read_text(encoding="utf-8")).values()
    rows = [entry for entry in entries if entry["name"] not in shipped]
    return sorted(rows, key=lambda entry: (entry["scale"], entry["name"]))


def page() -> str:
    shipped = model_records(get_registry())
    rows = shipped + measured_recipes({record["name"] for record in shipped})
    note = MEASURED_NOTE if len(rows) > len(shipped) else ""
    return INTRO + format_models_table(rows) + "\n" + note


def main() -> None:
    text = page()
    if "--check" in sys.argv[1:]:
        if OUT.read_text(encoding="utf-8") != text:
            sys.exit(f"{OUT} is stale: run python docs/gen_models.py")
        return
    OUT.write_text(text, encoding="utf-8")
    print(f"Wrote {OUT}")


if __name__ == "__main__":
    main()
