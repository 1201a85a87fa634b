"""Operation and parameter counts, under labelled conventions.

- ``gmacs``: multiply-accumulates of convolutions and matrix products (attention
  included), in billions: the modern convention of torchvision's ``_ops``
  metadata, timm and fvcore. Counted with torch's ``FlopCounterMode`` (FLOPs / 2).
- ``gops``: the default operation count, in billions of operations (G-ops), one
  operation being one multiply or one add: the paper's convention
  (data/reference/architectures.md) with convolution groups honoured.
  Convolution ``Cout*Ho*Wo*(2*kH*kW*Cin/groups + 1)``, linear ``2*in*out+out``,
  one per element for ReLU/PReLU and the other activations, ``kH*kW`` per output
  element for pooling, ``elements * inputs`` for residual additions, 3 per
  element for the final log-softmax, and 0 for BatchNorm, dropout, LRN,
  concatenation and reshapes. It is 2 x ``gmacs`` plus the biases and the
  element-wise terms.
- ``gops_2016``: the same rules as torch-opCounter applied them in 2016, when it
  counted a grouped convolution as dense (``Cout*Ho*Wo*(2*kH*kW*Cin + 1)``).
  Kept only to reproduce the paper's published G-ops (AlexNet's 2.26 comes from
  its two-group layers counted dense); for depthwise networks it is several to
  tens of times too high. Equal to ``gops`` for a network without groups.
- ``thop_gmacs``: ultralytics-thop's count (module hooks; it also counts
  BatchNorm, pooling and some element-wise work), the named cross-check.

All counts are taken at batch 1 on the ``meta`` device: shapes only, no memory
and no arithmetic, so the whole torchvision zoo is counted in seconds.

Bytes that must move (``count_bytes``, ``count_traffic``), counted in the same
pass under an explicit model of unfused, op-by-op execution:

- every ATen operator (after the same decomposition as the operation count)
  reads each of its tensor inputs once and writes each of its tensor outputs
  once; a tensor's bytes are its distinct elements x its element size (numel,
  except that a broadcast dimension of stride 0 is one element wide).
- an in-place operator (``relu_``) reads and writes its tensor; ``out=``
  arguments and the destination of ``copy_``, ``fill_`` and ``zero_`` are
  written, not read.
- a batch norm in inference writes its normalised tensor only (the
  statistics it returns for training are empty).
- views and aliases move nothing: every operator whose schema marks its
  outputs as aliases of an input (``func.is_view``: ``view``, ``t``,
  ``expand``, ``permute``, ``detach``, ``split``, ...) and ``_unsafe_view``;
  nor do allocations without a write (``empty``, ``empty_like``, ...) or
  operators that return no tensor (metadata queries). Copies count in full:
  ``clone`` (a reshape of a non-contiguous tensor), ``contiguous``,
  ``_to_copy``, ``cat``.
- bytes read from a tensor whose storage is a parameter's or buffer's (a view
  of a weight, like ``t(weight)`` in a linear layer, included) are parameter
  bytes, counted once per operator that reads them, whatever the batch; every
  other byte (the input, activations read and written, the output) is an
  activation byte. ``bytes = param_bytes + activation_bytes``.
- the working set of an operator is the bytes of the distinct tensors it
  touches, inputs and outputs, parameters included (an in-place operator's
  tensor once); ``largest_op_bytes`` is the largest over the pass, and
  ``largest_activation_op_bytes`` the largest without the parameters (the
  activation working set: what grows with the batch).
- the final log-softmax that ``gops`` adds reads and writes the class scores once.

Within an operator nothing is counted twice (a convolution's tiling may re-read
its weights from cache), and between operators nothing is assumed to stay in
a cache: the count is the traffic of op-by-op execution with every tensor
touched once per operator, neither a lower bound on DRAM traffic (caches keep
small activations) nor an upper bound (tiling re-reads). Operations per byte of
this traffic is the arithmetic ``intensity`` (op/B) of the roofline model.
"""
from __future__ import annotations

