"""The wire format between the grader and the worker: JSON plus raw array bytes.

Never pickle: decoding a message from a hostile worker must not be able to run code
in the grader. A message is an 8-byte big-endian header length, a JSON header, then
the raw bytes of every array the header refers to. Values are encoded as tagged
JSON so tuples, tensors and handles survive the trip. A tensor on PyTorch's `meta` device
(shape and dtype, no values) travels as just that and arrives on `meta` on either side: the
grader's device checks run the student's code there (see api.hard_coded_devices).

The grader reads what a hostile worker wrote: headers are capped (MAX_HEADER_BYTES;
values travel as blobs), nested at most MAX_DEPTH deep, text arrives as valid UTF-8
(lone surrogates replaced), a whole message is read by one absolute deadline, and
anything malformed raises ProtocolViolation.
"""
from __future__ import annotations

import json
import math
import re
import socket
import struct
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

MAX_MESSAGE_BYTES = 256 * 1024 * 1024  # all blobs of one message together
MAX_HEADER_BYTES = 1024 * 1024
MAX_DEPTH = 64  # nesting of JSON containers in a header
MAX_BLOBS = 4096
MAX_DIMS = 16  # of a meta tensor's shape (it has no bytes to check the shape against)
_LEN = struct.Struct(">Q")
_SURROGATE = re.compile("[\ud800-\udfff]")


class ProtocolViolation(ValueError):
    """The peer sent something that is not a well-formed message (a worker breaking the protocol)."""

# numpy dtype name <-> torch dtype name; bfloat16 travels as its raw int16 bits.
_TENSOR_DTYPES = {
    "float16": "float16", "float32": "float32", "float64": "float64", "bfloat16": "int16",
    "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
    "uint8": "uint8", "bool": "bool",
}


@dataclass(frozen=True)
class Handle:
    """An opaque reference to an object that lives in the worker."""

    id: int
    type_name: str


@dataclass(frozen=True)
class TensorOrigin:
    """Where a returned tensor came from in the worker (it arrives on the CPU)."""

    device: str
    dtype: str
    requires_grad: bool
    has_grad_fn: bool


class Encoder:
    """Turns Python values into a JSON tree plus a list of byte blobs."""

    def __init__(self, to_handle: Callable[[Any], Handle] | None = None):
        self.blobs: list[bytes] = []
        self._to_handle = to_handle

    def encode(self, value: Any) -> Any:
        import torch  # the worker and the grader both have torch; keep import local for start-up order

        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"float": repr(value)}
        if isinstance(value, torch.Tensor):
            return self._tensor(value)
        if isinstance(value, np.ndarray):
            return {"ndarray": self._array(value)}
        if isinstance(value, np.generic):
            return self.encode(value.item())
        if isinstance(value, Handle):
            return {"handle": value.id, "type": value.type_name}
        if isinstance(value, tuple) and not hasattr(value, "_fields"):
            return {"tuple": [self.encode(v) for v in value]}
        if isinstance(value, list):
            return {"list": [self.encode(v) for v in value]}
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"dict": [[k, self.encode(v)] for k, v in value.items()]}
        if isinstance(value, torch.Size):
            return {"tuple": [int(v) for v in value]}
        if isinstance(value, (torch.dtype, torch.device)):
            return {"repr": str(value)}
        if self._to_handle is None:
            raise TypeError(f"cannot send a {type(value).__name__} to the worker")
        handle = self._to_handle(value)
        return {"handle": handle.id, "type": handle.type_name}

    def _array(self, array: np.ndarray) -> dict:
        array = np.require(array, requirements="C")  # keeps 0-d arrays 0-d, unlike ascontiguousarray
        self.blobs.append(array.tobytes())
        return {"dtype": array.dtype.name, "shape": list(array.shape), "blob": len(self.blobs) - 1}

    def _tensor(self, tensor: Any) -> dict:
        import torch

        dtype = str(tensor.dtype).removeprefix("torch.")
        if dtype not in _TENSOR_DTYPES:
            raise TypeError(f"tensors of dtype {dtype} cannot travel")
        if tensor.is_meta:
            return {"meta_tensor": {"torch_dtype": dtype, "shape": [int(s) for s in tensor.shape],
                                    "requires_grad": bool(tensor.requires_grad),
                                    "has_grad_fn": tensor.grad_fn is not None}}
        data = tensor.detach().to("cpu")
        if dtype == "bfloat16":
            data = data.view(torch.int16)
        meta = self._array(data.contiguous().numpy())
        meta.update(
            torch_dtype=dtype,
            device=str(tensor.device),
            requires_grad=bool(tensor.requires_grad),
            has_grad_fn=tensor.grad_fn is not None,
        )
        return {"tensor": meta}


