"""The platform proto checker against good and bad fixtures, and the split/check round trip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from components.common.errors import FailedPrecondition, InvalidInput
from onboarding.cli import main
from onboarding.protocheck import check_files
from onboarding.protosplit import render
from onboarding.protostubs import stubs

FIXTURES = Path(__file__).parent / "fixtures" / "protos"
ROOT = Path(__file__).resolve().parents[1]
ORCHESTRATOR_PROTO = Path("components/orchestrator/orchestrator.proto")
STUBS = {
    Path("components/common/contract_pb2.pyi"),
    Path("components/common/contract_pb2_grpc.pyi"),
    Path("components/orchestrator/orchestrator_pb2.pyi"),
    Path("components/orchestrator/orchestrator_pb2_grpc.pyi"),
}

BAD = {
    "bad_single_quotes.proto": "syntax",
    "bad_empty_one_line.proto": "brace-newline",
    "bad_brace_space.proto": "brace-space",
    "bad_rpc_braces.proto": "rpc-format",
    "bad_package.proto": "no-package",
    "bad_enum.proto": "no-enum",
    "bad_nested_enum.proto": "no-enum",
    "bad_import_empty.proto": "no-import",
    "bad_proto2.proto": "proto3",
    "bad_two_services.proto": "one-service",
    "bad_does_not_compile.proto": "compile",
    "bad_nested_message.proto": "no-nested",
    "bad_service_indented.proto": "service-column",
    "bad_trailing_comment.proto": "trailing-comment",
}


@pytest.mark.parametrize(("name", "rule"), sorted(BAD.items()))
def test_bad_proto_is_rejected_naming_the_rule(name: str, rule: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / name
    assert main(["proto", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"[{rule}]" in out
    for line in out.splitlines():
        assert line.startswith(f"{path}:"), line
        assert int(line.split(":")[1]) >= 1


def test_import_of_google_empty_also_flags_the_rpc() -> None:
    rules = {v.rule for v in check_files([FIXTURES / "bad_import_empty.proto"])}
    assert {"no-import", "empty-message"} <= rules


def test_compile_error_points_at_the_line() -> None:
    [violation] = [v for v in check_files([FIXTURES / "bad_does_not_compile.proto"]) if v.rule == "compile"]
    assert violation.line == 4


def test_valid_streaming_proto_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proto", "check", str(FIXTURES / "good_streaming.proto")]) == 0
    assert "follow the platform rules" in capsys.readouterr().out


def test_pipeline_rules_same_message_same_definition_and_unique_services() -> None:
    violations = check_files([FIXTURES / "good_streaming.proto", FIXTURES / "pipeline_other_reading.proto"])
    rules = {v.rule for v in violations}
    assert rules == {"same-definition", "unique-service"}


def test_component_protos_pass_alone_and_as_one_pipeline() -> None:
    files = sorted(ROOT.glob("components/*/model.proto"))
    assert {p.parent.name for p in files} >= {"databroker", "comax", "geotriples_adapter"}
    assert check_files(files) == []


def test_split_is_current() -> None:
    assert main(["proto", "split", "--root", str(ROOT / "model.proto"), "--check"]) == 0


def _repository_copy(tmp_path: Path) -> str:
    """The root contract and the orchestrator's proto (both read by ``proto split``) in ``tmp_path``."""
    shutil.copy(ROOT / "model.proto", tmp_path / "model.proto")
    (tmp_path / ORCHESTRATOR_PROTO).parent.mkdir(parents=True)
    shutil.copy(ROOT / ORCHESTRATOR_PROTO, tmp_path / ORCHESTRATOR_PROTO)
    return str(tmp_path / "model.proto")


def test_split_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _repository_copy(tmp_path)
    root = str(tmp_path / "model.proto")
    assert main(["proto", "split", "--root", root, "--check"]) == 1
    assert main(["proto", "split", "--root", root]) == 0
    assert main(["proto", "split", "--root", root, "--check"]) == 0
    generated = tmp_path / "components" / "comax" / "model.proto"
    assert generated.read_text() == (ROOT / "components" / "comax" / "model.proto").read_text()
    generated.write_text(generated.read_text().replace("double max_mol_m2 = 3;", "float max_mol_m2 = 3;"))
    capsys.readouterr()
    assert main(["proto", "split", "--root", root, "--check"]) == 1
    assert "comax/model.proto: stale" in capsys.readouterr().err


def test_messages_are_byte_identical_across_components() -> None:
    texts = [p.read_text() for p in ROOT.glob("components/*/model.proto")]
    product = [t[t.index("message Product {"):].split("\n}\n")[0] for t in texts if "message Product {" in t]
    assert len(product) >= 2
    assert len(set(product)) == 1


def test_committed_stubs_are_what_mypy_protobuf_writes_now() -> None:
    rendered = render(ROOT / "model.proto")
    assert {path for path in rendered if path.suffix == ".pyi"} == STUBS
    for path in sorted(STUBS):
        assert (ROOT / path).read_text(encoding="utf-8") == rendered[path], f"{path} drifted: run ai4cop proto split"


def test_stubs_follow_model_proto(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _repository_copy(tmp_path)
    assert main(["proto", "split", "--root", root]) == 0
    model = tmp_path / "model.proto"
    text = model.read_text()
    model.write_text(text.replace("  string query_end = 14;\n", "  string query_end = 14;\n  int32 orbit = 15;\n"))
    capsys.readouterr()
    assert main(["proto", "split", "--root", root, "--check"]) == 1
    assert "contract_pb2.pyi: stale" in capsys.readouterr().err
    assert main(["proto", "split", "--root", root]) == 0
    stub = (tmp_path / "components" / "common" / "contract_pb2.pyi").read_text()
    assert "    orbit: _builtins.int\n" in stub
    grpc_stub = (tmp_path / "components" / "common" / "contract_pb2_grpc.pyi").read_text()
    assert "from components.common import contract_pb2 as _contract_pb2" in grpc_stub
    orchestrator = tmp_path / "components" / "orchestrator" / "orchestrator_pb2_grpc.pyi"
    orchestrator.write_text(orchestrator.read_text() + "# edited by hand\n")
    capsys.readouterr()
    assert main(["proto", "split", "--root", root, "--check"]) == 1
    assert "orchestrator_pb2_grpc.pyi: stale" in capsys.readouterr().err


def test_split_names_a_missing_orchestrator_proto(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(ROOT / "model.proto", tmp_path / "model.proto")
    assert main(["proto", "split", "--root", str(tmp_path / "model.proto")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "orchestrator.proto is missing" in err


def test_stubs_of_a_broken_proto_name_it() -> None:
    with pytest.raises(InvalidInput, match=r"components/x/broken\.proto: no type stubs"):
        stubs(Path("components/x/broken.proto"), 'syntax = "proto3";\nmessage A {\n  strin a = 1;\n}\n')


def test_missing_plugin_names_mypy_protobuf() -> None:
    from onboarding.protostubs import _plugin

    with pytest.raises(FailedPrecondition, match="needs mypy-protobuf"):
        _plugin("protoc-gen-ai4cop-missing")