import math
import warnings
from collections import Counter
from typing import Callable, Iterable

import pandas as pd
import torch
from torch import nn
# torch has no public base class for a mode that sees every ATen operator (``__torch_dispatch__``):
# its documentation and its own public FlopCounterMode use this one, so the counters do too.
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, flop_registry

from helpers.models.zoo import ModelSpec, build_model, example_input, resolve_models

__all__ = [
    "count_params",
    "count_gmacs",
    "count_gops",
    "count_gops_2016",
    "count_thop",
    "OpCounter",
    "count_model",
    "count_bytes",
    "count_traffic",
]

aten = torch.ops.aten


def count_params(model: nn.Module) -> int:
    """Number of parameters (weights, biases, BatchNorm affine, PReLU slopes); shared ones once."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


# --------------------------------------------------------------------------- modern convention
def count_gmacs(model: nn.Module, x: torch.Tensor) -> float:
    """Multiply-accumulates of convolutions and matrix products, in billions (GMAC)."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    return counter.get_total_flops() / 2 / 1e9


# --------------------------------------------------------------------------- the paper's convention
def _numel(shape: Iterable[int]) -> int:
    return math.prod(int(s) for s in shape)


def _conv_operations(args, out, groups_dense: bool) -> int:
    # aten.convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)
    # weight: [Cout, Cin/groups, kH, kW], so weight.shape[1] is already the inputs seen per output channel
    weight = args[1]
    groups = int(args[8]) if len(args) > 8 else 1
    c_in_per_output = weight.shape[1] * (groups if groups_dense else 1)
    kernel = _numel(weight.shape[2:])
    spatial = _numel(out.shape[2:])
    batch = out.shape[0]
    return batch * weight.shape[0] * spatial * (2 * kernel * c_in_per_output + 1)


def _conv(args, kwargs, out) -> int:
    """Groups honoured: ``Cout*Ho*Wo*(2*kH*kW*Cin/groups + 1)``."""
    return _conv_operations(args, out, groups_dense=False)


def _conv_2016(args, kwargs, out) -> int:
    """torch-opCounter (2016): groups counted as dense, ``Cout*Ho*Wo*(2*kH*kW*Cin + 1)``."""
    return _conv_operations(args, out, groups_dense=True)


def _addmm(args, kwargs, out) -> int:
    # aten.addmm(bias, mat1 [M, K], mat2 [K, N]): linear with bias, 2*in*out + out per row
    m, k = args[1].shape
    n = args[2].shape[1]
    return m * (2 * k * n + n)


def _mm(args, kwargs, out) -> int:
    m, k = args[0].shape
    n = args[1].shape[1]
    return 2 * m * k * n


def _bmm(args, kwargs, out) -> int:
    b, m, k = args[0].shape
    n = args[1].shape[-1]
    return 2 * b * m * k * n


def _per_input_element(args, kwargs, out) -> int:
    return args[0].numel()


def _pool(args, kwargs, out) -> int:
    # max_pool2d_with_indices / avg_pool2d (input, kernel_size, ...): kH*kW per output element
    kernel = args[1]
    kernel = [kernel] * 2 if isinstance(kernel, int) else list(kernel)
    if len(kernel) == 1:
        kernel = kernel * 2
    first = out[0] if isinstance(out, (tuple, list)) else out
    return first.numel() * _numel(kernel)


def _adaptive_avg_pool(args, kwargs, out) -> int:
    # kernel of an adaptive pool: ceil(in / out) per spatial dimension
    x = args[0]
    in_hw = x.shape[-2:]
    out_hw = out.shape[-2:]
    kernel = _numel(math.ceil(i / o) for i, o in zip(in_hw, out_hw))
    return out.numel() * kernel


def _mean(args, kwargs, out) -> int:
    # a global average written as x.mean(dims): one add per input element
    return args[0].numel()


