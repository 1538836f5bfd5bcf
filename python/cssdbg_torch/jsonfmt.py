"""JSON rendered the way cssdbg renders it (ordered keys, compact or indented, integral numbers
without a fraction), so `python -m cssdbg_torch eval --json` prints what `cssdbg eval --json` prints."""

from __future__ import annotations

import json
import math


def _number(d: float) -> str:
    if not math.isfinite(d):
        return "null"
    if d == round(d) and abs(d) < 1e15:
        return str(int(d))
    return repr(float(d))


def render(v, indent: int | None = None, level: int = 0) -> str:
    """dicts keep their insertion order; arrays of scalars stay on one line when indented."""
    nl = "" if indent is None else "\n"
    pad = lambda lv: " " * ((indent or 0) * lv)  # noqa: E731
    if isinstance(v, dict):
        if not v:
            return "{}"
        sep = ":" if indent is None else ": "
        items = [pad(level + 1) + json.dumps(str(k), ensure_ascii=False) + sep + render(x, indent, level + 1)
                 for k, x in v.items()]
        return "{" + nl + ("," + nl).join(items) + nl + pad(level) + "}"
    if isinstance(v, (list, tuple)):
        if not v:
            return "[]"
        scalar = all(not isinstance(x, (dict, list, tuple)) for x in v)
        if scalar or indent is None:
            return "[" + ("," if indent is None else ", ").join(render(x) for x in v) + "]"
        return "[" + nl + ("," + nl).join(pad(level + 1) + render(x, indent, level + 1) for x in v) + nl + pad(level) + "]"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _number(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    raise TypeError(f"cannot render {type(v).__name__} as JSON")
