"""The wire format round-trips values and refuses anything it does not understand."""
from __future__ import annotations

import json
import math
import socket
import struct
import threading
import time

import numpy as np
import pytest
import torch

from grader.sandboxed.protocol import (MAX_DEPTH, MAX_HEADER_BYTES, MAX_MESSAGE_BYTES, Decoder, Encoder, Handle,
                                       ProtocolViolation, recv, send)


def round_trip(value, **decoder_options):
    encoder = Encoder()
    tree = encoder.encode(value)
    tree = json.loads(json.dumps(tree))  # what actually travels
    return Decoder(encoder.blobs, **decoder_options).decode(tree)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64, torch.bfloat16,
                                   torch.int8, torch.int64, torch.uint8, torch.bool])
def test_tensors_keep_values_shape_and_dtype(dtype):
    tensor = (torch.randn(3, 4, 2) * 5).to(dtype)
    back = round_trip(tensor)
    assert back.dtype == dtype and back.shape == tensor.shape and torch.equal(back, tensor)


def test_zero_dim_tensor_stays_zero_dim_and_records_its_origin():
    x = torch.tensor(2.0, requires_grad=True)
    back = round_trip(x * 3)
    assert back.dim() == 0 and back.item() == 6.0
    assert back.gengrade_origin.has_grad_fn and back.gengrade_origin.device == "cpu"


def test_containers_and_special_floats():
    value = {"a": (1, 2.5, "s", None, True), "b": [math.inf, -math.inf], "c": np.arange(3)}
    back = round_trip(value)
    assert back["a"] == (1, 2.5, "s", None, True) and back["b"] == [math.inf, -math.inf]
    assert np.array_equal(back["c"], np.arange(3))
    assert math.isnan(round_trip(math.nan))


def test_worker_side_decoding_moves_tensors_and_keeps_requires_grad():
    back = round_trip(torch.ones(2).requires_grad_(), tensor_device="cpu")
    assert back.requires_grad and back.is_leaf


def test_meta_tensors_travel_as_shape_and_dtype_and_stay_on_meta_on_both_sides():
    """The device checks run student code on `meta`: those tensors have no values to send."""
    meta = torch.empty(2, 3, dtype=torch.float64, device="meta")
    on_worker = round_trip(meta, tensor_device="cpu")  # a CPU grading still hands the worker a meta tensor
    assert on_worker.is_meta and on_worker.shape == (2, 3) and on_worker.dtype == torch.float64
    back = round_trip(meta * 2)
    assert back.is_meta and back.gengrade_origin.device == "meta" and back.gengrade_origin.dtype == "float64"


@pytest.mark.parametrize("shape", [[-1, 2], [1] * 17, "x"])
def test_a_malformed_meta_tensor_is_a_protocol_violation(shape):
    with pytest.raises(ProtocolViolation):
        Decoder([]).decode({"meta_tensor": {"torch_dtype": "float32", "shape": shape}})


def test_unknown_objects_become_handles_only_when_allowed():
    with pytest.raises(TypeError):
        Encoder().encode(object())
    table = {}

    def to_handle(obj):
        table[len(table) + 1] = obj
        return Handle(len(table), type(obj).__name__)

    tree = Encoder(to_handle=to_handle).encode(torch.nn.Linear(2, 2))
    assert tree == {"handle": 1, "type": "Linear"}


@pytest.mark.parametrize("tree", [
    {"pickle": "gASVAAAAAAAAAAB9lC4="},             # unknown tag
    {"tensor": {"dtype": "object", "shape": [1], "blob": 0}},  # object arrays could unpickle
    {"ndarray": {"dtype": "float32", "shape": [1000], "blob": 0}},  # size does not match the bytes
    {"ndarray": {"dtype": "float32", "shape": [-1], "blob": 0}},
    {"a": 1, "b": 2, "c": 3},
    {"handle": float("inf")},                     # OverflowError in int()
    {"ndarray": {"dtype": "float32", "shape": [[1]], "blob": 0}},
    {"dict": [[1]]},
    {"tuple": 5},
    {"ndarray": "float32"},
])
def test_decoder_refuses_malformed_values(tree):
    with pytest.raises(ProtocolViolation):  # what Connection turns into "sent a malformed reply"
        Decoder([b"\x00" * 4]).decode(tree)


def test_oversized_message_is_refused_before_allocation():
    a, b = socket.socketpair()
    a.sendall(struct.pack(">Q", MAX_MESSAGE_BYTES + 1))
    with pytest.raises(ValueError):
        recv(b)
    a.close(), b.close()


def test_send_and_recv_over_a_socket():
    a, b = socket.socketpair()
    encoder = Encoder()
    tree = encoder.encode({"x": torch.arange(6.0).view(2, 3)})
    send(a, {"ok": tree}, encoder.blobs)
    header, blobs = recv(b)
    value = Decoder(blobs).decode(header["ok"])
    assert torch.equal(value["x"], torch.arange(6.0).view(2, 3))
    a.close(), b.close()


def _raw(header: bytes) -> bytes:
    return struct.pack(">Q", len(header)) + header


def _received(data: bytes, deadline: float | None = None):
    a, b = socket.socketpair()
    sender = threading.Thread(target=lambda: _send_quietly(a, data))
    sender.start()
    try:
        return recv(b, deadline)
    finally:
        b.close()
        sender.join()
        a.close()


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
    except OSError:  # the reader refused the message and closed its end
        pass


def test_headers_over_one_mebibyte_are_refused_before_reading_them():
    with pytest.raises(ProtocolViolation, match="header"):
        _received(struct.pack(">Q", MAX_HEADER_BYTES + 1) + b"{")


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 200_000])
def test_deeply_nested_headers_are_a_protocol_violation(depth):
    with pytest.raises(ProtocolViolation):
        _received(_raw(b'{"ok": ' + b"[" * depth + b"]" * depth + b"}"))


@pytest.mark.parametrize("sizes", ["[-5]", '["7"]', "[1.5]", "7", f"[{MAX_MESSAGE_BYTES + 1}]"])
def test_malformed_blob_sizes_are_a_protocol_violation(sizes):
    with pytest.raises(ProtocolViolation):
        _received(_raw(b'{"ok": null, "blob_sizes": ' + sizes.encode() + b"}"))


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"a": 1', b"\xff\xfe{}"])
def test_anything_else_malformed_is_a_protocol_violation(raw):
    with pytest.raises(ProtocolViolation):
        _received(_raw(raw))


def test_text_arrives_as_valid_utf8():
    header, _ = _received(_raw(b'{"ok": "\\ud800 lone", "\\udfff": ["\xff bad byte"]}'))
    assert header == {"ok": "\ufffd lone", "\ufffd": ["\ufffd bad byte"]}
    json.dumps(header, ensure_ascii=False).encode("utf-8")


def test_a_trickled_message_is_bounded_by_one_deadline_not_per_read():
    """One byte every 0.2 s never trips a per-recv timeout; the message's deadline still holds."""
    a, b = socket.socketpair()
    stop = threading.Event()

    def trickle():
        a.sendall(struct.pack(">Q", 1000))
        while not stop.is_set():
            a.sendall(b" ")
            time.sleep(0.2)

    thread = threading.Thread(target=trickle)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            recv(b, deadline=started + 1.0)
        assert time.monotonic() - started < 1.5
    finally:
        stop.set()
        thread.join()
        a.close(), b.close()