def _tensor_add(args, kwargs, out) -> int:
    # residual addition: elements * number of inputs (only tensor + tensor of the output's size)
    a, b = args[0], args[1]
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.numel() == b.numel() == out.numel():
        return 2 * out.numel()
    return 0


def _log_softmax(args, kwargs, out) -> int:
    return 3 * out.numel()


# packet -> (category, rule): the default count (groups honoured)
_RULES: dict[object, tuple[str, Callable]] = {
    aten.convolution: ("convolution", _conv),
    aten.addmm: ("linear", _addmm),
    aten.mm: ("linear", _mm),
    aten.bmm: ("linear", _bmm),
    aten.relu: ("activation", _per_input_element),
    aten.relu_: ("activation", _per_input_element),
    aten._prelu_kernel: ("activation", _per_input_element),
    aten.hardtanh: ("activation", _per_input_element),
    aten.hardtanh_: ("activation", _per_input_element),
    aten.silu: ("activation", _per_input_element),
    aten.silu_: ("activation", _per_input_element),
    aten.gelu: ("activation", _per_input_element),
    aten.hardswish: ("activation", _per_input_element),
    aten.hardswish_: ("activation", _per_input_element),
    aten.sigmoid: ("activation", _per_input_element),
    aten.max_pool2d_with_indices: ("pooling", _pool),
    aten.avg_pool2d: ("pooling", _pool),
    aten._adaptive_avg_pool2d: ("pooling", _adaptive_avg_pool),
    aten.mean: ("pooling", _mean),
    aten.add: ("residual", _tensor_add),
    aten.add_: ("residual", _tensor_add),
    aten._log_softmax: ("log-softmax", _log_softmax),
}
# The 2016 rules differ only in how a convolution is counted.
_RULES_2016: dict[object, tuple[str, Callable]] = {**_RULES, aten.convolution: ("convolution", _conv_2016)}


# ---- traffic: what each operator reads and writes (see the module docstring)
#: Operators that move no data beyond the views (``func.is_view``) already skipped:
#: a view that the schema does not mark as one, and allocations without a write.
_NO_TRAFFIC = frozenset({aten._unsafe_view, aten.empty, aten.empty_strided, aten.empty_like, aten.new_empty,
                         aten.new_empty_strided})
#: In-place operators that write their first argument without reading it.
_WRITE_ONLY = frozenset({aten.copy_, aten.fill_, aten.zero_})
#: Batch norms in inference write the normalised tensor only: the statistics they return for
#: training are empty on the CPU (the ``meta`` kernel gives them one element per channel).
_INFERENCE_BATCH_NORM = frozenset({aten._native_batch_norm_legit_no_training, aten.native_batch_norm})


def _tensor_bytes(t: torch.Tensor) -> int:
    """Bytes of ``t``'s distinct elements: numel x element size, a stride-0 (broadcast) dimension counted once."""
    if t.numel() == 0:
        return 0
    try:
        distinct = _numel(size for size, stride in zip(t.shape, t.stride()) if stride != 0)
    except (RuntimeError, NotImplementedError):  # layouts without strides
        distinct = t.numel()
    return distinct * t.element_size()


def _storage_key(t: torch.Tensor) -> int | None:
    """The address of ``t``'s storage (shared by every view of it, set on ``meta`` tensors too); None without one."""
    # ``_cdata`` (the StorageImpl's address) has no public equivalent: ``data_ptr()`` is 0 for every
    # meta storage, and ``untyped_storage()`` is a new Python object at each call.
    try:
        return t.untyped_storage()._cdata
    except (RuntimeError, NotImplementedError, AttributeError):
        return None


def _tensors(tree) -> list[torch.Tensor]:
    """The tensors of an operator's arguments or results, in order: tensors themselves, and those
    nested in lists, tuples and dict values (the containers an ATen schema passes)."""
    if isinstance(tree, torch.Tensor):
        return [tree]
    if isinstance(tree, dict):
        tree = list(tree.values())
    if isinstance(tree, (list, tuple)):
        return [t for item in tree for t in _tensors(item)]
    return []


