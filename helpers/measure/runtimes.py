"""The runtime a network is deployed through: PyTorch eager, torch.compile, ONNX Runtime or OpenVINO (the runtimes study).

A point of the runtimes study is (model, batch, runtime). Every runtime is timed by the same engine
(helpers.measure.engine: windows in fresh processes, the check standard, the contention guard), in the
point child, with the runtime's own thread setting made equal to the engine's:

* ``eager``: the model as built (the batch sweep's runtime);
* ``compile``: ``torch.compile`` with the Inductor back end, static shapes (each batch is its own point),
  compiled in the point child by its first call, its compile workers kept in that process
  (``compile_threads`` = 1, so no process outlives the point). Inductor's on-disk cache is kept, as a user
  has it: the first compile of a graph on a machine is cold, later windows read the cache, and the
  conversion time's per-window seconds show both;
* ``onnxruntime``: exported with ``torch.onnx.export`` (the TorchScript exporter, a dynamic batch axis),
  run by an ``InferenceSession`` on the CPU execution provider, ``intra_op_num_threads`` = threads,
  ``inter_op_num_threads`` = 1, every graph optimisation on;
* ``openvino``: ``openvino.convert_model`` from the PyTorch model, reshaped to the point's static input
  shape (each batch its own point, as with torch.compile; the converter's graph is dynamic, ``[?,3,?,?]``,
  and OpenVINO's CPU plugin runs a dynamic graph slower: GoogLeNet at batch 1 took 27-29 ms dynamic against
  21.5 ms static on the 2-core AMD EPYC VM, which is what ``benchmark_app -shape`` times), compiled for ``CPU``
  with ``INFERENCE_PRECISION_HINT`` = ``f32`` (its default on a CPU with AVX-512 BF16 is bf16: a faster
  fp32 would be a precision change, not a runtime's speed) and ``INFERENCE_NUM_THREADS`` = threads.

Conversion happens in the point child, outside the timed passes (a runtime's thread pool started
before a fork would not survive it); its time is a metric of its own (``conversion_time``, seconds),
a user's real cost at start-up. After the timed passes the child compares the runtime's output on the
point's fixed input with eager's: the largest absolute difference over the largest absolute eager
output must be at most :data:`AGREEMENT_TOLERANCE`, or the visit is an error that says by how much
they differ. A runtime that is not installed, or that cannot take a model, gives ``unavailable`` rows
with its own message, never a silent fallback to eager. Units: seconds.
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["RUNTIMES", "AGREEMENT_TOLERANCE", "parse_runtimes", "runtime_version", "runtime_label",
           "unavailable_reason", "Converted", "convert", "agreement", "UNCHECKED_ZERO_OUTPUT", "onnx_bytes",
           "openvino_graph"]

RUNTIMES: tuple[str, ...] = ("eager", "compile", "onnxruntime", "openvino")
#: The largest |runtime - eager| output difference allowed, as a share of eager's largest |output|.
AGREEMENT_TOLERANCE = 1e-3
_MODULES = {"eager": "torch", "compile": "torch", "onnxruntime": "onnxruntime", "openvino": "openvino"}
_DEVICES = {"eager": None, "compile": ("cpu",), "onnxruntime": ("cpu",), "openvino": ("cpu",)}


def parse_runtimes(items) -> list[str]:
    """``"eager,openvino"`` or a list -> the runtimes, in order; an unknown one -> ValueError naming the valid."""
    from helpers.core.lists import split_list

    names = [str(n).strip() for n in (split_list(items) if isinstance(items, str) else items) if str(n).strip()]
    bad = [n for n in names if n not in RUNTIMES]
    if bad or not names:
        raise ValueError(f"runtime {bad[0] if bad else items!r}: valid runtimes are {', '.join(RUNTIMES)}")
    return list(dict.fromkeys(names))


def runtime_version(runtime: str) -> str | None:
    """The installed version of ``runtime``'s package (torch's for eager), or None where it is not installed.
    Read from the package's metadata: the runtime itself is imported only where a network is converted."""
    from importlib.metadata import PackageNotFoundError, version

    parse_runtimes([runtime])
    try:
        return version(_MODULES[runtime])
    except PackageNotFoundError:
        return None


#: What a runtime's label adds to its version where the way it is run changed: OpenVINO's points were timed on the
#: converter's dynamic graph before they were timed on the static one, and a store's dynamic rows are not resumed
#: as static ones.
_LABEL_NOTES = {"openvino": " static shapes"}


def runtime_label(runtime: str) -> str:
    """``"onnxruntime 1.31.1"``: the runtime and its version (``"openvino 2026.4.1 static shapes"``: and how its
    graph is shaped), as a fingerprint and a row record it; "" for eager (the batch sweep's runtime, whose
    fingerprint does not name it)."""
    if runtime == "eager":
        return ""
    version = runtime_version(runtime)
    return f"{runtime} {version}{_LABEL_NOTES.get(runtime, '')}" if version else f"{runtime} not installed"


