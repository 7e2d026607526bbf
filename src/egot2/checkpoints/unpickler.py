"""A restricted unpickler for the authors' checkpoint files: it rebuilds data, never runs code.

The released Lightning files pickle more than tensors (a yacs ``CfgNode`` of hyper-parameters, Lightning
callback state, numpy scalars). ``torch.load(weights_only=True)`` refuses them and
``weights_only=False`` would import and call whatever the file names. This unpickler sits in between:

* tensors are rebuilt through torch's own storage machinery (``torch._utils._rebuild_*``);
* numbers, strings, bytes and plain containers (``dict``, ``OrderedDict``, ``list``, ``set`` ...) are
  rebuilt as themselves, numpy scalars of numeric dtypes as numbers;
* every other global the file names becomes an inert :class:`Placeholder` subclass that records the
  arguments, items and state it is given. Nothing from the file is ever imported or called.

:data:`restricted_pickle` is a module-like object to pass as ``torch.load(pickle_module=...)``.
"""

from __future__ import annotations

import collections
import pickle
import types
from typing import Any

import numpy as np
import torch


class Placeholder:
    """An inert stand-in for an object of a class the restricted unpickler does not rebuild.

    It accepts any constructor arguments, items (``obj[k] = v``), appended values and state, and keeps
    them for inspection: ``args``, ``items``, ``values`` and ``state``. Its class has the
    ``placeholder_module`` and ``placeholder_name`` of the global the file named.
    """

    placeholder_module: str = ""
    placeholder_name: str = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> Placeholder:
        obj = object.__new__(cls)
        object.__setattr__(obj, "args", args)
        object.__setattr__(obj, "kwargs", kwargs)
        object.__setattr__(obj, "items", {})
        object.__setattr__(obj, "values", [])
        object.__setattr__(obj, "state", None)
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        self.items[key] = value

    def __getitem__(self, key: Any) -> Any:
        return self.items[key]

    def append(self, value: Any) -> None:
        self.values.append(value)

    def extend(self, values: Any) -> None:
        self.values.extend(values)

    def __setstate__(self, state: Any) -> None:
        object.__setattr__(self, "state", state)

    def __repr__(self) -> str:
        return f"<placeholder {self.placeholder_module}.{self.placeholder_name}>"


_PLACEHOLDERS: dict[tuple[str, str], type[Placeholder]] = {}


def placeholder_class(module: str, name: str) -> type[Placeholder]:
    """The (cached) inert placeholder class standing for ``module.name``."""
    key = (module, name)
    if key not in _PLACEHOLDERS:
        _PLACEHOLDERS[key] = type(
            f"Placeholder[{module}.{name}]",
            (Placeholder,),
            {"placeholder_module": module, "placeholder_name": name, "__module__": __name__},
        )
    return _PLACEHOLDERS[key]


def _latin1_encode(text: Any, encoding: str = "utf-8", errors: str = "strict") -> Any:
    """``_codecs.encode`` as protocol-2 pickles use it for ``bytes``; only text codecs are honoured."""
    if isinstance(text, str) and encoding in ("latin1", "latin-1", "utf-8", "utf8", "ascii"):
        return text.encode(encoding, errors)
    return placeholder_class("_codecs", "encode")(text, encoding, errors)


def _numpy_dtype(name: Any, *args: Any) -> Any:
    """``numpy.dtype`` for plain numeric / bool / string dtype names only."""
    try:
        dtype = np.dtype(name)
    except TypeError:
        return placeholder_class("numpy", "dtype")(name, *args)
    if dtype.kind not in "biufcSU" or dtype.fields is not None:
        return placeholder_class("numpy", "dtype")(name, *args)
    return _InertDtype(dtype)


class _InertDtype:
    """A numpy dtype whose pickled ``__setstate__`` is ignored (the dtype name already says it all)."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype

    def __setstate__(self, state: Any) -> None:
        pass


def _numpy_scalar(dtype: Any, data: Any = None) -> Any:
    """``numpy.core.multiarray.scalar``: a numeric scalar from its raw bytes, as a Python number."""
    if isinstance(dtype, _InertDtype) and isinstance(data, bytes) and len(data) == dtype.dtype.itemsize:
        return np.frombuffer(data, dtype=dtype.dtype)[0].item()
    return placeholder_class("numpy.core.multiarray", "scalar")(dtype, data)


_BUILTINS: dict[str, type] = {
    t.__name__: t
    for t in (dict, list, tuple, set, frozenset, int, float, complex, bool, str, bytes, bytearray, slice, range)
}
_TORCH_REBUILD = {"_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_parameter",
                  "_rebuild_parameter_with_state"}  # fmt: skip


def _allowed_global(module: str, name: str) -> Any | None:
    """The real object for an allow-listed global, else ``None``."""
    if module in ("builtins", "__builtin__") and name in _BUILTINS:
        return _BUILTINS[name]
    if module == "collections" and name == "OrderedDict":
        return collections.OrderedDict
    if module == "torch._utils" and name in _TORCH_REBUILD:
        return getattr(torch._utils, name)
    if module == "torch" and name == "Size":
        return torch.Size
    if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
        return getattr(torch, name)
    if module == "_codecs" and name == "encode":
        return _latin1_encode
    if module == "numpy" and name == "dtype":
        return _numpy_dtype
    if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name == "scalar":
        return _numpy_scalar
    return None


class RestrictedUnpickler(pickle.Unpickler):
    """A :class:`pickle.Unpickler` that rebuilds tensors, numbers, strings and plain containers only.

    Every other global becomes an inert :func:`placeholder_class`; nothing named by the file is imported.
    """

    def find_class(self, module: str, name: str) -> Any:
        allowed = _allowed_global(module, name)
        if allowed is not None:
            return allowed
        return placeholder_class(module, name)


def _restricted_load(file: Any, **kwargs: Any) -> Any:
    return RestrictedUnpickler(file, **kwargs).load()


def _restricted_loads(data: bytes, **kwargs: Any) -> Any:
    import io

    return RestrictedUnpickler(io.BytesIO(data), **kwargs).load()


# A module-like object for ``torch.load(..., pickle_module=restricted_pickle, weights_only=False)``.
restricted_pickle = types.SimpleNamespace(
    __name__="egot2.checkpoints.restricted_pickle",
    Unpickler=RestrictedUnpickler,
    load=_restricted_load,
    loads=_restricted_loads,
    UnpicklingError=pickle.UnpicklingError,
    HIGHEST_PROTOCOL=pickle.HIGHEST_PROTOCOL,
)