class OpCounter(TorchDispatchMode):
    """Count, in one pass, operations per category under the paper's convention
    with groups honoured (``by_category``, the default ``gops``) and under the
    2016 rules with groups counted dense (``by_category_2016``), and FLOPs by
    torch's own ``FlopCounterMode`` formulas (``flops``).

    Works at the ATen level, so functional code (residual additions written as
    ``a + b``, attention) is seen as well as modules. Like ``FlopCounterMode``,
    an operator that neither convention knows is decomposed first (fused
    attention becomes matrix products), so ``flops`` equals FlopCounterMode's
    total without its per-module bookkeeping. Use under ``torch.no_grad()``.

    The same pass counts bytes under the traffic model of the module docstring:
    ``read_bytes``, ``write_bytes``, ``param_bytes`` (the part of the reads from
    ``params``), and the largest working set of one operator (``largest_op_bytes``,
    its operator's name in ``largest_op``; without parameters
    ``largest_activation_op_bytes``). ``params``: a module (its parameters
    and buffers) or the tensors whose reads are parameter bytes; tensors are told
    apart by their storage, so views of a weight count as the weight and meta
    tensors (no data pointer) work. Without ``params`` every byte is an
    activation byte.
    """

    def __init__(self, params: nn.Module | Iterable[torch.Tensor] | None = None):
        super().__init__()
        self.by_category: Counter[str] = Counter()
        self.by_category_2016: Counter[str] = Counter()
        self.flops = 0
        if isinstance(params, nn.Module):
            params = [*params.parameters(), *params.buffers()]
        self._params = list(params or [])  # held, so that no other storage takes their addresses
        self._param_storages = {key for key in map(_storage_key, self._params) if key is not None}
        self.read_bytes = 0
        self.write_bytes = 0
        self.param_bytes = 0
        self.largest_op_bytes = 0
        self.largest_op = ""
        self.largest_activation_op_bytes = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        packet = func.overloadpacket
        if packet not in flop_registry and packet not in _RULES:
            with self:
                decomposed = func.decompose(*args, **kwargs)
            if decomposed is not NotImplemented:
                return decomposed
        out = func(*args, **kwargs)
        if packet in flop_registry:
            self.flops += flop_registry[packet](*args, **kwargs, out_val=out)
        if packet in _RULES:
            category, count = _RULES[packet]
            self.by_category[category] += count(args, kwargs, out)
            category, count = _RULES_2016[packet]
            self.by_category_2016[category] += count(args, kwargs, out)
        self._count_traffic(func, args, kwargs, out)
        return out

    def _count_traffic(self, func, args, kwargs, out) -> None:
        """Add one operator's reads and writes (bytes) under the module's traffic model."""
        packet = func.overloadpacket
        if func.is_view or packet in _NO_TRAFFIC:
            return
        outputs = _tensors(out)
        if not outputs:  # metadata queries
            return
        if packet in _INFERENCE_BATCH_NORM:
            # native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)
            training = packet is aten.native_batch_norm and (args[5] if len(args) > 5 else kwargs.get("training"))
            outputs = outputs if training else outputs[:1]
        # an operator's schema is only reachable as ``_schema``: torch offers no public accessor
        written_only = {a.name for a in func._schema.arguments if a.is_out}
        inputs = _tensors(args[1:] if packet in _WRITE_ONLY else args)
        inputs += _tensors([v for k, v in kwargs.items() if k not in written_only])
        reads = params = 0
        for t in inputs:
            n = _tensor_bytes(t)
            reads += n
            if self._is_param(t):
                params += n
        writes = sum(_tensor_bytes(t) for t in outputs)
        distinct = {id(t): t for t in inputs + outputs}.values()
        touched = sum(_tensor_bytes(t) for t in distinct)
        activations = sum(_tensor_bytes(t) for t in distinct if not self._is_param(t))
        self._add_traffic(str(packet), reads, writes, params, touched, activations)

    def _is_param(self, t) -> bool:
        return bool(self._param_storages) and _storage_key(t) in self._param_storages

    def _add_traffic(self, name: str, reads: int, writes: int, params: int, touched: int,
                     activations: int | None = None) -> None:
        self.read_bytes += reads
        self.write_bytes += writes
        self.param_bytes += params
        if touched > self.largest_op_bytes:
            self.largest_op_bytes, self.largest_op = touched, name
        activations = touched - params if activations is None else activations
        self.largest_activation_op_bytes = max(self.largest_activation_op_bytes, activations)

    @property
    def bytes(self) -> int:
        """Bytes read and written so far (parameters and activations), in bytes."""
        return self.read_bytes + self.write_bytes

    @property
    def activation_bytes(self) -> int:
        """Bytes read and written so far that are not parameter reads, in bytes."""
        return self.bytes - self.param_bytes

    @property
    def total(self) -> int:
        """Operations counted so far, groups honoured (the default ``gops``), in operations."""
        return sum(self.by_category.values())

    @property
    def total_2016(self) -> int:
        """Operations counted so far by the 2016 rules (groups dense, ``gops_2016``), in operations."""
        return sum(self.by_category_2016.values())


