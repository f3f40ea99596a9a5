"""A file format for fitted estimators that loading cannot turn into code execution.

Pickle rebuilds objects by calling whatever function the file names, so a
pickled model is a program. This format stores a fitted estimator as data
only and rebuilds it from that data with a fixed, short list of operations:

- a JSON tree of plain values: ``None``, booleans, numbers, strings, lists,
  and tagged nodes for tuples, dicts (any plain keys), sets, slices, bytes,
  NumPy dtypes, NumPy scalar types (``numpy.float64`` as a parameter value),
  object arrays, pandas indexes (values, name, dtype), references to shared
  objects and estimator objects;
- NumPy arrays (numeric, boolean, fixed-width strings) as ``.npy`` members of an
  uncompressed zip, read with ``allow_pickle=False``;
- an estimator object is a class name and its state dict. The class must be a
  class of scikit-learn or sklearn-moa (its module is imported only when its
  name is one of their modules) that is a scikit-learn estimator, or one of a
  few named plain-state helpers (:data:`_EXTRA_CLASSES`, and sklearn-moa
  classes that set ``_plain_state = True``). It is created with
  ``cls.__new__(cls)`` and given its state through ``__setstate__`` (or its
  ``__dict__``): no constructor, no ``__reduce__``, no function named by the file
  is ever called.

Framework objects (torch modules, Keras models, XGBoost boosters, skorch
histories) are not stored as objects: each framework base turns its fitted
network into NumPy arrays and plain values in ``__getstate__`` and rebuilds it
from the estimator's own parameters in ``__setstate__``.

What a forged file can still do: make a wrong model (any allowed estimator
with any attribute values), use memory and time up to what its sizes say,
and make loading fail. What it cannot do: run code of its choice, import a
module outside scikit-learn and sklearn-moa, or create objects of other classes.
"""

import importlib
import io
import json
import zipfile
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator

__all__ = ["UnsafeStateError", "dump_state", "estimator_classes", "load_state"]

_TREE = "tree.json"
_ALLOWED_PACKAGES = ("sklearn", "sklearn_moa")
#: Plain-state classes of scikit-learn that are not estimators.
_EXTRA_CLASSES = {
    "sklearn.compose._column_transformer:make_column_selector",
}
_PLAIN_TYPES = (type(None), bool, int, float, str)


class UnsafeStateError(ValueError):
    """State that the safe format refuses to write or to read."""


def _allowed_types():
    types = {f"builtins.{t.__name__}": t for t in (bool, int, float, complex, str, bytes, object)}
    for scalar_type in set(np.sctypeDict.values()):
        types[f"numpy.{scalar_type.__name__}"] = scalar_type
    return types


_TYPES = _allowed_types()


def _class_name(cls):
    return f"{cls.__module__}:{cls.__qualname__}"


def _class_allowed(cls, trusted=()):
    if cls in trusted or _class_name(cls) in _EXTRA_CLASSES:
        return True
    if cls.__module__.split(".")[0] not in _ALLOWED_PACKAGES:
        return False
    return issubclass(cls, BaseEstimator) or (
        cls.__module__.split(".")[0] == "sklearn_moa" and cls.__dict__.get("_plain_state") is True
    )


def _resolve_class(name, trusted=()):
    """The class named ``module:qualname``, if the allow-list admits it."""
    if not isinstance(name, str):
        raise UnsafeStateError(f"bad class name {str(name)[:60]!r}")
    for cls in trusted:
        if _class_name(cls) == name:
            return cls
    module, _, qualname = str(name).partition(":")
    parts = module.split(".")
    listed = name in _EXTRA_CLASSES
    if not listed and (
        parts[0] not in _ALLOWED_PACKAGES
        or not all(p.isidentifier() and p != "__main__" and not p.lstrip("_").startswith("test")
                   for p in parts)
        or not qualname.isidentifier()
    ):
        raise UnsafeStateError(f"refusing class {name!r}: not a scikit-learn or sklearn-moa class")
    try:
        cls = getattr(importlib.import_module(module), qualname)
    except (ImportError, AttributeError) as exc:
        raise UnsafeStateError(f"class {name!r} does not exist in this installation ({exc})") from None
    if not isinstance(cls, type) or _class_name(cls) != name or not _class_allowed(cls):
        raise UnsafeStateError(f"refusing class {name!r}: not an estimator class")
    return cls


