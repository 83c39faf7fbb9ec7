"""docs/real-data.md, run: every command of its ``sh`` blocks, in order, against loopback servers shaped like
CDSE's (an OData catalogue answering as the real one does, and an S3 server holding the ``eodata`` layout, with
product folders, and a public ``meeo-s5p`` bucket). Only the endpoints differ from the page: they are set
explicitly (``DATABROKER_URL``, ``COMAX_S3_ENDPOINT``), which wins over the provider's, as the page says."""

from __future__ import annotations

import copy
import json
import re
import shlex
import signal
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import shapely

from components.comax.sample import Plant, orbit_number, write_product
from components.databroker.catalogues.footprint import read_facts
from onboarding.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "real-data.md"
RECORDED = ROOT.parent / "shared" / "data" / "s5p" / "cdse_odata_search_response_eodag.json"
DAYS = [datetime(2024, 3, 1, 12, tzinfo=UTC), datetime(2024, 3, 2, 12, tzinfo=UTC)]
PLANTED = [0.2, 0.15]


def doc_commands() -> list[str]:
    """The logical lines of the page's ``sh`` blocks (continuations joined, comments dropped)."""
    blocks = re.findall(r"^```sh\n(.*?)^```", DOC.read_text(), flags=re.M | re.S)
    lines = "\n".join(blocks).replace("\\\n", " ").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