def _count_all(model: nn.Module, x: torch.Tensor, log_softmax: bool) -> OpCounter:
    counter = OpCounter(model)
    with counter, torch.no_grad():
        out = model(x)
    if log_softmax:
        counter.by_category["log-softmax"] += 3 * out.numel()
        counter.by_category_2016["log-softmax"] += 3 * out.numel()
        scores = _tensor_bytes(out)  # read and written once
        counter._add_traffic("log_softmax", scores, scores, 0, 2 * scores)
    return counter


def _giga(counts: Counter[str], breakdown: bool) -> float | tuple[float, dict[str, float]]:
    total = sum(counts.values()) / 1e9
    if breakdown:
        return total, {k: v / 1e9 for k, v in counts.items()}
    return total


def count_gops(model: nn.Module, x: torch.Tensor, log_softmax: bool = True,
               breakdown: bool = False) -> float | tuple[float, dict[str, float]]:
    """Operations in billions (G-ops) for the input ``x``: the paper's convention with
    convolution groups honoured (the default ``gops``).

    ``log_softmax`` adds the final LogSoftMax layer of the Torch7 models
    (3 operations per class score). ``breakdown`` also returns G-ops per category.
    """
    return _giga(_count_all(model, x, log_softmax).by_category, breakdown)


def count_gops_2016(model: nn.Module, x: torch.Tensor, log_softmax: bool = True,
                    breakdown: bool = False) -> float | tuple[float, dict[str, float]]:
    """Operations in billions (G-ops) by torch-opCounter's 2016 rules, which count a
    grouped convolution as dense: bug-compatible, only to reproduce the paper's
    published G-ops. Arguments as :func:`count_gops`.
    """
    return _giga(_count_all(model, x, log_softmax).by_category_2016, breakdown)


# --------------------------------------------------------------------------- bytes that must move
def count_bytes(model: nn.Module, x: torch.Tensor, log_softmax: bool = True) -> dict:
    """Operations and bytes of one forward pass of ``x`` (the whole batch), under the
    traffic model of the module docstring.

    Returns ``gops`` (G-ops, as :func:`count_gops`), ``bytes``, ``read_bytes``,
    ``write_bytes``, ``param_bytes``, ``activation_bytes``, ``largest_op_bytes``,
    ``largest_activation_op_bytes`` (bytes), ``largest_op`` (the operator of
    ``largest_op_bytes``) and ``intensity``
    (operations per byte, op/B). ``log_softmax`` adds the final layer's 3
    operations per class score and its read and write of the scores.
    """
    counter = _count_all(model, x, log_softmax)
    total = counter.bytes
    return {
        "gops": counter.total / 1e9,
        "bytes": total,
        "read_bytes": counter.read_bytes,
        "write_bytes": counter.write_bytes,
        "param_bytes": counter.param_bytes,
        "activation_bytes": counter.activation_bytes,
        "largest_op_bytes": counter.largest_op_bytes,
        "largest_op": counter.largest_op,
        "largest_activation_op_bytes": counter.largest_activation_op_bytes,
        "intensity": counter.total / total if total else math.nan,
    }


