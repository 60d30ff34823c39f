"""What an import did: the layers it made, their parameters, what it folded or skipped. Shown in the window and CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..spec import format_shape
from visualcnn.i18n import _


@dataclass
class ImportReport:
    """A short account of one ONNX import (the text is what the window and the CLI show)."""

    source: str
    producer: str = ""
    opset: int = 0
    input_shape: tuple[int, ...] = ()
    layers: list[str] = field(default_factory=list)     # "conv2d 6×5×5 s1 p0" per layer, in order
    n_params: int = 0
    folded: list[str] = field(default_factory=list)     # "BatchNormalization 'bn1' folded into layer 0 conv2d"
    skipped: list[str] = field(default_factory=list)    # "Dropout 'drop' skipped (identity in evaluation)"

    def lines(self) -> list[str]:
        made = (_("opened {source} (made by {producer}, opset {opset})") if self.producer
                else _("opened {source} (opset {opset})")).format(source=self.source, producer=self.producer,
                                                                 opset=self.opset)
        out = [made,
               _("input {format_shape}, {n_layers} layers, {n_params:,} parameters: ").format(
                   format_shape=format_shape(self.input_shape), n_layers=len(self.layers), n_params=self.n_params)
               + ", ".join(self.layers)]
        out += [_("folded: {what}").format(what=f) for f in self.folded]
        out += [_("skipped: {what}").format(what=s) for s in self.skipped]
        return out

    def text(self) -> str:
        return "\n".join(self.lines())

    def summary(self) -> str:
        """One short line: 'tinyvgg.onnx: 10 layers, 2,120 parameters, 1 folded'."""
        extra = _(", {n} folded").format(n=len(self.folded)) if self.folded else ""
        extra += _(", {n} skipped").format(n=len(self.skipped)) if self.skipped else ""
        return _("{source}: {n_layers} layers, {n_params:,} parameters{extra}").format(
                   source=self.source, n_layers=len(self.layers), n_params=self.n_params, extra=extra)

    def detail_lines(self) -> list[str]:
        """The report with one line per layer (for a panel rather than a terminal)."""
        out = self.lines()[:1] + [_("input {format_shape}, {n_params:,} parameters").format(
                                      format_shape=format_shape(self.input_shape), n_params=self.n_params)]
        out += [f"  {i}  {label}" for i, label in enumerate(self.layers)]
        return out + self.lines()[2:]

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "producer": self.producer, "opset": self.opset,
                "input_shape": list(self.input_shape), "layers": list(self.layers), "n_params": self.n_params,
                "folded": list(self.folded), "skipped": list(self.skipped)}


def describe_layer(entry: dict[str, Any]) -> str:
    """One short label for a spec entry: 'conv2d 6×5×5 s1 p0', 'maxpool2d 2×2', 'dense 10'."""
    kind = entry["type"]
    if kind == "conv2d":
        text = f"conv2d {entry['out_channels']}×{entry['kernel_size']}×{entry['kernel_size']}"
        text += f" s{entry.get('stride', 1)} p{entry.get('padding', 0)}"
        return text + (" untied" if entry.get("bias") == "untied" else "")
    if kind.endswith("pool2d"):
        k, s = entry["kernel_size"], entry.get("stride")
        text = f"{kind} {k}×{k}" + (f" s{s}" if s not in (None, k) else "")
        if kind == "lppool2d":
            text += f" p={entry['p']:g}" + (f" {entry['norm']}" if "norm" in entry else "")
        return text
    if kind == "dense":
        return f"dense {entry['out_features']}"
    return kind
