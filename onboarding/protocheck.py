"""Check ``.proto`` files against the platform's onboarding rules (docs/platform.md, section 2).

Every file is compiled with the real compiler (grpcio-tools), then checked line by line (the platform's
proto parser is line based) and structurally (from the compiled descriptor). Several files are also
checked as one pipeline: a message name means one definition everywhere, and no service name repeats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import descriptor_pb2

from components.common.contract import compile_proto


@dataclass(frozen=True)
class Violation:
    """One broken rule, printed as ``file:line: [rule] message``."""

    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.message}"


@dataclass
class ProtoFile:
    path: Path
    lines: list[str]
    descriptor: descriptor_pb2.FileDescriptorProto | None


def _code_lines(lines: list[str]) -> list[tuple[str, str]]:
    """(code, comment) per line, with ``/* */`` block comments treated as comments."""
    result = []
    in_block = False
    for raw in lines:
        code, comment, i = "", "", 0
        while i < len(raw):
            if in_block:
                end = raw.find("*/", i)
                comment += raw[i:] if end < 0 else raw[i:end + 2]
                if end < 0:
                    break
                in_block, i = False, end + 2
            elif raw[i] in "\"'":
                # a quoted string (json_name = "http://x") is code, whatever it contains
                end = raw.find(raw[i], i + 1)
                end = len(raw) if end < 0 else end + 1
                code += raw[i:end]
                i = end
            elif raw.startswith("//", i):
                comment += raw[i:]
                break
            elif raw.startswith("/*", i):
                in_block, i = True, i + 2
                comment += "/*"
            else:
                code += raw[i]
                i += 1
        result.append((code.rstrip(), comment.strip()))
    return result


_SYNTAX = re.compile(r"""^\s*syntax\s*=\s*(['"])([^'"]*)\1\s*;""")


def _line_rules(path: str, lines: list[str]) -> list[Violation]:
    found: list[Violation] = []

    def add(lineno: int, rule: str, message: str) -> None:
        found.append(Violation(path, lineno, rule, message))

    saw_syntax = False
    for lineno, (code, comment) in enumerate(_code_lines(lines), start=1):
        stripped = code.strip()
        if not stripped:
            continue
        if comment:
            add(lineno, "trailing-comment", "comment on a code line; put comments on their own line")
        syntax = _SYNTAX.match(code)
        if syntax:
            saw_syntax = True
            if syntax.group(1) != '"':
                add(lineno, "syntax", 'syntax must use double quotes: syntax = "proto3";')
            if syntax.group(2) != "proto3":
                add(lineno, "proto3", f'syntax must be "proto3", not "{syntax.group(2)}"')
        word = stripped.split()[0].split("{")[0]
        if word == "package":
            add(lineno, "no-package", "'package' is not allowed: the platform merges protos package-less")
        elif word == "import":
            add(lineno, "no-import", f"imports are not allowed: {stripped}")
        elif word == "enum":
            add(lineno, "no-enum", "'enum' is not allowed (use int32 or string fields)")
        elif word in {"extend", "extensions"}:
            add(lineno, "no-extension", f"'{word}' is not allowed")
        elif word == "service" and code != code.lstrip():
            add(lineno, "service-column", "the 'service' line must start at column 0")
        elif word == "rpc" and ("{" in code or not code.endswith(";")):
            add(lineno, "rpc-format", "an rpc line must end with ';' (never '{}' or a body)")
        if re.search(r"\S\{", code):
            add(lineno, "brace-space", "put a space before '{'")
        if "{" in code and not code.endswith("{"):
            add(lineno, "brace-newline", "nothing may follow '{' on its line; '}' goes on its own line")
        elif "}" in code and stripped != "}":
            add(lineno, "brace-newline", "'}' must be on its own line")
    if not saw_syntax:
        add(1, "proto3", 'missing syntax = "proto3"; (a file without it is proto2)')
    return found


def _find_line(lines: list[str], pattern: str) -> int:
    regex = re.compile(pattern)
    for lineno, line in enumerate(lines, start=1):
        if regex.search(line):
            return lineno
    return 1


def _structure_rules(proto: ProtoFile) -> list[Violation]:
    assert proto.descriptor is not None
    fd, path, lines = proto.descriptor, str(proto.path), proto.lines
    found: list[Violation] = []
    if len(fd.service) != 1:
        line = _find_line(lines, r"^\s*service\b") if fd.service else 1
        found.append(Violation(path, line, "one-service",
                               f"exactly one service block is required, found {len(fd.service)}"))
    for message in fd.message_type:
        for nested in message.nested_type:
            if not nested.options.map_entry:
                found.append(Violation(path, _find_line(lines, rf"\bmessage\s+{nested.name}\b"), "no-nested",
                                       f"nested message {message.name}.{nested.name}: define it at top level"))
    top_level = {m.name for m in fd.message_type}
    for service in fd.service:
        for method in service.method:
            line = _find_line(lines, rf"\brpc\s+{method.name}\b")
            for type_name in (method.input_type, method.output_type):
                if type_name == ".google.protobuf.Empty":
                    found.append(Violation(path, line, "empty-message",
                                           "google.protobuf.Empty is not recognised: define 'message Empty' here"))
                elif type_name.lstrip(".") not in top_level:
                    found.append(Violation(path, line, "rpc-types",
                                           f"rpc {method.name} uses {type_name.lstrip('.')}, "
                                           "which is not a top-level message of this file"))
    return found


def check_files(paths: list[Path]) -> list[Violation]:
    """All violations of the platform rules in ``paths``, each file alone and all as one pipeline."""
    found: list[Violation] = []
    parsed: list[ProtoFile] = []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as err:
            found.append(Violation(str(path), 1, "readable", f"cannot read the file: {err}"))
            continue
        descriptor, error = compile_proto(path)
        proto = ProtoFile(path, lines, descriptor)
        if descriptor is None:
            first = error.splitlines()[0] if error else "does not compile"
            match = re.match(r"^[^:]+:(\d+):\d+:\s*(.*)$", first)
            line, message = (int(match.group(1)), match.group(2)) if match else (1, first)
            found.append(Violation(str(path), line, "compile", f"does not compile: {message}"))
        found.extend(_line_rules(str(path), lines))
        if descriptor is not None:
            found.extend(_structure_rules(proto))
            parsed.append(proto)
    found.extend(_pipeline_rules(parsed))
    return found


def _pipeline_rules(protos: list[ProtoFile]) -> list[Violation]:
    found: list[Violation] = []
    messages: dict[str, tuple[str, bytes]] = {}
    services: dict[str, str] = {}
    for proto in protos:
        assert proto.descriptor is not None
        for message in proto.descriptor.message_type:
            definition = message.SerializeToString(deterministic=True)
            seen = messages.setdefault(message.name, (str(proto.path), definition))
            if seen[1] != definition:
                found.append(Violation(str(proto.path), _find_line(proto.lines, rf"\bmessage\s+{message.name}\b"),
                                       "same-definition",
                                       f"message {message.name} differs from its definition in {seen[0]}"))
        for service in proto.descriptor.service:
            other = services.setdefault(service.name, str(proto.path))
            if other != str(proto.path):
                found.append(Violation(str(proto.path), _find_line(proto.lines, rf"^service\s+{service.name}\b"),
                                       "unique-service", f"service {service.name} is also defined in {other}"))
    return found