def count_traffic(spec_or_name: ModelSpec | str, batch_size: int, log_softmax: bool = True,
                  model: nn.Module | None = None) -> dict:
    """Operations and bytes of one model's forward pass at ``batch_size``, on the ``meta`` device.

    One row: ``model``, ``batch_size``, ``input_size``, the whole batch's
    :func:`count_bytes` (``gops`` in G-ops, bytes in bytes, ``intensity`` in
    op/B), and per image ``gops_per_image`` (G-ops), ``bytes_per_image`` and
    ``activation_bytes_per_image`` (bytes). Parameter bytes do not grow with the
    batch, so intensity does. ``model``: the spec's network already built on
    ``meta`` (to count several batch sizes without building it again).
    """
    spec = spec_or_name if isinstance(spec_or_name, ModelSpec) else resolve_models(spec_or_name)[0]
    model = model if model is not None else build_model(spec, device="meta")
    x = example_input(spec, batch_size, device="meta")
    row = {"model": spec.name, "batch_size": int(batch_size), "input_size": spec.input_size,
           **count_bytes(model, x, log_softmax=log_softmax)}
    row["gops_per_image"] = row["gops"] / batch_size
    row["bytes_per_image"] = row["bytes"] / batch_size
    row["activation_bytes_per_image"] = row["activation_bytes"] / batch_size
    return row


# --------------------------------------------------------------------------- thop
def count_thop(model: nn.Module, x: torch.Tensor) -> tuple[float, int]:
    """thop's multiply-accumulates (billions) and parameter count for the input ``x``."""
    import thop  # thop.profile: thop's counter (a run profile is helpers.measure.profiles')

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        macs, params = thop.profile(model, inputs=(x,), verbose=False)
    return float(macs) / 1e9, int(params)


# --------------------------------------------------------------------------- tables
def _torchvision_published_gmacs(spec: ModelSpec) -> float:
    """torchvision's published ``_ops`` (GMAC) for the weights whose crop is the spec's input size."""
    if not spec.source.startswith("torchvision:"):
        return float("nan")
    import torchvision

    name = spec.source.split(":", 1)[1]
    for weights in torchvision.models.get_model_weights(name):
        if int(weights.transforms.keywords["crop_size"]) == spec.input_size and "_ops" in weights.meta:
            return float(weights.meta["_ops"])
    return float("nan")


def count_model(spec: ModelSpec | str, thop: bool = True) -> dict:
    """Every count of one model at batch 1 and its evaluation input size, as one table row."""
    spec = spec if isinstance(spec, ModelSpec) else resolve_models(spec)[0]
    model = build_model(spec, device="meta")
    x = example_input(spec, 1, device="meta")
    counter = _count_all(model, x, log_softmax=True)
    row = {
        "model": spec.name,
        "input_size": spec.input_size,
        "source": spec.source,
        "params": count_params(model),
        "gmacs": counter.flops / 2 / 1e9,
        "gops": counter.total / 1e9,
        "gops_2016": counter.total_2016 / 1e9,
        "torchvision_gmacs": _torchvision_published_gmacs(spec),
    }
    if thop:
        try:
            row["thop_gmacs"], row["thop_params"] = count_thop(model, x)
        except Exception as exc:  # reported, never hidden
            row["thop_gmacs"], row["thop_params"] = float("nan"), pd.NA
            row["thop_error"] = f"{type(exc).__name__}: {exc}"
    return row
