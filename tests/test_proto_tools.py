"""The platform proto checker against good and bad fixtures, and the split/check round trip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from onboarding.cli import main
from onboarding.protocheck import check_files

FIXTURES = Path(__file__).parent / "fixtures" / "protos"
ROOT = Path(__file__).resolve().parents[1]

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


def test_split_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(ROOT / "model.proto", tmp_path / "model.proto")
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