def estimator_classes(estimator):
    """The classes of ``estimator`` and of the estimators among its parameters (deep)."""
    classes = {type(estimator)}
    if hasattr(estimator, "get_params"):
        try:
            params = estimator.get_params(deep=True)
        except Exception:
            params = {}
        for value in params.values():
            if hasattr(value, "get_params") and not isinstance(value, type):
                classes.add(type(value))
    return tuple(classes)


class _Encoder:
    def __init__(self, trusted=()):
        self.trusted = tuple(trusted)
        self.arrays = []
        self.memo = {}  # id -> reference number
        self.keep = []  # keeps memoised objects alive, so ids stay unique

    def array(self, value):
        self.arrays.append(value)
        return len(self.arrays) - 1

    def encode(self, obj, path):
        kind = type(obj)
        if kind in _PLAIN_TYPES:
            return obj
        if kind is list:
            return [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]
        if kind is tuple:
            return {"$tuple": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]}
        if kind is dict:
            return {"$dict": self._items(obj, path)}
        if kind in (set, frozenset):
            return {"$set": [self.encode(v, path) for v in sorted(obj, key=repr)]}
        if kind is slice:
            return {"$slice": [self.encode(v, path) for v in (obj.start, obj.stop, obj.step)]}
        if kind in (bytes, bytearray):
            return {"$bytes": self.array(np.frombuffer(bytes(obj), dtype=np.uint8))}
        if kind is complex:
            return {"$scalar": self.array(np.asarray(obj))}
        if isinstance(obj, np.generic):
            if obj.dtype.hasobject:
                raise UnsafeStateError(f"{path}: object scalar")
            return {"$scalar": self.array(np.asarray(obj))}
        if isinstance(obj, np.dtype):
            if obj.fields is not None or obj.subdtype is not None:
                raise UnsafeStateError(f"{path}: structured dtype {obj}")
            return {"$dtype": obj.str}
        if isinstance(obj, type):
            name = f"{obj.__module__}.{obj.__name__}"
            if _TYPES.get(name) is not obj:
                raise UnsafeStateError(f"{path}: the type {name} (only NumPy and built-in scalar types)")
            return {"$type": name}
        if id(obj) in self.memo:
            return {"$ref": self.memo[id(obj)]}
        if kind is np.ndarray:
            return self._memo(obj, self._ndarray(obj, path))
        if isinstance(obj, np.random.RandomState):
            state = obj.get_state()
            return self._memo(obj, {"$random_state": [self.array(state[1]), int(state[2]),
                                                      int(state[3]), float(state[4])]})
        if kind.__module__.split(".")[0] == "pandas" and kind.__name__ in ("Index", "RangeIndex"):
            return self._memo(obj, {"$pandas_index": [
                self.encode(np.asarray(obj, dtype=object), path), self.encode(obj.name, path),
                str(obj.dtype),
            ]})
        if kind.__name__ == "Bunch" and kind.__module__.startswith("sklearn.utils"):
            return self._memo(obj, {"$bunch": self._items(obj, path)})
        if _class_allowed(kind, self.trusted):
            ref = len(self.memo)
            self.memo[id(obj)] = ref
            self.keep.append(obj)
            state = obj.__getstate__() if hasattr(obj, "__getstate__") else vars(obj)
            if state is None:
                state = {}
            if type(state) is not dict:
                raise UnsafeStateError(f"{path}: {kind.__name__} has a non-dict state")
            return {"$object": _class_name(kind), "id": ref, "state": self._items(state, path)}
        raise UnsafeStateError(
            f"{path} is a {kind.__module__}.{kind.__qualname__}, which the safe format does not store"
        )

    def _memo(self, obj, node):
        ref = len(self.memo)
        self.memo[id(obj)] = ref
        self.keep.append(obj)
        return {**node, "id": ref}

    def _items(self, mapping, path):
        return [[self.encode(k, path), self.encode(v, f"{path}.{k}")] for k, v in mapping.items()]

    def _ndarray(self, arr, path):
        if not arr.dtype.hasobject:
            if arr.dtype.fields is not None:
                raise UnsafeStateError(f"{path}: structured array")
            return {"$array": self.array(arr)}
        items = [self.encode(v, f"{path}[{i}]") for i, v in enumerate(arr.ravel().tolist())]
        return {"$objects": {"shape": list(arr.shape), "items": items}}


