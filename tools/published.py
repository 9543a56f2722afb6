"""The papers' numbers under the published protocol, and what each paper trained on.

Every figure is from ../shared/data/README.md (the EDSR paper's Table 4, the FSRCNN paper), except
FSRCNN's x3 Set5 33.16, which issue 9 quotes from the FSRCNN paper. A design and scale without a
figure here has none in those sources, and the tables say "-" rather than guess one.
"""

from __future__ import annotations

from typing import Any

EDSR_TABLE = "EDSR paper (Lim et al. 2017), Table 4; ../shared/data/README.md"
FSRCNN_PAPER = "FSRCNN paper (Dong, Loy, Tang 2016); ../shared/data/README.md"


def _numbers(set5: tuple[float, float | None], set14: tuple[float, float] | None = None) -> dict:
    numbers: dict[str, dict[str, float]] = {"Set5": {"psnr": set5[0]}}
    if set5[1] is not None:
        numbers["Set5"]["ssim"] = set5[1]
    if set14 is not None:
        numbers["Set14"] = {"psnr": set14[0], "ssim": set14[1]}
    return numbers


PUBLISHED: dict[tuple[str, int], dict[str, Any]] = {
    ("srcnn", 2): {"method": "SRCNN", "source": EDSR_TABLE}
    | _numbers((36.66, 0.9542), (32.42, 0.9063)),
    ("srcnn", 4): {"method": "SRCNN", "source": EDSR_TABLE}
    | _numbers((30.48, 0.8628), (27.49, 0.7503)),
    ("fsrcnn", 2): {"method": "FSRCNN", "source": FSRCNN_PAPER}
    | _numbers((37.00, 0.9558), (32.63, 0.9088)),
    ("fsrcnn", 3): {
        "method": "FSRCNN",
        "source": "FSRCNN paper (Dong, Loy, Tang 2016), the x3 target of issue 9",
    }
    | _numbers((33.16, None)),
    ("fsrcnn", 4): {"method": "FSRCNN", "source": FSRCNN_PAPER}
    | _numbers((30.72, 0.8660), (27.61, 0.7550)),
    ("vdsr", 2): {"method": "VDSR", "source": EDSR_TABLE}
    | _numbers((37.53, 0.9587), (33.03, 0.9124)),
    # The table has the full EDSR (43 M parameters), not the baseline: named so, never implied.
    ("edsr", 2): {"method": "EDSR (the full 43 M model)", "source": EDSR_TABLE}
    | _numbers((38.11, 0.9601), (33.92, 0.9195)),
}

PAPER_TRAINING = {
    "srcnn": "395,909 ImageNet images for days on a GPU",
    "fsrcnn": "the 91-image and General-100 sets, scaled and rotated, on a GPU",
    "espcn": "50,000 ImageNet images on a GPU",
    "vdsr": "291 images (91-image set and BSD200), augmented, on a GPU",
    "edsr": "the 800 DIV2K images on a GPU",
}


def published(design: str, scale: int) -> dict[str, Any] | None:
    """The paper's entry for ``design`` at ``scale``, or None when the sources have none."""
    return PUBLISHED.get((design, scale))


def why_below(design: str, minutes: float, data: str) -> str:
    """One line on why a short CPU run lands below the paper."""
    theirs = PAPER_TRAINING.get(design, "far more data and time")
    return f"{minutes:.0f} min on a 2-core CPU with {data}; the paper trained on {theirs}"
