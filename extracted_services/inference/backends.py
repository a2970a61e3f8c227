"""Scoring backends: one batch of feature rows in, scores and attributions out.

Both backends compute the same thing as the monolith, gradient x input of the logit
(``riskmodel.scoring.explain_rows``), on the model loaded from the registry:

- ``torch`` calls ``explain_rows`` itself on the loaded module: bit-for-bit the monolith's
  computation (forward plus one backward pass per batch).
- ``onnx`` cannot differentiate at run time, so at load time the whole computation
  (forward, backward through autograd, ``sigmoid`` and ``gradient * input``) is traced
  into one graph of plain ATen operations with ``make_fx`` and exported to ONNX;
  onnxruntime then returns score and attribution from a single run. This works for any
  differentiable module, not just today's MLP, because the backward pass is recorded by
  autograd, not written by hand.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from contracts.features import N_FEATURES
from riskmodel.scoring import explain_rows

logger = logging.getLogger(__name__)

Scores = npt.NDArray[np.float64]
Attributions = npt.NDArray[np.float64]


class ScoringBackend(Protocol):
    """Scores (n,) and attributions (n, N_FEATURES), float64, for float32 rows (n, N)."""

    name: str

    def explain(self, features: npt.NDArray[np.float32]) -> tuple[Scores, Attributions]: ...


class TorchBackend:
    """The loaded module through ``riskmodel.scoring.explain_rows`` (the monolith's code)."""

    name = "torch"

    def __init__(self, module: object) -> None:
        self._module = module

    def explain(self, features: npt.NDArray[np.float32]) -> tuple[Scores, Attributions]:
        return explain_rows(self._module, features)  # type: ignore[arg-type]


class OnnxBackend:
    """An onnxruntime session over a graph that returns ``(score, attribution)``."""

    name = "onnx"

    def __init__(self, path: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        self.path = path
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def explain(self, features: npt.NDArray[np.float32]) -> tuple[Scores, Attributions]:
        rows = np.ascontiguousarray(features, dtype=np.float32)
        scores, attributions = self._session.run(None, {self._input: rows})
        return (
            np.asarray(scores, dtype=np.float64).reshape(-1),
            np.asarray(attributions, dtype=np.float64),
        )


def export_explained_onnx(module: object, path: Path) -> Path:
    """Trace forward + gradient x input of ``module`` into one ONNX graph at ``path``.

    The parameters and buffers are passed to the traced function explicitly (so that the
    symbolic trace sees them as inputs, not as foreign constants) and folded back in as
    buffers of a small wrapper before the ONNX export; the batch dimension stays dynamic.
    """
    import torch
    from torch.fx.experimental.proxy_tensor import make_fx

    assert isinstance(module, torch.nn.Module)
    names = [n for n, _ in module.named_parameters()] + [n for n, _ in module.named_buffers()]
    tensors = [t.detach() for _, t in module.named_parameters()] + [
        t.detach() for _, t in module.named_buffers()
    ]

    def explained(params: dict[str, torch.Tensor], x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = x.requires_grad_(True)
        with torch.enable_grad():
            logits = torch.func.functional_call(module, params, (x,)).reshape(-1)
            (gradient,) = torch.autograd.grad(logits.sum(), x)
        return torch.sigmoid(logits), gradient * x

    example = torch.zeros((4, N_FEATURES), dtype=torch.float32)
    params = dict(zip(names, tensors, strict=True))
    traced = make_fx(explained, tracing_mode="symbolic")(params, example)

    class _Explained(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.graph_module = traced
            for index, tensor in enumerate(tensors):
                self.register_buffer(f"p{index}", tensor.clone())

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
            params = {name: getattr(self, f"p{i}") for i, name in enumerate(names)}
            out: tuple[torch.Tensor, ...] = self.graph_module(params, x)
            return out

    path.parent.mkdir(parents=True, exist_ok=True)
    for name in ("onnx_ir", "onnxscript", "torch.onnx"):  # chatty INFO lines per export
        logging.getLogger(name).setLevel(logging.WARNING)
    torch.onnx.export(
        _Explained(),
        (example,),
        str(path),
        dynamo=True,
        dynamic_shapes=({0: torch.export.Dim("batch")},),
        input_names=["features"],
        output_names=["score", "attribution"],
        verbose=False,
    )
    return path