class _Decoder:
    def __init__(self, arrays, trusted=()):
        self.trusted = tuple(trusted)
        self.arrays = arrays
        self.memo = {}

    def array(self, index):
        if not isinstance(index, Integral) or isinstance(index, bool) or not 0 <= index < len(self.arrays):
            raise UnsafeStateError(f"bad array reference {index!r}")
        return self.arrays[index]

    def decode(self, node):
        kind = type(node)
        if kind in _PLAIN_TYPES:
            return node
        if kind is list:
            return [self.decode(v) for v in node]
        if kind is not dict or not node:
            raise UnsafeStateError(f"unexpected node {str(node)[:60]!r}")
        tag = next(iter(node))
        value = node[tag]
        if tag == "$tuple":
            return tuple(self.decode(v) for v in self._list(value))
        if tag == "$dict":
            return self._mapping(value, {})
        if tag == "$set":
            return set(self.decode(v) for v in self._list(value))
        if tag == "$slice":
            return slice(*(self.decode(v) for v in self._list(value, 3)))
        if tag == "$bytes":
            return self.array(value).tobytes()
        if tag == "$scalar":
            return self.array(value)[()]
        if tag == "$dtype":
            dtype = np.dtype(str(value))
            if dtype.hasobject and dtype != np.dtype(object):
                raise UnsafeStateError(f"bad dtype {value!r}")
            return dtype
        if tag == "$type":
            if value not in _TYPES:
                raise UnsafeStateError(f"refusing type {value!r}")
            return _TYPES[value]
        if tag == "$ref":
            if value not in self.memo:
                raise UnsafeStateError(f"bad object reference {value!r}")
            return self.memo[value]
        if tag == "$array":
            return self._remember(node, self.array(value))
        if tag == "$objects":
            shape = tuple(int(n) for n in self._list(value.get("shape")))
            items = [self.decode(v) for v in self._list(value.get("items"))]
            arr = np.empty(len(items), dtype=object)
            for i, item in enumerate(items):  # one by one: nested lists stay list elements
                arr[i] = item
            return self._remember(node, arr.reshape(shape))
        if tag == "$random_state":
            keys, pos, has_gauss, gauss = self._list(value, 4)
            keys = self.array(keys)
            if keys.shape != (624,) or not isinstance(pos, int) or not 0 <= pos <= 624:
                raise UnsafeStateError("bad RandomState state")
            rng = np.random.RandomState()
            rng.set_state(("MT19937", keys.astype(np.uint32), pos, int(has_gauss), float(gauss)))
            return self._remember(node, rng)
        if tag == "$pandas_index":
            import pandas as pd

            values, name, dtype = self._list(value, 3)
            values, name = self.decode(values), self.decode(name)
            if not isinstance(values, np.ndarray) or values.ndim != 1:
                raise UnsafeStateError("bad index values")
            try:
                index = pd.Index(values, name=name, dtype=pd.api.types.pandas_dtype(str(dtype)))
            except (TypeError, ValueError) as exc:
                raise UnsafeStateError(f"bad index: {exc}") from None
            return self._remember(node, index)
        if tag == "$bunch":
            from sklearn.utils import Bunch

            bunch = self._remember(node, Bunch())
            return self._mapping(value, bunch)
        if tag == "$object":
            cls = _resolve_class(value, self.trusted)
            obj = self._remember(node, cls.__new__(cls))
            state = self._mapping(node.get("state"), {})
            if not all(isinstance(k, str) for k in state):
                raise UnsafeStateError(f"{value}: attribute names must be strings")
            if hasattr(obj, "__setstate__"):
                obj.__setstate__(state)
            else:
                vars(obj).update(state)
            return obj
        raise UnsafeStateError(f"unknown tag {tag!r}")

    def _remember(self, node, obj):
        ref = node.get("id")
        if ref is not None:
            if not isinstance(ref, int) or ref in self.memo:
                raise UnsafeStateError(f"bad object id {ref!r}")
            self.memo[ref] = obj
        return obj

    def _list(self, value, length=None):
        if type(value) is not list or (length is not None and len(value) != length):
            raise UnsafeStateError(f"malformed node {str(value)[:60]!r}")
        return value

    def _mapping(self, pairs, target):
        for pair in self._list(pairs):
            key, value = self._list(pair, 2)
            key = self.decode(key)
            try:
                target[key] = self.decode(value)
            except TypeError:
                raise UnsafeStateError(f"unhashable key {str(key)[:60]!r}") from None
        return target