class Decoder:
    """Rebuilds values from a JSON tree; only the tags of `Encoder` are understood."""

    def __init__(self, blobs: list[bytes], from_handle: Callable[[Handle], Any] | None = None,
                 tensor_device: str | None = None):
        self._blobs = blobs
        self._from_handle = from_handle
        self._device = tensor_device

    def decode(self, node: Any) -> Any:
        """The value of a tree; a malformed tree (a peer's doing) raises ProtocolViolation,
        whatever broke in it (KeyError from `from_handle` passes through as it is)."""
        try:
            return self._decode(node, 0)
        except ProtocolViolation:
            raise
        except (ValueError, TypeError, IndexError, OverflowError, AttributeError, RecursionError) as exc:
            raise ProtocolViolation(f"malformed value ({type(exc).__name__}: {exc})") from None

    def _decode(self, node: Any, depth: int) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or len(node) not in (1, 2) or depth > MAX_DEPTH:
            raise ValueError("malformed value")
        if "tuple" in node:
            return tuple(self._decode(v, depth + 1) for v in node["tuple"])
        if "list" in node:
            return [self._decode(v, depth + 1) for v in node["list"]]
        if "dict" in node:
            return {str(k): self._decode(v, depth + 1) for k, v in node["dict"]}
        if "float" in node:
            return float(node["float"]) if node["float"] in ("nan", "inf", "-inf") else math.nan
        if "ndarray" in node:
            return self._array(node["ndarray"])
        if "tensor" in node:
            return self._tensor(node["tensor"])
        if "meta_tensor" in node:
            return self._meta_tensor(node["meta_tensor"])
        if "handle" in node:
            handle = Handle(int(node["handle"]), str(node.get("type", "object")))
            return self._from_handle(handle) if self._from_handle else handle
        if "repr" in node:
            return str(node["repr"])
        raise ValueError("unknown value tag")

    def _array(self, meta: dict) -> np.ndarray:
        dtype = np.dtype(meta["dtype"])
        if dtype.name not in set(_TENSOR_DTYPES.values()):
            raise ValueError(f"dtype {dtype} not allowed")
        shape = tuple(int(s) for s in meta["shape"])
        blob = self._blobs[int(meta["blob"])]
        if any(s < 0 for s in shape) or math.prod(shape) * dtype.itemsize != len(blob):
            raise ValueError("array size does not match its bytes")
        return np.frombuffer(blob, dtype=dtype).reshape(shape).copy()

    def _tensor(self, meta: dict) -> Any:
        import torch

        array = self._array(meta)
        tensor = torch.from_numpy(array)
        if meta.get("torch_dtype") == "bfloat16":
            tensor = tensor.view(torch.bfloat16)
        if self._device is not None:  # worker side: arguments go to the check's device, grad flag kept
            tensor = tensor.to(self._device)
            if meta.get("requires_grad") and tensor.is_floating_point():
                tensor.requires_grad_(True)
            return tensor
        return _with_origin(tensor, meta, str(meta.get("device", "cpu")), str(meta.get("torch_dtype", array.dtype.name)))

    def _meta_tensor(self, meta: dict) -> Any:
        """A tensor on `meta` on both sides: it has no values, so it stays there whatever the device."""
        import torch

        dtype = str(meta["torch_dtype"])
        shape = [int(s) for s in meta["shape"]]
        if dtype not in _TENSOR_DTYPES or len(shape) > MAX_DIMS or any(s < 0 for s in shape):
            raise ValueError("malformed meta tensor")
        tensor = torch.empty(shape, dtype=getattr(torch, dtype), device="meta")
        if self._device is not None:
            if meta.get("requires_grad") and tensor.is_floating_point():
                tensor.requires_grad_(True)
            return tensor
        return _with_origin(tensor, meta, "meta", dtype)


def _with_origin(tensor: Any, meta: dict, device: str, dtype: str) -> Any:
    """The grader's copy of a returned tensor, labelled with where it came from."""
    tensor.gengrade_origin = TensorOrigin(  # type: ignore[attr-defined]
        device=device, dtype=dtype, requires_grad=bool(meta.get("requires_grad", False)),
        has_grad_fn=bool(meta.get("has_grad_fn", False)))
    return tensor


def send(sock: socket.socket, header: dict, blobs: list[bytes] = ()) -> None:
    """Write one message: header length, JSON header (with blob sizes), blobs."""
    header = dict(header, blob_sizes=[len(b) for b in blobs])
    raw = json.dumps(header, allow_nan=False).encode()
    sock.sendall(_LEN.pack(len(raw)) + raw)
    for blob in blobs:
        sock.sendall(blob)


def _recv_exact(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    """n bytes, all of them before `deadline` (time.monotonic()); TimeoutError past it,
    however slowly the peer trickles bytes."""
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("message not complete before its deadline")
            sock.settimeout(remaining)
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise ConnectionError("peer closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv(sock: socket.socket, deadline: float | None = None) -> tuple[dict, list[bytes]]:
    """Read one message by `deadline`; refuse oversized or malformed ones before allocating them."""
    (length,) = _LEN.unpack(_recv_exact(sock, _LEN.size, deadline))
    if length > MAX_HEADER_BYTES:
        raise ProtocolViolation(f"message header of {length} bytes (at most {MAX_HEADER_BYTES})")
    header = parse_header(_recv_exact(sock, length, deadline))
    sizes = header.pop("blob_sizes", [])
    if (not isinstance(sizes, list) or len(sizes) > MAX_BLOBS
            or not all(type(s) is int and s >= 0 for s in sizes) or sum(sizes) > MAX_MESSAGE_BYTES):
        raise ProtocolViolation("malformed or oversized message body")
    return header, [_recv_exact(sock, s, deadline) for s in sizes]


def parse_header(raw: bytes) -> dict:
    """The JSON object of a header, its text as valid UTF-8 and its depth bounded."""
    try:
        header = json.loads(raw.decode("utf-8", "replace"))
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting far deeper than MAX_DEPTH
        raise ProtocolViolation(f"message header is not JSON ({type(exc).__name__})") from None
    if not isinstance(header, dict):
        raise ProtocolViolation("message header is not an object")
    return _clean(header, 0)


def _clean(node: Any, depth: int) -> Any:
    if isinstance(node, str):
        return _SURROGATE.sub("\ufffd", node)
    if isinstance(node, (list, dict)):
        if depth >= MAX_DEPTH:
            raise ProtocolViolation(f"message header nested deeper than {MAX_DEPTH}")
        if isinstance(node, list):
            return [_clean(v, depth + 1) for v in node]
        return {_clean(k, depth): _clean(v, depth + 1) for k, v in node.items()}
    return node
