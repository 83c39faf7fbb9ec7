"""Onboarding: license profiles validate, the package is written, and the REST upload speaks the platform's API.

The upload goes to a real HTTP server on loopback that answers like the platform's onboarding-app.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import SecretStr

from components.common.errors import InvalidInput, Unavailable, UpstreamError
from onboarding.cli import main
from onboarding.images import IMAGES, REPO_ROOT
from onboarding.onboard import ONBOARDING_PATH, check_license, license_schema, push, write_package

TOKEN = "s3cr3t-token-value"


@pytest.mark.parametrize("component", list(IMAGES))
def test_every_license_is_an_acumos_license_profile(component: str) -> None:
    document = json.loads((REPO_ROOT / IMAGES[component].license).read_text())
    jsonschema.Draft4Validator.check_schema(license_schema())
    jsonschema.validate(document, license_schema(), cls=jsonschema.Draft4Validator)
    assert document["keyword"] == "Apache-2.0" and document["rtuRequired"] is False


@pytest.mark.parametrize(("change", "message"), [
    ({"rtuRequired": "no"}, "rtuRequired: 'no' is not of type 'boolean'"),
    ({"copyright": {"year": "2026", "company": "x", "suffix": "y"}}, "copyright/year"),
    ({"keyword": None}, "keyword"),
])
def test_a_bad_license_is_rejected_saying_where(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    document = json.loads((REPO_ROOT / IMAGES["comax"].license).read_text())
    document.update(change)
    path = tmp_path / "license.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InvalidInput, match="not an Acumos license profile") as info:
        check_license(path)
    assert message in str(info.value)


def test_a_missing_required_field_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "license.json"
    path.write_text(json.dumps({"keyword": "MIT"}))
    with pytest.raises(InvalidInput, match="'\\$schema' is a required property"):
        check_license(path)


def test_package_holds_the_checked_proto_license_and_image(tmp_path: Path) -> None:
    package = write_package("comax", "ghcr.io/ai4cop/ai4cop-comax:0.1.0", tmp_path / "pkg")
    assert package.proto.read_text() == (REPO_ROOT / "components/comax/model.proto").read_text()
    assert json.loads(package.license.read_text())["keyword"] == "Apache-2.0"
    manifest = json.loads((tmp_path / "pkg" / "onboarding.json").read_text())
    assert manifest == {"modelname": "ai4cop-comax", "component": "comax",
                        "dockerFileURL": "ghcr.io/ai4cop/ai4cop-comax:0.1.0", "protobuf": "model.proto",
                        "license": "license.json"}


def test_orchestrator_package_carries_its_control_proto(tmp_path: Path) -> None:
    package = write_package("orchestrator", "ai4cop-orchestrator:1", tmp_path)
    assert "service Orchestrator {" in package.proto.read_text()


class Platform:
    """A loopback onboarding-app: records requests, answers 201 with a solution id or an error."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 201
        self.body: dict[str, Any] = {"result": {"solutionId": "sol-1234"}}
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
                form = BytesParser(policy=HTTP).parsebytes(head + body)
                parts = {part.get_param("name", header="content-disposition"): part for part in form.iter_parts()}
                platform.requests.append({
                    "path": self.path, "headers": dict(self.headers),
                    "parts": {name: part.get_payload(decode=True) for name, part in parts.items()},
                    "filenames": {name: part.get_filename() for name, part in parts.items()},
                })
                payload = json.dumps(platform.body).encode()
                self.send_response(platform.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def platform() -> Iterator[Platform]:
    server = Platform()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_push_sends_the_platforms_multipart_request(tmp_path: Path, platform: Platform,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    package = write_package("comax", "ghcr.io/ai4cop/ai4cop-comax:0.1.0", tmp_path)
    with caplog.at_level(logging.DEBUG):
        assert push(package, platform.url, "alice", SecretStr(TOKEN)) == "sol-1234"
    (request,) = platform.requests
    assert request["path"] == ONBOARDING_PATH
    headers = {key.lower(): value for key, value in request["headers"].items()}
    assert headers["modelname"] == "ai4cop-comax"
    assert headers["authorization"] == f"alice:{TOKEN}"
    assert headers["dockerfileurl"] == "ghcr.io/ai4cop/ai4cop-comax:0.1.0"
    assert headers["iscreatemicroservice"] == "false"
    assert request["filenames"] == {"protobuf": "model.proto", "license": "license.json"}
    assert request["parts"]["protobuf"].decode() == package.proto.read_text()
    assert TOKEN not in caplog.text


def test_push_reports_the_servers_error(tmp_path: Path, platform: Platform) -> None:
    platform.status, platform.body = 400, {"status": "FAILURE", "message": "Invalid protobuf: service missing"}
    package = write_package("comax", "ai4cop-comax:1", tmp_path)
    with pytest.raises(UpstreamError, match="HTTP 400: Invalid protobuf: service missing"):
        push(package, platform.url + ONBOARDING_PATH, "alice", SecretStr(TOKEN))


def test_push_needs_a_solution_id_in_a_201(tmp_path: Path, platform: Platform) -> None:
    platform.body = {"result": {}}
    package = write_package("comax", "ai4cop-comax:1", tmp_path)
    with pytest.raises(UpstreamError, match=r"without result\.solutionId"):
        push(package, platform.url, "alice", SecretStr(TOKEN))


def test_push_to_nowhere_is_unavailable(tmp_path: Path) -> None:
    package = write_package("comax", "ai4cop-comax:1", tmp_path)
    with pytest.raises(Unavailable, match="cannot reach"):
        push(package, "http://127.0.0.1:9", "alice", SecretStr(TOKEN), timeout=5)


def test_cli_onboard_and_push_with_the_token_from_the_environment(
        tmp_path: Path, platform: Platform, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AI4COP_ONBOARDING_TOKEN", TOKEN)
    code = main(["onboard", "databroker", "--image", "ai4cop-databroker:1", "-o", str(tmp_path / "p"),
                 "--push", platform.url, "--user", "bob"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "solutionId sol-1234" in out.out and TOKEN not in out.out + out.err
    assert (tmp_path / "p" / "model.proto").exists()


def test_cli_push_without_token_is_one_readable_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AI4COP_ONBOARDING_TOKEN", raising=False)
    out = tmp_path / "package"
    code = main(["onboard", "comax", "--image", "x:1", "-o", str(out), "--push", "http://127.0.0.1:9",
                 "--user", "bob"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "AI4COP_ONBOARDING_TOKEN" in err
    assert not out.exists()  # refused before anything was written


@pytest.mark.parametrize(("args", "message"), [
    (["--push", "http://127.0.0.1:9"], "--push needs --user"),
    (["--push", "ftp://platform", "--user", "bob"], "--push needs an http(s) URL"),
])
def test_cli_push_options_are_checked_before_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str], args: list[str],
                                                     message: str) -> None:
    monkeypatch.setenv("AI4COP_ONBOARDING_TOKEN", TOKEN)
    out = tmp_path / "package"
    assert main(["onboard", "comax", "--image", "x:1", "-o", str(out), *args]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_orchestrator_client_help_describes_it() -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(REPO_ROOT / "onboarding/assets/orchestrator_client.py"), "--help"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0
    assert "Run the solution's pipeline through its orchestrator" in proc.stdout
