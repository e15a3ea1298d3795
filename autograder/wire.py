"""Plain data between the trusted scorer and a sandboxed student process, and nothing else.

Only tensors, numbers, strings, ``None`` and lists/tuples/dicts of them cross, written with
``torch.save`` and read with ``torch.load(weights_only=True)``: no object is ever unpickled, so a
hostile process cannot make the trusted one run code, and a tensor subclass cannot cross (it is
rebuilt as a plain tensor before sending, and refused when read). What is not plain data crosses
as a tagged reference:

``{"__handle__": n}``    an object that stays in the process that made it (a layer's cache, an instance)
``{"__callback__": n}``  a callable of the trusted side that the student's code may call back
``{"__dtype__": name}``  a torch dtype
``{"__generator__": state}``  a CPU ``torch.Generator``, as a copy in the same state (a random function's
                         argument; what the other side draws from it does not come back)

Messages are framed by an 8-byte length on a pair of binary pipes; a message over ``MAX_BYTES`` or
a malformed one ends the conversation (:class:`WireError`).
"""
from __future__ import annotations

import io
import struct
from typing import Any, BinaryIO, Callable

import torch

__all__ = ["WireError", "encode", "decode", "send", "receive", "MAX_BYTES", "Handle"]

MAX_BYTES = 256 * 2**20
_HEADER = struct.Struct("<Q")
_DTYPES = {str(d).replace("torch.", ""): d for d in (torch.float16, torch.bfloat16, torch.float32, torch.float64,
                                                      torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8,
                                                      torch.bool, torch.complex64, torch.complex128)}
_PLAIN = (type(None), bool, int, float, str)


class WireError(RuntimeError):
    """The other side sent something that is not a well-formed plain-data message."""


class Handle:
    """A reference to an object kept by the other process."""

    __slots__ = ("id",)

    def __init__(self, id: int):
        self.id = int(id)

    def __repr__(self) -> str:
        return f"<object kept by the student's process #{self.id}>"


def encode(value: Any, keep: Callable[[Any], int], callback: Callable[[Callable], int] | None = None, depth=0):
    """``value`` as plain data: tensors detached to the CPU, containers copied, the rest by reference."""
    if depth > 50:
        raise WireError("the value is nested too deeply")
    if type(value) in _PLAIN:
        return value
    if isinstance(value, (bool, int, float, str)):  # subclasses (numpy scalars, lying floats) become plain
        for kind in (bool, int, float, str):
            if isinstance(value, kind):
                return kind(value)
    if isinstance(value, Handle):
        return {"__handle__": value.id}
    if isinstance(value, torch.dtype):
        return {"__dtype__": str(value).replace("torch.", "")}
    if type(value) is torch.Generator and value.device.type == "cpu":
        return {"__generator__": value.get_state()}
    if issubclass(type(value), torch.Tensor):
        t = value.detach()
        if t.is_sparse or t.device.type == "meta" or t.is_nested:
            return {"__handle__": keep(value)}
        t = t.to("cpu")
        return t.clone() if type(t) is torch.Tensor else torch.tensor(t.tolist(), dtype=t.dtype)
    if type(value) in (list, tuple):
        items = [encode(v, keep, callback, depth + 1) for v in value]
        return items if type(value) is list else tuple(items)
    if type(value) is dict and all(type(k) is str and not k.startswith("__") for k in value):
        return {k: encode(v, keep, callback, depth + 1) for k, v in value.items()}
    if callback is not None and callable(value) and not isinstance(value, type):
        return {"__callback__": callback(value)}
    try:  # numpy arrays and scalars of a student: as tensors
        import numpy as np

        if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biufc":
            return torch.as_tensor(np.array(value))
    except Exception:
        pass
    return {"__handle__": keep(value)}


def decode(value: Any, resolve: Callable[[dict], Any], depth=0):
    """The inverse of :func:`encode`; ``resolve`` turns a tagged reference into an object."""
    if depth > 50:
        raise WireError("the value is nested too deeply")
    if type(value) in _PLAIN:
        return value
    if type(value) is torch.Tensor:
        return value
    if type(value) is list:
        return [decode(v, resolve, depth + 1) for v in value]
    if type(value) is tuple:
        return tuple(decode(v, resolve, depth + 1) for v in value)
    if type(value) is dict:
        if len(value) == 1 and "__dtype__" in value:
            if value["__dtype__"] not in _DTYPES:
                raise WireError(f"unknown dtype {value['__dtype__']!r}")
            return _DTYPES[value["__dtype__"]]
        if len(value) == 1 and "__generator__" in value:
            state = value["__generator__"]
            if type(state) is not torch.Tensor or state.dtype != torch.uint8 or state.dim() != 1:
                raise WireError("a generator's state must be a 1-d uint8 tensor")
            try:
                return torch.Generator().set_state(state)
            except Exception as exc:
                raise WireError(f"not a generator's state: {exc}") from None
        if len(value) == 1 and ("__handle__" in value or "__callback__" in value):
            if type(next(iter(value.values()))) is not int:
                raise WireError("a reference must be an int")
            return resolve(value)
        return {k: decode(v, resolve, depth + 1) for k, v in value.items() if type(k) is str}
    raise WireError(f"{type(value).__name__} is not plain data")


def send(stream: BinaryIO, message: Any) -> None:
    buf = io.BytesIO()
    torch.save(message, buf)
    data = buf.getvalue()
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read(stream: BinaryIO, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise WireError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(stream: BinaryIO, max_bytes: int = MAX_BYTES) -> Any:
    (n,) = _HEADER.unpack(_read(stream, _HEADER.size))
    if n > max_bytes:
        raise WireError(f"a message of {n} bytes is over the limit of {max_bytes}")
    try:
        return torch.load(io.BytesIO(_read(stream, n)), weights_only=True)
    except WireError:
        raise
    except Exception as exc:
        raise WireError(f"not a plain-data message ({type(exc).__name__})") from None