def unavailable_reason(runtime: str, device: str) -> str | None:
    """Why ``runtime`` cannot run on ``device`` here (not installed, or not this device), or None."""
    parse_runtimes([runtime])
    devices = _DEVICES[runtime]
    if devices is not None and device.split(":")[0] not in devices:
        return f"{runtime} is measured on the CPU only in this study, not on {device!r}"
    if runtime_version(runtime) is None:
        return f"{runtime} is not installed (pip install -e . installs the pinned version)"
    return None


@dataclass
class Converted:
    """A runtime's compiled network: ``run(x)`` takes the engine's torch input and returns the output
    (a NumPy array); ``seconds`` the conversion took."""

    run: Callable[[Any], Any]
    seconds: float
    runtime: str
    #: torch.compile only: whether Inductor's on-disk cache held the compiled graph (None: not a cache's to say)
    cached: bool | None = None

    def compilations(self) -> int | None:
        """How many graphs dynamo has compiled in this process so far (torch.compile only, else None): a count
        that grows across the timed passes means they recompiled, and their times include compilation."""
        if self.runtime != "compile":
            return None
        from torch._dynamo.utils import counters

        return int(counters["stats"]["unique_graphs"])


def convert(model, x, runtime: str, threads: int) -> Converted:
    """``model`` (eval mode, fp32, CPU) compiled by ``runtime`` with ``threads`` threads for inputs shaped like
    ``x`` (ONNX Runtime's graph with a dynamic batch axis; torch.compile's and OpenVINO's static). Raises what the
    runtime raises where it cannot take the model."""
    import torch

    start = time.perf_counter()
    cached = None
    if runtime == "eager":
        def run(inp):
            return model(inp)
    elif runtime == "compile":
        import torch._inductor.config as inductor_config
        from torch._dynamo.utils import counters

        inductor_config.compile_threads = 1  # no pool of compile processes: nothing outlives the point child
        compiled = torch.compile(model, backend="inductor", dynamic=False)
        misses = counters["inductor"]["fxgraph_cache_miss"]
        with torch.inference_mode():
            # The first call compiles, on an inference tensor as every timed pass gets: dynamo guards on the
            # input's dispatch keys, and a plain tensor's graph would be compiled again at the first timed pass.
            compiled(x.clone())
        cached = counters["inductor"]["fxgraph_cache_miss"] == misses

        def run(inp):
            with torch.inference_mode():  # the graph was compiled for inference: no recompilation for autograd
                return compiled(inp)
    elif runtime == "onnxruntime":
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(onnx_bytes(model, x), options, providers=["CPUExecutionProvider"])

        def run(inp):
            return session.run(None, {"input": inp.numpy()})[0]
    elif runtime == "openvino":
        import openvino as ov

        compiled = ov.Core().compile_model(openvino_graph(model, x), "CPU",
                                           {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": threads})
        request = compiled.create_infer_request()

        def run(inp):
            return request.infer([inp.numpy()])[compiled.output(0)]
    else:
        parse_runtimes([runtime])
        raise AssertionError(runtime)
    return Converted(run, time.perf_counter() - start, runtime, cached)


def onnx_bytes(model, x) -> bytes:
    """``model`` exported to ONNX by ``torch.onnx.export`` (the TorchScript exporter), input ``input`` shaped like
    ``x`` with a dynamic batch axis, output ``output``."""
    import warnings

    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice, once per point
        torch.onnx.export(model, (x,), buffer, input_names=["input"], output_names=["output"], dynamo=False,
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    return buffer.getvalue()


def openvino_graph(model, x):
    """``model`` converted by ``openvino.convert_model`` from PyTorch, traced on ``x``, with ``x``'s shape as its
    static input shape (an ``openvino.Model``): the converter's own graph is dynamic, which OpenVINO runs slower."""
    import warnings

    import openvino as ov
    import torch

    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # torch.jit.trace's deprecation notices, which the converter uses
        graph = ov.convert_model(model, example_input=x)
    graph.reshape({graph.input(0): ov.PartialShape(list(x.shape))})
    return graph


#: Why a runtime's output is not compared where eager's output is zero everywhere (torchvision's ViT, built with random
#: weights, has a zero-initialised head): any runtime would agree with it, so the check would say nothing.
UNCHECKED_ZERO_OUTPUT = ("not compared: eager's output is zero everywhere (a zero-initialised head), so any output "
                         "of the same shape would agree")


def agreement(model, converted: Converted, x) -> float:
    """The largest |runtime - eager| difference of the outputs on ``x``, over eager's largest |output|; NaN where
    eager's output is zero everywhere (nothing to compare: :data:`UNCHECKED_ZERO_OUTPUT`), inf where the shapes
    differ."""
    import numpy as np
    import torch

    with torch.inference_mode():
        x = x.clone()  # an inference tensor, as the timed passes get (a compiled graph is not compiled again)
        ref = model(x)
        out = np.asarray(converted.run(x), dtype=np.float32)
    ref = (ref[0] if isinstance(ref, (tuple, list)) else ref).float().numpy()
    if out.shape != ref.shape:
        return float("inf")
    scale = float(np.abs(ref).max())
    if scale == 0:
        return float("nan")
    return float(np.abs(out - ref).max() / scale)
