"""The rules by which export combines the network's matte with the colour-line solvers' (``quality``),
named in the fusion network's card, and their plain-language descriptions for help texts. Torch-free, so
that the command line's help and the export dialog can describe the installed rule without loading it."""

from __future__ import annotations

import json

from matting_gui.core.files.paths import models_dir
from matting_gui.core.nets.model_files import card_path

RULES = ("fusion", "mean", "median", "median_solvers")
#: The solver mattes a rule needs beyond those its fusion network reads.
RULE_SOLVERS = {"median": ("closed_form",), "median_solvers": ("closed_form", "knn")}
#: A fusion input that is no solver: the network's own (mirror-averaged, refined) matte.
NETWORK = "network"
#: The rule used when a card names none.
DEFAULT_RULE = "mean"
FUSION_FILE = "fusion.safetensors"


def export_rule(card: dict) -> str:
    """The combination rule a fusion card names (``export_rule``), else ``DEFAULT_RULE``."""
    rule = card.get("export_rule", DEFAULT_RULE)
    return rule if rule in RULES else DEFAULT_RULE


def describe_rule(rule: str, solvers: tuple[str, ...] | list[str] = ("closed_form", "knn")) -> str:
    """What export's solver step does under ``rule``, for a help text or tooltip: one lower-case clause
    without a final full stop. ``solvers``: the fusion network's inputs (``NETWORK`` among them when it reads
    the network's matte)."""
    if rule == "median_solvers":
        return "take the per-pixel median of the network's, the closed-form and the KNN matte (no training)"
    label = {"closed_form": "the closed-form", "knn": "the KNN", NETWORK: "the network's"}
    names = [label.get(n, n) for n in sorted(solvers, key=lambda n: n != NETWORK)]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    weighed = f"weigh {listed} matte{'s' if len(names) > 1 else ''} with the fusion network"
    if rule == "fusion":
        return weighed + (", which learned per pixel which to trust" if NETWORK in solvers else "")
    if rule == "median":
        return weighed + ", then take the median of that, the network's and the closed-form matte"
    return weighed + ", then average that with the network's matte"


def installed_rule_text() -> str:
    """``describe_rule`` for the installed fusion card (read from its JSON card only: cheap, never raises);
    the default rule's text when no fusion network is installed or its card is unreadable."""
    try:
        card = json.loads(card_path(models_dir() / FUSION_FILE).read_text())
    except (OSError, ValueError):
        card = {}
    card = card if isinstance(card, dict) else {}
    config = card.get("config") if isinstance(card.get("config"), dict) else {}
    solvers = config.get("solvers") or ["closed_form", "knn"]
    if not (isinstance(solvers, list) and solvers and all(isinstance(n, str) for n in solvers)):
        solvers = ["closed_form", "knn"]
    return describe_rule(export_rule(card), tuple(solvers))