def dump_state(obj, file, trusted_classes=()):
    """Write ``obj`` to the binary ``file`` in the safe format.

    Parameters
    ----------
    obj : estimator or plain value
    file : binary file object
    trusted_classes : tuple of type, default=()
        More classes to store as objects (the caller's own estimator classes).

    Raises
    ------
    UnsafeStateError
        When ``obj`` holds something the format does not store (the message
        gives its path and type), before anything is written.
    """
    encoder = _Encoder(trusted_classes)
    tree = json.dumps(encoder.encode(obj, "estimator"), separators=(",", ":")).encode()
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(_TREE, tree)
        for i, arr in enumerate(encoder.arrays):
            with archive.open(f"{i}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asarray(arr), allow_pickle=False)


def _check_array_size(archive, name):
    """Refuse an array whose header promises more data than its member holds (memory bomb)."""
    with archive.open(name) as member:
        version = np.lib.format.read_magic(member)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read_header(member)
    if int(np.prod(shape, dtype=object)) * dtype.itemsize > archive.getinfo(name).file_size:
        raise UnsafeStateError(f"array {name} claims more data than the file holds")


def load_state(file, trusted_classes=()):
    """Read what :func:`dump_state` wrote; never runs code from the file.

    Parameters
    ----------
    file : binary file object (seekable) or bytes
    trusted_classes : tuple of type, default=()
        More classes the file may name, besides the allow-list: classes whose
        code the caller runs anyway (e.g. :func:`estimator_classes` of the
        estimator a checkpoint belongs to).

    Returns
    -------
    obj : the stored estimator or value

    Raises
    ------
    UnsafeStateError
        For anything outside the format: a class outside the allow-list, a
        compressed or missing member, a malformed tree.
    """
    if isinstance(file, (bytes, bytearray, memoryview)):
        file = io.BytesIO(file)
    try:
        archive = zipfile.ZipFile(file)
    except zipfile.BadZipFile as exc:
        raise UnsafeStateError(f"not a safe-format archive ({exc})") from None
    with archive:
        members = {info.filename: info for info in archive.infolist()}
        if any(info.compress_type != zipfile.ZIP_STORED for info in members.values()):
            raise UnsafeStateError("compressed members are not part of the format")
        if _TREE not in members:
            raise UnsafeStateError(f"the archive has no {_TREE}")
        try:
            tree = json.loads(archive.read(_TREE))
            n_arrays = len(members) - 1
            arrays = []
            for i in range(n_arrays):
                _check_array_size(archive, f"{i}.npy")
                with archive.open(f"{i}.npy") as member:
                    arrays.append(np.lib.format.read_array(member, allow_pickle=False))
        except KeyError as exc:
            raise UnsafeStateError(f"missing array member {exc}") from None
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise UnsafeStateError(f"damaged archive ({exc})") from None
    try:
        return _Decoder(arrays, trusted_classes).decode(tree)
    except RecursionError:
        raise UnsafeStateError("the state tree is nested too deeply") from None
