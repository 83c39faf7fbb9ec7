"""The component over real gRPC (a server on port 0) and the ``ai4cop geotriples`` CLI."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import shapely
from rdflib import URIRef

from components.common.contract import contract_pb2, contract_pb2_grpc
from components.common.server import create_server
from components.geotriples_adapter.app import Settings, build
from onboarding.cli import main as cli
from tests.geotriples_helpers import GEO, parse, wkt_values, write_geojson, write_shapefile

pytestmark = pytest.mark.timeout(60)

POINT_GEOJSON = (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"n": 1}, '
                 b'"geometry": {"type": "Point", "coordinates": [1, 2]}}]}')


@pytest.fixture()
def shared(tmp_path: Path) -> Path:
    folder = tmp_path / "shared"
    folder.mkdir()
    return folder


@pytest.fixture()
def stub(shared: Path) -> Iterator[object]:
    settings = Settings(port=0, shared_folder=shared, chunk_features=2, base_iri="http://ex.org")
    server, port = create_server(build(settings).services, settings)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield contract_pb2_grpc.GeoTriplesStub(channel)
    finally:
        channel.close()
        server.stop(0)


def test_settings_refuse_a_base_iri_that_is_not_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("GEOTRIPLES_BASE_IRI", "not an iri")
    with pytest.raises(ValidationError, match="base IRI 'not an iri' is not an absolute IRI"):
        Settings()


def test_settings_default_to_platform_shared_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARED_FOLDER_PATH", "/srv/shared")
    assert Settings().shared_folder == Path("/srv/shared")
    monkeypatch.setenv("GEOTRIPLES_SHARED_FOLDER", "/srv/other")
    assert Settings().shared_folder == Path("/srv/other")


def test_convert_path_streams_chunks(stub, shared: Path) -> None:  # type: ignore[no-untyped-def]
    write_geojson(shared)
    chunks = list(stub.convert(contract_pb2.GeoData(path="places.geojson", rdf_format="turtle")))
    assert len(chunks) > 2 and all(c.rdf_format == "turtle" for c in chunks)
    graph = parse("".join(c.data for c in chunks), "turtle")
    assert sum(c.triples for c in chunks) == len(graph) == 56
    assert all(c.data for c in chunks) and chunks[-1].skipped == 0  # no empty closing chunk when nothing is skipped
    assert "http://ex.org/places/id/4" in wkt_values(graph)


def test_convert_inline_shapefile_zip(stub, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shp = write_shapefile(tmp_path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for suffix in (".shp", ".shx", ".dbf", ".prj"):
            archive.write(shp.with_suffix(suffix), f"parcels{suffix}")
    chunks = stub.convert(contract_pb2.GeoData(data=buffer.getvalue(), format="shapefile", layer="Parcel"))
    graph = parse("".join(c.data for c in chunks))
    assert wkt_values(graph)["http://ex.org/Parcel/id/1"].startswith(
        "<http://www.opengis.net/def/crs/EPSG/0/32634> POLYGON")


@pytest.mark.parametrize(("request_fields", "code", "text"), [
    ({"path": "../etc/passwd"}, grpc.StatusCode.PERMISSION_DENIED, "'..'"),
    ({"path": "/etc/passwd"}, grpc.StatusCode.PERMISSION_DENIED, "outside the shared folder"),
    ({"path": "missing.geojson"}, grpc.StatusCode.NOT_FOUND, "not found"),
    ({}, grpc.StatusCode.INVALID_ARGUMENT, "exactly one of data"),
    ({"data": b"{}"}, grpc.StatusCode.INVALID_ARGUMENT, "format is required"),
    ({"data": b"id,WKT\n1,POINT (1\n", "format": "csv"}, grpc.StatusCode.INVALID_ARGUMENT, "feature 1"),
    ({"data": b"{}", "format": "geojson", "rdf_format": "rdfxml"}, grpc.StatusCode.INVALID_ARGUMENT,
     "unknown RDF format"),
    ({"data": POINT_GEOJSON, "format": "geojson", "base_iri": "not an iri"}, grpc.StatusCode.INVALID_ARGUMENT,
     "base IRI 'not an iri' is not an absolute IRI"),
    ({"data": POINT_GEOJSON, "format": "geojson", "layer": "bad layer/x"}, grpc.StatusCode.INVALID_ARGUMENT,
     "layer name 'bad layer/x' is not usable"),
])
def test_convert_errors(stub, request_fields, code, text) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as err:
        list(stub.convert(contract_pb2.GeoData(**request_fields)))
    assert err.value.code() == code
    assert text in err.value.details()


@pytest.mark.parametrize(("request_fields", "text"), [
    ({"data": b"{bad", "format": "geojson"}, "input.geojson is not valid GeoJSON"),
    ({"data": b"not a zip", "format": "shapefile"}, "shapefile data must be a .zip"),
    ({"path": "corrupt.geojson"}, "corrupt.geojson is not valid GeoJSON"),
    ({"path": "fake.shp"}, "fake.shp is not a readable Shapefile"),
])
def test_undecodable_client_input_is_invalid_argument(stub, shared: Path, request_fields,  # type: ignore[no-untyped-def]
                                                      text) -> None:
    (shared / "corrupt.geojson").write_bytes(b'{"type": "FeatureCollection", "features": [{"type": ')
    (shared / "fake.shp").write_bytes(b"not a shapefile")
    with pytest.raises(grpc.RpcError) as err:
        list(stub.convert(contract_pb2.GeoData(**request_fields)))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert text in err.value.details()
    assert len(list(stub.convert(contract_pb2.GeoData(data=POINT_GEOJSON, format="geojson")))) == 1  # still serving


def test_input_corrupt_after_streaming_began_is_invalid_argument(stub, shared: Path) -> None:  # type: ignore[no-untyped-def]
    feature = b'{"type": "Feature", "properties": {"n": 1}, "geometry": {"type": "Point", "coordinates": [1, 2]}}'
    # the first 200 features (what generate-mapping samples) are fine, the file breaks after them
    (shared / "late.geojson").write_bytes(b'{"type": "FeatureCollection", "features": ['
                                          + b", ".join([feature] * 300) + b", {broken")
    received = []
    with pytest.raises(grpc.RpcError) as err:
        for chunk in stub.convert(contract_pb2.GeoData(path="late.geojson")):
            received.append(chunk)
    assert received and err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "late.geojson is not valid JSON" in err.value.details()


BOWTIE = {"type": "Feature", "properties": {"n": 3},
          "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}
POINT = {"type": "Feature", "properties": {"n": 1}, "geometry": {"type": "Point", "coordinates": [1, 2]}}


@pytest.mark.parametrize("rdf_format", ["ntriples", "turtle"])
def test_skip_count_arrives_when_every_feature_is_skipped(stub, shared: Path,  # type: ignore[no-untyped-def]
                                                          rdf_format: str) -> None:
    import json

    (shared / "bowtie.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [BOWTIE]}))
    chunks = list(stub.convert(contract_pb2.GeoData(path="bowtie.geojson", skip_invalid=True, rdf_format=rdf_format)))
    assert chunks and chunks[-1].skipped == 1 and chunks[-1].data == "" and sum(c.triples for c in chunks) == 0


def test_skip_count_of_a_last_batch_all_skipped(stub, shared: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    # chunk_features=2: the first batch converts, the second holds only the invalid feature
    features = [POINT, POINT, BOWTIE]
    (shared / "tail.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    chunks = list(stub.convert(contract_pb2.GeoData(path="tail.geojson", skip_invalid=True)))
    assert [(bool(c.data), c.skipped) for c in chunks] == [(True, 0), (False, 1)]
    assert chunks[-1].triples == 0 and sum(c.triples for c in chunks) == len(parse(chunks[0].data))


def test_client_mapping_cannot_read_outside(stub, shared: Path) -> None:  # type: ignore[no-untyped-def]
    write_geojson(shared)
    mapping = (Path(__file__).parent / "nothing").as_posix()
    text = (f'@prefix rr: <http://www.w3.org/ns/r2rml#> . @prefix rml: <http://semweb.mmlab.be/ns/rml#> .\n'
            f'<http://ex.org/m> rml:logicalSource [ rml:source "{mapping}" ; '
            f'rml:referenceFormulation <http://semweb.mmlab.be/ns/ql#CSV> ] ; '
            f'rr:subjectMap [ rr:template "http://ex.org/{{id}}" ] .')
    with pytest.raises(grpc.RpcError) as err:
        list(stub.convert(contract_pb2.GeoData(path="places.geojson", mapping=text)))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_product_to_rdf(stub) -> None:  # type: ignore[no-untyped-def]
    product = contract_pb2.Product(id="S5P_1", name="S5P_OFFL_L2__CO_____1", href="s3://eodata/x.nc",
                                 start="2024-01-01T00:00:00Z", footprint_wkt="POLYGON ((0 0, 1 0, 1 1, 0 0))",
                                 size_bytes=1234)
    chunk = stub.product_to_rdf(product)
    graph = parse(chunk.data)
    assert chunk.triples == len(graph)
    _crs, _, wkt = wkt_values(graph)["http://ex.org/Product/id/S5P_1"].partition("> ")
    assert shapely.from_wkt(wkt).equals(shapely.from_wkt(product.footprint_wkt))
    with pytest.raises(grpc.RpcError) as err:
        stub.product_to_rdf(contract_pb2.Product(id="x", footprint_wkt="POLYGON ((0 0"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_comax_to_rdf_as_sosa_observations(stub) -> None:  # type: ignore[no-untyped-def]
    item = contract_pb2.ProductResult(product="p1", max_mol_m2=0.05, max_molecules_cm2=3.0e18, latitude=38.0,
                                    longitude=23.5, time="2024-01-01T10:00:00Z", valid_pixels=10)
    result = contract_pb2.COMaxResult(max_mol_m2=0.05, max_molecules_cm2=3.0e18, latitude=38.0, longitude=23.5,
                                    time="2024-01-01T10:00:00Z", product="p1", valid_pixels=10,
                                    aoi_wkt="POLYGON ((23 37, 24 37, 24 38, 23 37))", products=[item],
                                    products_analyzed=1)
    graph = parse(stub.comax_to_rdf(result).data)
    sosa = "http://www.w3.org/ns/sosa/"
    observations = set(graph.subjects(URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                                      URIRef(sosa + "Observation")))
    assert len(observations) == 2
    values = {o.toPython() for o in graph.objects(None, URIRef(sosa + "hasSimpleResult"))}
    assert values == {0.05}
    assert any(True for _ in graph.objects(None, URIRef(GEO + "asWKT")))


def test_cli_generate_dump_convert(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_geojson(tmp_path)
    mapping, out = tmp_path / "mapping.ttl", tmp_path / "out.nt"
    assert cli(["geotriples", "generate-mapping", str(source), "-b", "http://ex.org", "-o", str(mapping)]) == 0
    assert cli(["geotriples", "dump-rdf", str(mapping), "-o", str(out)]) == 0
    assert "56 triples" in capsys.readouterr().err
    assert len(parse(out.read_text())) == 56
    assert cli(["geotriples", "convert", str(source), "-f", "nquads"]) == 0
    assert len(parse(capsys.readouterr().out, "nquads")) == 56


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("garbage {")
    assert cli(["geotriples", "dump-rdf", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not valid Turtle" in err
    assert cli(["geotriples", "convert", str(tmp_path / "none.geojson")]) == 2
    assert "not found" in capsys.readouterr().err


def test_collector_thresholds_raised_during_conversions_and_restored(stub, shared: Path) -> None:  # type: ignore[no-untyped-def]
    import gc

    from components.geotriples_adapter.gcpolicy import THRESHOLDS, fewer_collections

    before = gc.get_threshold()
    with fewer_collections():
        with fewer_collections():
            assert gc.get_threshold()[0] >= THRESHOLDS[0]
        assert gc.get_threshold()[0] >= THRESHOLDS[0]  # still converting: the outer conversion keeps them
    assert gc.get_threshold() == before
    write_geojson(shared)
    assert len(list(stub.convert(contract_pb2.GeoData(path="places.geojson")))) > 1
    assert gc.get_threshold() == before and gc.isenabled()


def test_write_behind_keeps_order_and_raises_write_errors() -> None:
    from components.geotriples_adapter.output import write_behind

    written: list[bytes] = []
    write_behind((f"chunk {i}\n" for i in range(50)), written.append, depth=2)
    assert b"".join(written) == "".join(f"chunk {i}\n" for i in range(50)).encode()

    def full(_data: bytes) -> None:
        raise OSError(28, "No space left on device")

    produced: list[int] = []

    def chunks() -> Iterator[str]:
        for i in range(1000):
            produced.append(i)
            yield "x"

    with pytest.raises(OSError, match="No space left"):
        write_behind(chunks(), full, depth=2)
    assert len(produced) < 1000  # the conversion stops soon after the first failed write


def test_cli_output_to_a_closed_pipe(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    feature = {"type": "Feature", "properties": {"n": 1}, "geometry": {"type": "Point", "coordinates": [1, 2]}}
    source = tmp_path / "many.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [feature] * 5000}))  # > a pipe's buffer
    done = subprocess.run(f"{sys.executable} -m onboarding.cli geotriples convert {source} | head -c 10",
                          shell=True, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and len(done.stdout) == 10 and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["generate-mapping", "convert", "dump-rdf"])
@pytest.mark.parametrize(("target", "text"), [
    ("missing/dir/out", "folder {tmp}/missing/dir does not exist"),
    (".", "Is a directory"),
    ("/dev/full", "No space left on device"),
])
def test_cli_output_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str,
                                        target: str, text: str) -> None:
    if target == "/dev/full" and not Path(target).exists():
        pytest.skip("no /dev/full on this system")
    source = write_geojson(tmp_path)
    mapping = tmp_path / "mapping.ttl"
    assert cli(["geotriples", "generate-mapping", str(source), "-o", str(mapping)]) == 0
    output = target if target.startswith("/") else str(tmp_path / target)
    assert cli(["geotriples", command, str(mapping if command == "dump-rdf" else source), "-o", output]) == 2
    err = capsys.readouterr().err
    assert err == f"ai4cop geotriples: error: cannot write {output}: {text.format(tmp=tmp_path)}\n"


def test_cli_full_standard_output_is_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    source = write_geojson(tmp_path)
    for command in ("convert", "generate-mapping"):
        done = subprocess.run(f"{sys.executable} -m onboarding.cli geotriples {command} {source} > /dev/full",
                              shell=True, capture_output=True, text=True, timeout=60, check=False)
        assert (done.returncode, done.stderr) == (
            2, "ai4cop geotriples: error: cannot write standard output: No space left on device\n")


@pytest.mark.parametrize(("option", "value", "text"), [
    ("-b", "not an iri", "base IRI 'not an iri' is not an absolute IRI (like http://example.com/data)"),
    ("-b", "http://ex.org/a b", "base IRI 'http://ex.org/a b' contains ' ', which an IRI may not"),
    ("-b", "http://ex.org/a#b", "base IRI 'http://ex.org/a#b' may hold '#' only at its end"),
    ("--layer", "bad layer/x", "layer name 'bad layer/x' is not usable: it must start with a letter"),
])
@pytest.mark.parametrize("command", ["generate-mapping", "convert"])
def test_cli_bad_base_iri_or_layer_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              caplog: pytest.LogCaptureFixture, command: str, option: str,
                                              value: str, text: str) -> None:
    source = write_geojson(tmp_path)
    assert cli(["geotriples", command, str(source), option, value]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(f"ai4cop geotriples: error: {text}")
    assert captured.err.count("\n") == 1
    assert not caplog.records  # no rdflib warnings about the IRIs before the error


@pytest.mark.parametrize("command", ["convert", "dump-rdf"])
def test_cli_unknown_epsg_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    source = write_geojson(tmp_path)
    mapping = tmp_path / "mapping.ttl"
    assert cli(["geotriples", "generate-mapping", str(source), "-o", str(mapping)]) == 0
    target = mapping if command == "dump-rdf" else source
    assert cli(["geotriples", command, str(target), "--epsg", "99999"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "ai4cop geotriples: error: EPSG code 99999 is not a known coordinate reference system\n"
    assert cli(["geotriples", command, str(target), "--epsg", "2100"]) == 0
    assert all(w.startswith("<http://www.opengis.net/def/crs/EPSG/0/2100> ")
               for w in wkt_values(parse(capsys.readouterr().out)).values())
