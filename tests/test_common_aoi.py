"""AOI and time parsing shared by the components: what users type, and the errors they get."""

from __future__ import annotations

import re

import pytest
import shapely

from components.common.aoi import isoformat, parse_aoi, parse_time, parse_window, split_antimeridian
from components.common.errors import InvalidInput
from onboarding.cli import main


@pytest.mark.parametrize(
    "text",
    [
        "POLYGON((5 45, 15 45, 15 55, 5 55, 5 45))",
        '{"type": "Polygon", "coordinates": [[[5, 45], [15, 45], [15, 55], [5, 55], [5, 45]]]}',
        '{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", '
        '"coordinates": [[[5, 45], [15, 45], [15, 55], [5, 55], [5, 45]]]}}',
        "5,45,15,55",
        " 5, 45, 15, 55 ",
    ],
)
def test_the_same_area_in_every_accepted_form(text: str) -> None:
    assert shapely.equals(parse_aoi(text), shapely.box(5, 45, 15, 55))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("POLYGON((0 0, 1 1", "not valid WKT"),
        ("POINT(1 2)", "must be a Polygon"),
        ("POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))", "Self-intersection"),
        ('{"type": "FeatureCollection", "features": [1]}', "GeoJSON must be"),
        ("[1, 2]", "not valid WKT"),
        ("{not json", "not valid GeoJSON"),
        ("5,55,15,45", "south"),
        ("0,0,0,10", "zero width"),
        ("POLYGON((0 80, 10 80, 10 95, 0 95, 0 80))", "outside lon/lat"),
        ("8,42,14", "'8,42,14' has 3 numbers; a bbox is 'west,south,east,north'"),
        ("8 42 14 47", "has 4 numbers; a bbox is 'west,south,east,north' \\(4 numbers, comma-separated\\)"),
        ("5,-95,15,55", "bbox latitudes must lie within -90..90"),
    ],
)
def test_bad_aoi_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        parse_aoi(text)


def test_a_bbox_written_east_first_is_caught_with_the_fix() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_aoi("14,42,8,44")
    assert str(err.value) == (
        "bbox west 14 is east of east 8: that would cross the antimeridian and span 354 degrees of longitude; if "
        "you meant 8 to 14, give '8,42,14,44' (west,south,east,north); a bbox across the antimeridian spans at most "
        "180 degrees (give WKT for a wider area)")
    with pytest.raises(InvalidInput, match="if you meant -20 to -10, give '-20,35,-10,45'"):
        parse_aoi("-10,35,-20,45")
    assert parse_aoi("100,-10,-80,10").bounds == (100, -10, 280, 10)  # 180 degrees across: still an area


@pytest.mark.parametrize("aoi", ["8,42,14", "14,42,8,44", "POLYGON((0 0, 1 1", "-10,35,-20,45"])
def test_every_command_and_setting_reads_an_aoi_the_same_way(aoi: str, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidInput) as expected:
        parse_aoi(aoi)
    messages = []
    for command in (["comax", "x.nc", "--aoi", aoi], ["search", "--dir", ".", "--aoi", aoi]):
        assert main(command) == 2
        messages.append(capsys.readouterr().err.split(": error: ", 1)[1].strip())
    monkeypatch.setenv("COMAX_AOI", aoi)
    monkeypatch.setenv("DATABROKER_AOI", aoi)
    for component in ("comax", "databroker"):
        assert main(["serve", component, "--port", "0", "--web-port", "0"]) == 2
        message = capsys.readouterr().err.split(": error: ", 1)[1].strip()
        messages.append(re.sub(r"^invalid setting aoi \([A-Z_, ]+\): ", "", message))
    assert messages == [str(expected.value)] * 4


def test_bbox_across_the_antimeridian_splits_into_two_parts() -> None:
    aoi = parse_aoi("170,-10,-170,10")
    assert aoi.bounds == (170, -10, 190, 10)
    split = split_antimeridian(aoi)
    assert split.geom_type == "MultiPolygon"
    assert shapely.equals(split, shapely.union(shapely.box(170, -10, 180, 10), shapely.box(-180, -10, -170, 10)))
    assert split.area == pytest.approx(aoi.area)


def test_split_keeps_areas_inside_the_range_and_shifts_those_beyond() -> None:
    inside = parse_aoi("5,45,15,55")
    assert split_antimeridian(inside) is inside
    beyond = split_antimeridian(parse_aoi("POLYGON((185 -10, 190 -10, 190 10, 185 10, 185 -10))"))
    assert shapely.equals(beyond, shapely.box(-175, -10, -170, 10))


def test_times_are_utc_and_windows_ordered() -> None:
    assert isoformat(parse_time("2024-03-01")) == "2024-03-01T00:00:00Z"
    assert isoformat(parse_time("2024-03-01T12:30:00+02:00")) == "2024-03-01T10:30:00Z"
    assert isoformat(parse_time("2024-03-01T12:30:00.250Z")) == "2024-03-01T12:30:00.250Z"
    with pytest.raises(InvalidInput, match="end 2024-03-01T00:00:00Z is before start"):
        parse_window("2024-03-02", "2024-03-01")
    with pytest.raises(InvalidInput, match="start is not an ISO 8601"):
        parse_window("yesterday", "2024-03-01")
