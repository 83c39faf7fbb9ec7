"""The per-node protos of a pipeline: compiled with the real compiler, their rpcs, and message structure.

Messages travel through the orchestrator as serialized bytes, so two linked rpcs are compatible when their
messages have the same wire structure (field numbers, types, labels, recursively), whatever their names.
"""

from __future__ import annotations

import base64
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from components.common.contract import compile_proto
from components.common.errors import InvalidInput

_FieldType = descriptor_pb2.FieldDescriptorProto
Shape = tuple[object, ...]


@dataclass(frozen=True)
class Rpc:
    """One rpc of a node's service."""

    service: str
    name: str
    input_type: str
    output_type: str
    input_stream: bool
    output_stream: bool

    @property
    def method(self) -> str:
        """The method path the orchestrator calls (package-less, as on the platform)."""
        return f"/{self.service}/{self.name}"


@dataclass(frozen=True)
class NodeProto:
    """A node's compiled proto: its service's rpcs and every message by full name (no leading dot)."""

    service: str
    rpcs: dict[str, Rpc]
    messages: dict[str, descriptor_pb2.DescriptorProto]
    file: descriptor_pb2.FileDescriptorProto

    def is_empty(self, type_name: str) -> bool:
        """Whether ``type_name`` is the platform's start/stop marker (a message named ``Empty``)."""
        return type_name.rsplit(".", 1)[-1] == "Empty"

    def decode(self, type_name: str, data: bytes) -> dict[str, Any]:
        """A serialized message of this proto as plain Python values (every field present, ints as ints)."""
        pool = descriptor_pool.DescriptorPool()
        pool.Add(self.file)
        cls = message_factory.GetMessageClass(pool.FindMessageTypeByName(type_name))
        return _plain(cls.FromString(data))

    def shape(self, type_name: str) -> Shape:
        """The wire structure of a message: sorted (number, label, type, nested shape) per field."""
        return _shape(self.messages, type_name, ())


def _shape(messages: dict[str, descriptor_pb2.DescriptorProto], name: str, seen: tuple[str, ...]) -> Shape:
    if name in seen:
        return ("recursive", seen.index(name))
    message = messages.get(name)
    if message is None:
        return ("unknown", name)
    fields = []
    for f in message.field:
        nested: object = ""
        if f.type in (_FieldType.TYPE_MESSAGE, _FieldType.TYPE_GROUP):
            nested = _shape(messages, f.type_name.lstrip("."), (*seen, name))
        fields.append((f.number, f.label, f.type, nested))
    return tuple(sorted(fields, key=lambda item: item[0]))


def _plain(message: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for f in message.DESCRIPTOR.fields:
        value = getattr(message, f.name)
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            result[f.name] = {k: _plain(v) if hasattr(v, "DESCRIPTOR") else v for k, v in value.items()}
        elif f.message_type is not None:
            result[f.name] = [_plain(v) for v in value] if _repeated(f) else _plain(value)
        elif f.type == _FieldType.TYPE_BYTES:
            result[f.name] = [base64.b64encode(v).decode() for v in value] if _repeated(f) else \
                base64.b64encode(value).decode()
        else:
            result[f.name] = list(value) if _repeated(f) else value
    return result


def _repeated(f: Any) -> bool:
    # ``label`` is deprecated (gone in recent protobuf releases) in favour of ``is_repeated``.
    repeated = getattr(f, "is_repeated", None)
    return bool(repeated if repeated is not None else f.label == _FieldType.LABEL_REPEATED)


def _collect(prefix: str, types: list[descriptor_pb2.DescriptorProto],
             into: dict[str, descriptor_pb2.DescriptorProto]) -> None:
    for message in types:
        full = f"{prefix}{message.name}"
        into[full] = message
        _collect(f"{full}.", list(message.nested_type), into)


def from_descriptor(fd: descriptor_pb2.FileDescriptorProto) -> NodeProto:
    """A ``NodeProto`` from a compiled file; ``InvalidInput`` unless it has exactly one service."""
    if len(fd.service) != 1:
        raise InvalidInput(f"exactly one service is required, found {len(fd.service)}")
    prefix = f"{fd.package}." if fd.package else ""
    messages: dict[str, descriptor_pb2.DescriptorProto] = {}
    _collect(prefix, list(fd.message_type), messages)
    service = fd.service[0]
    rpcs = {
        m.name: Rpc(service.name, m.name, m.input_type.lstrip("."), m.output_type.lstrip("."),
                    m.client_streaming, m.server_streaming)
        for m in service.method
    }
    return NodeProto(service.name, rpcs, messages, fd)


def parse_proto(text: str, filename: str = "model.proto") -> NodeProto:
    """Compile proto ``text`` on its own; ``InvalidInput`` with the compiler's message when it does not compile."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(filename).name) or "model.proto"
    with tempfile.TemporaryDirectory(prefix="ai4cop-proto-") as tmp:
        path = Path(tmp) / safe
        path.write_text(text, encoding="utf-8")
        descriptor, error = compile_proto(path)
    if descriptor is None:
        first = error.splitlines()[0] if error else "does not compile"
        raise InvalidInput(f"{filename} does not compile: {first.replace(str(path), safe)}")
    return from_descriptor(descriptor)


def parse_protos(files: dict[str, str]) -> tuple[dict[str, NodeProto], dict[str, str]]:
    """Compile several protos at once (in parallel); returns (parsed by key, error message by key)."""
    parsed: dict[str, NodeProto] = {}
    errors: dict[str, str] = {}

    def one(key: str) -> None:
        try:
            parsed[key] = parse_proto(files[key], key)
        except InvalidInput as err:
            errors[key] = str(err)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, files))
    return parsed, errors
