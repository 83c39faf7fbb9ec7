"""Provider presets: a user picks CDSE or CREODIAS, not URLs; explicit URLs and limits still win."""

from __future__ import annotations

import pytest

from components.comax.settings import Settings as ComaxSettings
from components.common.errors import InvalidInput
from components.common.providers import PROVIDERS, provider
from components.databroker.catalogues.factory import CATALOGUES, FOLDER_CATALOGUES
from components.databroker.settings import Settings as BrokerSettings
from onboarding.cli import main


@pytest.mark.parametrize(("settings", "name", "url"), [
    ({}, "local", ""),
    ({"provider": "cdse"}, "cdse", "https://catalogue.dataspace.copernicus.eu/odata/v1"),
    ({"provider": "creodias"}, "cdse", "https://datahub.creodias.eu/odata/v1"),
    ({"provider": "CREODIAS", "catalogue": "opensearch"}, "opensearch",
     "https://datahub.creodias.eu/resto/api/collections/Sentinel5P/search.json"),
    ({"provider": "creodias", "catalogue": "stac"}, "stac", "https://datahub.creodias.eu/stac"),
    ({"provider": "cdse", "catalogue": "stac"}, "stac", "https://stac.dataspace.copernicus.eu/v1"),
    ({"provider": "creodias", "url": "http://127.0.0.1:9/odata/v1"}, "cdse", "http://127.0.0.1:9/odata/v1"),
    ({"catalogue": "cdse"}, "cdse", ""),
])
def test_the_broker_takes_its_catalogue_url_from_the_provider(settings: dict[str, str], name: str,
                                                               url: str) -> None:
    config = BrokerSettings(**settings).catalogue_config()
    assert (config.name, config.url) == (name, url)


def test_every_provider_serves_every_url_catalogue() -> None:
    assert all(set(p.catalogues) == set(CATALOGUES) - FOLDER_CATALOGUES for p in PROVIDERS.values())


def test_no_provider_points_at_the_retired_eo_finder() -> None:
    urls = [u for p in PROVIDERS.values() for u in [*p.catalogues.values(), p.s3_endpoint]]
    assert urls and not any("finder.creodias.eu" in u for u in urls)
    assert all(u.startswith("https://") for u in urls)


def test_the_local_catalogue_ignores_the_provider_and_unknown_providers_are_named() -> None:
    config = BrokerSettings(provider="cdse", catalogue="local", dir="/tmp/s5p").catalogue_config()
    assert (config.name, config.url, str(config.folder)) == ("local", "", "/tmp/s5p")
    with pytest.raises(InvalidInput, match="unknown provider 'aws'; known: cdse, creodias"):
        provider("aws")


@pytest.mark.parametrize(("settings", "expected"), [
    ({}, (None, None, 0, 0)),
    ({"provider": "cdse"}, ("https://eodata.dataspace.copernicus.eu", "default", 4, 2000)),
    ({"provider": "creodias"}, ("https://eodata.cloudferro.com", "default", 0, 0)),
    ({"provider": "cdse", "s3_endpoint": "http://127.0.0.1:9", "s3_region": "eu-central-1",
      "s3_max_connections": 2, "s3_requests_per_minute": 0}, ("http://127.0.0.1:9", "eu-central-1", 2, 0)),
])
def test_comax_takes_its_s3_archive_from_the_provider(settings: dict[str, object],
                                                      expected: tuple[object, ...]) -> None:
    config = ComaxSettings(**settings).source_config()
    assert (config.s3_endpoint, config.s3_region, config.s3_max_connections,
            config.s3_requests_per_minute) == expected


def test_provider_errors_on_the_command_line(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABROKER_PROVIDER", "finder")
    assert main(["search", "--aoi", "5,45,15,55"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("ai4cop search: error: invalid setting provider (DATABROKER_PROVIDER): "
                   "unknown provider 'finder'; known: cdse, creodias")
    with pytest.raises(SystemExit):
        main(["search", "--provider", "nowhere"])
    assert "invalid choice: 'nowhere'" in capsys.readouterr().err