@pytest.fixture(scope="module")
def products(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("cdse-products")
    return [write_product(folder, day, orbit=orbit_number(day), scanlines=300, seed=index,
                          plant=[Plant(47.0 - index, 10.0, PLANTED[index])])
            for index, day in enumerate(DAYS)]


def _s3_path(path: Path, folder_layout: bool) -> str:
    day = path.name[20:28]
    base = f"/eodata/Sentinel-5P/TROPOMI/L2__CO____/{day[:4]}/{day[4:6]}/{day[6:]}"
    return f"{base}/{path.name.removesuffix('.nc')}" if folder_layout else f"{base}/{path.name}"


def odata_items(products: list[Path]) -> list[dict[str, Any]]:
    """CDSE OData ``Products`` entries for the products, on the recorded answer's exact structure."""
    if RECORDED.is_file():
        template = json.loads(RECORDED.read_text())["value"][0]
    else:
        template = {"@odata.mediaContentType": "application/octet-stream", "ContentType": "application/octet-stream",
                    "Online": True, "Checksum": [], "Attributes": [], "Assets": []}
    items = []
    for index, path in enumerate(products):
        facts = read_facts(path)
        item = copy.deepcopy(template)
        footprint = shapely.from_wkt(facts.footprint_wkt)
        item.update({
            "Id": str(uuid.UUID(int=index + 1)), "Name": path.name, "ContentLength": path.stat().st_size,
            # the first product in CDSE's folder layout, the second as the file itself
            "S3Path": _s3_path(path, folder_layout=index == 0),
            "ContentDate": {"Start": facts.start.isoformat().replace("+00:00", ".000Z"),
                            "End": facts.end.isoformat().replace("+00:00", ".000Z")},
            "Footprint": f"geography'SRID=4326;{footprint.wkt}'", "GeoFootprint": footprint.__geo_interface__,
            "Checksum": [{"Value": "0" * 32, "Algorithm": "MD5"}],
            "Attributes": [{"@odata.type": "#OData.CSC.StringAttribute", "Name": "productType",
                            "Value": "L2__CO____", "ValueType": "String"},
                           {"@odata.type": "#OData.CSC.IntegerAttribute", "Name": "orbitNumber",
                            "Value": facts.orbit, "ValueType": "Integer"}],
        })
        items.append(item)
    return items


class Catalogue:
    """A loopback CDSE OData catalogue: ``/odata/v1/Products`` answers the products whose time matches."""

    def __init__(self, items: list[dict[str, Any]]):
        self.filters: list[str] = []
        catalogue = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path != "/odata/v1/Products":
                    self.send_error(404)
                    return
                text = parse_qs(url.query).get("$filter", [""])[0]
                catalogue.filters.append(text)
                start = re.search(r"ContentDate/End gt (\S+)", text)
                end = re.search(r"ContentDate/Start lt (\S+)", text)
                found = [item for item in items
                         if (start is None or item["ContentDate"]["End"] > start.group(1))
                         and (end is None or item["ContentDate"]["Start"] < end.group(1))]
                body = json.dumps({"@odata.context": "$metadata#Products", "value": found}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/odata/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def archive(products: list[Path]) -> Iterator[str]:
    """A loopback S3 server: ``eodata`` (private) as CDSE lays it out, ``meeo-s5p`` (public) as on AWS."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=url, aws_access_key_id="admin", aws_secret_access_key="admin",
                          region_name="us-east-1")
    client.create_bucket(Bucket="eodata")
    for index, path in enumerate(products):
        key = _s3_path(path, folder_layout=index == 0).removeprefix("/eodata/")
        client.upload_file(str(path), "eodata", f"{key}/{path.name}" if index == 0 else key)
    client.create_bucket(Bucket="meeo-s5p")
    client.upload_file(str(products[0]), "meeo-s5p", f"OFFL/L2__CO____/2024/03/01/{products[0].name}")
    client.put_bucket_policy(Bucket="meeo-s5p", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": ["arn:aws:s3:::meeo-s5p", "arn:aws:s3:::meeo-s5p/*"]}]}))
    yield url
    server.stop()


@pytest.fixture()
def catalogue(products: list[Path]) -> Iterator[Catalogue]:
    served = Catalogue(odata_items(products))
    yield served
    served.stop()


def run_line(line: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    """One line of the page as a shell would run it: ``export`` sets variables, ``A=b ai4cop ...`` runs the
    command with ``A=b`` for it alone; returns what the command printed."""
    words = shlex.split(line)
    if words[0] == "export":
        for word in words[1:]:
            name, _, value = word.partition("=")
            monkeypatch.setenv(name, value)
        return ""
    with monkeypatch.context() as scoped:
        while "=" in words[0]:
            name, _, value = words.pop(0).partition("=")
            scoped.setenv(name, value)
        assert words[0] == "ai4cop", line
        # `ai4cop run` turns SIGTERM into Ctrl-C for its process: here that is pytest's, so put it back after
        handler = signal.getsignal(signal.SIGTERM)
        try:
            code = main(words[1:])
        finally:
            signal.signal(signal.SIGTERM, handler)
        out, err = capsys.readouterr()
    assert code == 0, f"{line}\n{err}"
    return out


def test_the_real_data_walkthrough_runs_as_written(products: list[Path], archive: str, catalogue: Catalogue,
                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    (home / "s5p").mkdir(parents=True)
    (home / "s5p" / products[0].name).write_bytes(products[0].read_bytes())
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "SHARED_FOLDER_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("DATABROKER_URL", catalogue.url)
    monkeypatch.setenv("COMAX_S3_ENDPOINT", archive)
    monkeypatch.chdir(ROOT)
    names = [path.name for path in products]
    outputs: dict[str, str] = {}
    lines = doc_commands()
    assert any(line.startswith("export DATABROKER_PROVIDER=cdse COMAX_PROVIDER=cdse") for line in lines)
    for line in lines:
        outputs[line] = run_line(line, monkeypatch, capsys)
    commands = [line for line in lines if "ai4cop" in line]
    assert len(commands) == 6
    search, comax, run, creodias, public, local = (outputs[line] for line in commands)
    # the search lists both products with their archive hrefs, the first one a product folder
    assert f"s3://eodata{_s3_path(products[0], True).removeprefix('/eodata')}" in search
    assert f"s3://eodata{_s3_path(products[1], False).removeprefix('/eodata')}" in search
    assert search.rstrip().endswith("2 products") and creodias.rstrip().endswith("2 products")
    assert all("L2__CO____" in text and "_OFFL_" in text and "OData.CSC.Intersects" in text
               for text in catalogue.filters)
    # the folder href of the page is the first product's; its planted maximum is found
    assert comax.startswith(f"max CO {PLANTED[0]:.6g} mol m-2") and names[0] in comax
    result = json.loads(run)
    assert result["max_mol_m2"] == pytest.approx(PLANTED[0]) and result["product"] == names[0]
    # the last call's answer: the aggregate over both products, with the last product's own result
    assert result["products_analyzed"] == 2 and not result["error"] and not result["products"][0]["error"]
    assert not (tmp_path / "cache" / "ai4cop" / "demo").exists()  # no sample data for a real-data run
    assert public.startswith(f"max CO {PLANTED[0]:.6g} mol m-2")
    assert names[0] in local and local.rstrip().endswith("1 product")
    assert (datetime.fromisoformat(result["time"]) - DAYS[0]) < timedelta(hours=1)
