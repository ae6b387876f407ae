"""Live grid intensity (engine.intensity): the Electricity Maps and WattTime providers through a fake
transport (no network is ever called), the readings cached in the cache folder under an HMAC, and
`impact batch --grid-live` charging each timestamped row its hour."""

from __future__ import annotations

import json

import pytest

from conftest import REPO, add_to_entry
from impact.cli import main
from impact.engine import intensity, open_tree
from impact.engine.batch import run_batch
from impact.engine.errors import ImpactError

BASE = REPO / "scenarios" / "chatbot-llama70b-h100.yaml"
H8 = 1764576000  # 2025-12-01T08:00:00Z in seconds since the epoch


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Each test its own cache folder, so that one test's readings are not another's."""
    monkeypatch.setenv("IMPACT_CACHE_DIR", str(tmp_path / "cache"))


class Fake:
    """A transport answering from a table of url prefix -> (status, JSON or bytes), recording every call."""

    def __init__(self, answers: dict):
        self.answers, self.calls = answers, []

    def __call__(self, url: str, headers: dict):
        self.calls.append((url, dict(headers)))
        for prefix, (status, body) in self.answers.items():
            if url.startswith(prefix):
                return status, body if isinstance(body, bytes) else json.dumps(body).encode()
        raise AssertionError(f"unexpected request {url}")


EM = "https://api.electricitymaps.com/v3/carbon-intensity/past?zone="


def em(answers, key="secret"):
    return intensity.ElectricityMaps(Fake(answers), {"ELECTRICITYMAPS_API_KEY": key} if key else {})


def test_electricity_maps_reads_the_zones_intensity_in_that_hour():
    provider = em({EM: (200, {"zone": "FR", "carbonIntensity": 42, "datetime": "2025-12-01T08:00:00.000Z"})})
    reading = provider.intensity("FR", H8)
    assert reading.value == 42
    ((url, headers),) = provider.transport.calls
    assert url == EM + "FR&datetime=2025-12-01T08%3A00%3A00Z"
    assert headers["auth-token"] == "secret" and reading.source == url  # the key is a header, never in the URL


def test_watttime_logs_in_and_averages_the_hours_points_in_grams():
    fake = Fake({"https://api.watttime.org/login": (200, {"token": "t0k"}),
                 "https://api.watttime.org/v3/historical?": (200, {"data": [{"point_time": "x", "value": 300},
                                                                            {"point_time": "y", "value": 310},
                                                                            {"point_time": "z", "value": 320}],
                                                                   "meta": {"units": "lbs_co2_per_mwh"}})})  # fmt: skip
    provider = intensity.WattTime(fake, {"WATTTIME_USER": "me", "WATTTIME_PASSWORD": "pw"})
    # the mean of 300, 310, 320 lbs/MWh = 310 lbs/MWh; x 453.59237 g/lb / 1000 kWh/MWh = 140.6136347 g/kWh
    assert provider.intensity("CAISO_NORTH", H8).value == pytest.approx(140.6136347, rel=1e-9)
    assert provider.intensity("CAISO_NORTH", H8 + 3600).value == pytest.approx(140.6136347, rel=1e-9)
    login, first, second = fake.calls  # one login for the run
    assert login[1]["Authorization"] == "Basic bWU6cHc="  # base64 of me:pw
    assert first[0] == ("https://api.watttime.org/v3/historical?region=CAISO_NORTH&start=2025-12-01T08%3A00%3A00Z"
                        "&end=2025-12-01T09%3A00%3A00Z&signal_type=co2_aoer")  # fmt: skip
    assert first[1]["Authorization"] == "Bearer t0k"


@pytest.mark.parametrize(
    ("answer", "key", "message"),
    [
        (
            (200, {"carbonIntensity": 1}),
            None,
            "--grid-live electricitymaps: no ELECTRICITYMAPS_API_KEY in the "
            "environment; expected the electricitymaps credential in $ELECTRICITYMAPS_API_KEY",
        ),
        (
            (401, {"error": "no"}),
            "k",
            "--grid-live electricitymaps: https://api.electricitymaps.com/v3/carbon-"
            "intensity/past refused the credentials (HTTP 401); expected a valid electricitymaps key with access to "
            "this zone",
        ),
        ((500, b"oops"), "k", "answered HTTP 500; expected HTTP 200"),
        ((200, b"<html>"), "k", "answered something that is not JSON; expected the provider's documented JSON"),
        ((200, b'{"carbonIntensity": NaN}'), "k", "answered something that is not JSON"),
        ((200, {"zone": "FR"}), "k", "the answer for FR at 2025-12-01T08:00:00Z has no carbonIntensity"),
        ((200, {"carbonIntensity": -3}), "k", "carbonIntensity is -3, not a non-negative number"),
        ((200, {"carbonIntensity": "42"}), "k", "carbonIntensity is '42', not a non-negative number"),
    ],
)
def test_a_bad_answer_or_credential_is_one_clear_error(answer, key, message):
    with pytest.raises(ImpactError) as exc:
        em({EM: answer}, key).intensity("FR", H8)
    assert message in str(exc.value.problems[0].render()), exc.value.problems[0].render()


def test_an_hour_without_data_is_none():
    assert em({EM: (404, {"error": "no data"})}).intensity("FR", H8) is None
    assert em({EM: (200, {"zone": "FR", "carbonIntensity": None})}).intensity("FR", H8) is None


def log_of(tmp_path):
    log = tmp_path / "log.csv"
    # fr at 08:10Z and 08:50Z (one reading), 10:30+01:00 = 09:30Z (another); gb has a zone; us has none here
    log.write_text("model,output_tokens,location,timestamp\nllama-3.1-8b,100,fr,2025-12-01T08:10:00Z\n"
                   "llama-3.1-8b,100,fr,2025-12-01T08:50:00Z\nllama-3.1-8b,100,fr,2025-12-01T10:30:00+01:00\n"
                   "llama-3.1-8b,100,aws-us-east-1,2025-12-01T08:10:00Z\n")  # fmt: skip
    return log


def test_grid_live_charges_each_row_its_hour_and_caches_the_readings(tree, tmp_path):
    answers = {EM + "FR&datetime=2025-12-01T08": (200, {"carbonIntensity": 50}),
               EM + "FR&datetime=2025-12-01T09": (200, {"carbonIntensity": 150})}  # fmt: skip
    provider = em(answers)
    batch = run_batch(log_of(tmp_path), BASE, tree, methodologies=["scope3"], grid_live=provider)
    assert len(provider.transport.calls) == 2  # two hours of fr: one request each
    assert (batch.profile.fetched, batch.profile.cached) == (2, 0) and batch.grid_charged == 3
    assert batch.profile.skipped == {"aws-us-east-1"}  # a cloud region without grid_zones: annual
    by_hand = tmp_path / "by-hand.csv"
    by_hand.write_text("model,output_tokens,location,grid_intensity\nllama-3.1-8b,100,fr,50\n"
                       "llama-3.1-8b,100,fr,50\nllama-3.1-8b,100,fr,150\n"
                       "llama-3.1-8b,100,aws-us-east-1,379.07\n")  # fmt: skip
    expected = run_batch(by_hand, BASE, tree, methodologies=["scope3"]).totals.sums["scope3"]
    got = batch.totals.sums["scope3"]
    # operational emissions: each fr request's E_facility x (50 + 50 + 150) / 1000, the us row at 379.07
    assert got["operational_emissions"] == pytest.approx(expected["operational_emissions"], rel=1e-12)
    again = em({})  # any request would fail: every reading comes from the cache folder
    batch = run_batch(log_of(tmp_path), BASE, tree, methodologies=["scope3"], grid_live=again)
    assert (batch.profile.fetched, batch.profile.cached) == (0, 2) and again.transport.calls == []
    assert batch.totals.sums["scope3"]["operational_emissions"] == pytest.approx(got["operational_emissions"])


def test_a_tampered_cached_reading_is_fetched_again(tree, tmp_path):
    log = tmp_path / "one.csv"
    log.write_text("model,output_tokens,location,timestamp\nllama-3.1-8b,100,fr,2025-12-01T08:10:00Z\n")
    run_batch(log, BASE, tree, methodologies=["scope3"], grid_live=em({EM: (200, {"carbonIntensity": 50})}))
    (entry,) = (tmp_path / "cache").glob("signed-*.json")
    text = entry.read_text()
    assert '"value":50' in text and '"source":"https://api.electricitymaps.com' in text and '"fetched":"' in text
    entry.write_text(text.replace('"value":50', '"value":5'))  # the HMAC no longer verifies
    provider = em({EM: (200, {"carbonIntensity": 50})})
    batch = run_batch(log, BASE, tree, methodologies=["scope3"], grid_live=provider)
    assert (batch.profile.fetched, batch.profile.cached) == (1, 0) and len(provider.transport.calls) == 1


def test_the_command_line_names_the_provider_and_its_zones(tree_copy, runner, monkeypatch):
    add_to_entry(tree_copy / "catalogs" / "regions.yaml", "aws-us-east-1",
                 {"grid_zones": "{electricitymaps: US-MIDA-PJM}"})  # fmt: skip
    fake = Fake({EM + "FR&": (200, {"carbonIntensity": 50}), EM + "US-MIDA-PJM&": (200, {"carbonIntensity": 400})})
    monkeypatch.setattr(intensity, "urlopen", fake)
    monkeypatch.setenv("ELECTRICITYMAPS_API_KEY", "k")
    log_of(tree_copy)
    result = runner.invoke(main, ["batch", "log.csv", "--scenario", "scenarios/chatbot-llama70b-h100.yaml",
                                  "--grid-live", "electricitymaps", "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "--grid-live electricitymaps: 3 hourly readings (0 from the cache)" in result.stderr
    assert {url.split("&")[0].rsplit("=", 1)[1] for url, _ in fake.calls} == {"FR", "US-MIDA-PJM"}
    result = runner.invoke(main, ["batch", "log.csv", "--scenario", "scenarios/chatbot-llama70b-h100.yaml",
                                  "--grid-live", "electricitymap"])  # fmt: skip
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.endswith("--grid-live electricitymap: unknown provider 'electricitymap'; expected one of "
                                  "electricitymaps, watttime\n  hint: did you mean 'electricitymaps'?\n")  # fmt: skip
    result = runner.invoke(main, ["batch", "log.csv", "--scenario", "scenarios/chatbot-llama70b-h100.yaml",
                                  "--grid-live", "watttime", "--grid-profile", "x.csv"])  # fmt: skip
    assert result.exit_code == 1 and "--grid-profile and --grid-live both give the hourly intensity" in result.stderr


def test_zones_come_from_grid_zones_or_a_countrys_code(tree):
    zones = intensity.zones_of(tree, "electricitymaps")
    assert zones["fr"] == "FR" and zones["de"] == "DE" and "aws-us-east-1" not in zones and "world" not in zones
    assert intensity.zones_of(open_tree(REPO), "watttime") == {}  # WattTime regions need grid_zones
