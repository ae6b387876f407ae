"""`impact serve`'s HTTP API through Starlette's TestClient (no network): every endpoint against the CLI and
the Python API on the same scenario, and bad bodies of every kind answered 400/413/404 in the one error shape."""

from __future__ import annotations

import asyncio
import json
import shlex

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2")

from starlette.testclient import TestClient  # noqa: E402

from conftest import REPO  # noqa: E402
from impact.cli import main  # noqa: E402
from impact.engine import report, run  # noqa: E402
from impact.engine.loader import load_file  # noqa: E402
from impact.service import create_app  # noqa: E402
from impact.service.bodies import Limits  # noqa: E402

CHAT = {"kind": "scenario", "schema_version": 1, "model": "llama-3.1-70b", "location": "fr",
        "hardware": {"accelerator": "h100-sxm", "gpus": 4},
        "request": {"input_tokens": 1000, "output_tokens": 500}}  # fmt: skip
SHIPPED = sorted(p.name for p in (REPO / "scenarios").glob("*.yaml"))
PROBLEM_KEYS = ["file", "line", "column", "path", "message", "expected", "hint"]


@pytest.fixture(scope="module")
def client(tree):
    return TestClient(create_app(tree, Limits(body_bytes=2**20, batch_rows=50, sweep_points=100, samples=500)))


def plain(doc):
    return json.loads(json.dumps(doc))


def only_problem(response, status=400) -> dict:
    assert response.status_code == status, response.text
    problems = response.json()["problems"]
    assert all(list(p) == PROBLEM_KEYS for p in problems)
    assert "Traceback" not in response.text
    return problems[0]


# ---- POST /v1/run


@pytest.mark.parametrize("name", SHIPPED)
def test_run_answers_what_the_cli_prints(client, runner, name):
    """Every shipped scenario, sent as JSON, gets the results `impact run --format json` prints for its file."""
    data = load_file(REPO / "scenarios" / name).data
    answer = client.post("/v1/run", json=data)
    assert answer.status_code == 200, answer.text
    printed = runner.invoke(main, ["run", str(REPO / "scenarios" / name), "--format", "json", "--root", str(REPO)])
    assert printed.exit_code == 0, printed.output
    cli = json.loads(printed.stdout)
    got = answer.json()
    assert [r["methodology"] for r in got["runs"]] == [r["methodology"] for r in cli["runs"]]
    for ours, theirs in zip(got["runs"], cli["runs"], strict=True):
        assert ours["results"] == theirs["results"]
        assert ours.get("totals") == theirs.get("totals")
        assert ours.get("points") == theirs.get("points")
        assert ours["provenance"] == theirs["provenance"]
        assert {k: v["value"] for k, v in ours["inputs"].items()} == {
            k: v["value"] for k, v in theirs["inputs"].items()
        }


def test_run_is_the_api_document_with_explain(client, tree):
    answer = client.post("/v1/run?explain=1", json=CHAT)
    assert answer.json() == plain(report.document(run(CHAT, tree=tree), explain=True))
    scope3 = next(r for r in answer.json()["runs"] if r["methodology"] == "scope3")
    # E = t_hat * P_server / s_per_h: the derivation substitutes the values it read
    assert scope3["explain"]["E"]["expr"] == "t_hat * P_server / s_per_h"
    assert scope3["explain"]["E"]["reads"] == ["t_hat", "P_server", "s_per_h"]
    assert "explain" not in client.post("/v1/run", json=CHAT).json()["runs"][0]


def test_run_methodology_samples_and_seed(client, tree):
    data = load_file(REPO / "scenarios" / "uncertain-datacenter.yaml").data
    answer = client.post("/v1/run?samples=200&seed=7&methodology=scope3", json=data)
    assert answer.status_code == 200, answer.text
    assert answer.json() == plain(report.document(run(data, tree=tree, methodologies=["scope3"], samples=200, seed=7)))
    assert answer.json()["runs"][0]["uncertainty"]["samples"] == 200


def test_no_state_between_requests(client, tree):
    """A request's `set:` does not leak into the next request."""
    first = client.post("/v1/run", json={**CHAT, "set": {"PUE": 2}}).json()
    second = client.post("/v1/run", json=CHAT).json()
    assert second == plain(report.document(run(CHAT, tree=tree)))
    scope3 = [next(r for r in d["runs"] if r["methodology"] == "scope3") for d in (first, second)]
    # E_facility = PUE * E: twice E with PUE = 2, whatever the region's PUE is in the second
    assert scope3[0]["results"]["E_facility"]["value"] == pytest.approx(2 * scope3[0]["results"]["E"]["value"])
    assert scope3[1]["inputs"]["PUE"]["value"] != 2


@pytest.mark.parametrize(
    "body, path, line, column, message",
    [
        (b'{"kind": "scenario",\n  "model": }', "$", 2, 12, "not JSON: Expecting value"),
        (b"[1, 2]", "$", None, None, "the body is not a JSON object"),
        (b"", "$", None, None, "the body is empty"),
        (b"\xff\xfe{}", "$", None, None, "the body is not UTF-8 text (byte 1)"),
        (b'{"kind": "scenario", "kind": "scenario"}', "$", None, None, "duplicate key 'kind'"),
        (b'{"requests": NaN}', "$", None, None, "NaN is not a number JSON allows"),
        (b'{"requests": 1e999}', "$", None, None, "the number 1e999 is out of range"),
        (b'{"requests": ' + b"9" * 400 + b"}", "$", None, None,
         "the integer 99999999999999999999... has more than 300 digits"),
        (b"[" * 100_000, "$", None, None, "the JSON is nested too deeply"),
        # the object is level 1, $.a level 2: the list at $.a plus 31 [0] is level 33
        (json.dumps({"a": json.loads("[" * 40 + "]" * 40)}).encode(), "$.a" + "[0]" * 31, None, None,
         "the JSON is nested more than 32 levels deep"),
    ],
    ids=["malformed", "list", "empty", "not-utf8", "duplicate", "nan", "1e999", "400-digits", "deep", "depth-33"],
)  # fmt: skip
def test_malformed_bodies(client, body, path, line, column, message):
    problem = only_problem(client.post("/v1/run", content=body))
    assert (problem["file"], problem["path"], problem["line"], problem["column"]) == ("<request>", path, line, column)
    assert problem["message"] == message


def test_schema_violation_points_into_the_body(client):
    body = json.dumps({**CHAT, "hardware": {"accelerator": "h100-sxm", "gpus": -2}}, indent=2)
    problem = only_problem(client.post("/v1/run", content=body))
    # line 8 of the indented body is `    "gpus": -2`; column 13 is where -2 starts
    assert problem == {"file": "<request>", "line": 8, "column": 13, "path": "$.hardware.gpus", "hint": None,
                       "message": "-2 is less than the minimum of 1", "expected": "a positive integer"}  # fmt: skip


def test_unknown_id_has_a_suggestion(client):
    problem = only_problem(client.post("/v1/run", json={**CHAT, "model": "llama-3.1-70"}))
    assert (problem["path"], problem["message"]) == ("$.model", "unknown model 'llama-3.1-70'")
    assert "llama-3.1-70b" in problem["hint"]


@pytest.mark.parametrize(
    "change, path, start",
    [
        ({"request": {"input_tokens": 1000, "output_tokens": 1e300}}, "$.formulas.t_out.expr", "formula 't_out'"),
        ({"requests": 1e308}, "$.requests", "the total of scope3 t_out over 1e+308 requests is not a finite number"),
        ({"set": {"PUE": "1e308 W"}}, "$.set.PUE", "'1e308 W' is power (W)"),
    ],
)
def test_huge_numbers_are_refused_not_crashed_on(client, change, path, start):
    problem = only_problem(client.post("/v1/run", json={**CHAT, **change}))
    assert problem["path"] == path
    assert problem["message"].startswith(start)


def test_limits_on_samples_and_sweep_points(client):
    problem = only_problem(client.post("/v1/run?samples=501", json=CHAT))
    assert (problem["path"], problem["message"]) == ("?samples", "501 is more than the limit of 500")
    assert only_problem(client.post("/v1/run?samples=-1", json=CHAT))["expected"] == "a whole number from 1 to 500"
    sweep = {"grid": {"output_tokens": list(range(1, 12)), "input_tokens": list(range(1, 11))}}  # 11 x 10 = 110 points
    problem = only_problem(client.post("/v1/run", json={**CHAT, "sweep": sweep}))
    assert (problem["path"], problem["message"]) == ("$.sweep", "the sweep has 110 points, more than the limit of 100")
    sweep["grid"]["input_tokens"] = list(range(1, 10))  # 99 points: evaluated
    assert client.post("/v1/run", json={**CHAT, "sweep": sweep}).json()["runs"][0]["points"]["count"] == 99


def test_a_body_over_the_limit_is_413_by_its_length(client):
    problem = only_problem(client.post("/v1/run", content=b" " * (2**20 + 1)), 413)
    assert problem["message"] == "the body is 1,048,577 bytes, more than the limit of 1,048,576"


def test_a_streamed_100_mb_body_is_refused_before_it_is_read_whole(tree):
    """Without a Content-Length, the body is read chunk by chunk and refused once past the limit: of a 100 MB
    body in 1 MB chunks, the app asks for 3 (2 MB allowed) and answers 413."""
    app = create_app(tree, Limits(body_bytes=2 * 2**20))
    asked, sent = [], []
    chunk = b" " * 2**20

    async def receive():
        asked.append(1)
        return {"type": "http.request", "body": chunk, "more_body": len(asked) < 100}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/run", "headers": [], "query_string": b"",
             "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 1),
             "root_path": ""}  # fmt: skip
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert len(asked) == 3
    assert json.loads(sent[1]["body"])["problems"][0]["message"] == "the body is more than the limit of 2,097,152 bytes"


# ---- POST /v1/batch


def single(tree, **fields):
    scenario = {**CHAT, **{k: v for k, v in fields.items() if k in ("model", "location")}}
    scenario["request"] = {"input_tokens": fields.get("input_tokens", 1000), "output_tokens": fields["output_tokens"]}
    return {r.methodology: r for r in run(scenario, tree=tree)}


def test_batch_of_requests_adds_up_single_runs(client, tree):
    requests = [{"model": "llama-3.1-8b", "output_tokens": 100, "location": "fr"},
                {"model": "llama-3.1-70b", "output_tokens": 200, "location": "de"},
                {"model": "llama-3.1-70b", "output_tokens": 300, "location": "de"}]  # fmt: skip
    answer = client.post("/v1/batch", json={"scenario": CHAT, "requests": requests, "by": ["location"], "rows": True})
    assert answer.status_code == 200, answer.text
    data = answer.json()
    singles = [single(tree, **r) for r in requests]
    e = [s["scope3"].results["E"].value[0] for s in singles]
    assert (data["rows"], data["requests"], data["log"], data["scenario"]) == (3, 3.0, "<request>", "$.scenario")
    assert data["totals"]["scope3"]["E"]["value"] == pytest.approx(sum(e), rel=1e-12)
    groups = {g["key"]["location"]: g for g in data["groups"]}
    assert groups["de"]["requests"] == 2
    assert groups["de"]["totals"]["scope3"]["E"]["value"] == pytest.approx(e[1] + e[2], rel=1e-12)
    assert [row["index"] for row in data["results"]] == [0, 1, 2]
    for row, s in zip(data["results"], singles, strict=True):
        # rows.csv carries 9 significant digits
        assert row["results"]["scope3"]["emissions"] == pytest.approx(
            s["scope3"].results["emissions"].value[0], rel=1e-8
        )


def test_batch_csv_body_equals_impact_batch(client, runner):
    log = REPO / "scenarios" / "logs" / "requests-sample.csv"
    answer = client.post("/v1/batch?scenario=chatbot-llama70b-h100&by=model", content=log.read_bytes(),
                         headers={"content-type": "text/csv"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    base = str(REPO / "scenarios" / "chatbot-llama70b-h100.yaml")
    printed = runner.invoke(main, ["batch", str(log), "--scenario", base, "--by", "model", "--format", "json",
                                   "--root", str(REPO)])  # fmt: skip
    assert printed.exit_code == 0, printed.output
    cli = json.loads(printed.stdout)
    ours = answer.json()
    for key in ("rows", "requests", "skipped", "totals", "groups", "headline", "by"):
        assert ours[key] == cli[key], key


def test_batch_json_lines_and_a_list(client):
    lines = b'{"output_tokens": 100}\n{"output_tokens": 300}\n'
    a = client.post("/v1/batch?scenario=chatbot-llama70b-h100", content=lines,
                    headers={"content-type": "application/x-ndjson"}).json()  # fmt: skip
    b = client.post("/v1/batch?scenario=chatbot-llama70b-h100", json=[{"output_tokens": 100}, {"output_tokens": 300}])
    assert a["totals"] == b.json()["totals"]
    assert a["rows"] == 2


@pytest.mark.parametrize(
    "body, path, line, message",
    [
        ({"scenario": CHAT, "requests": [{"output_tokens": 100}, {"output_tokens": -5}]}, "$.requests[1].output_tokens",
         1, "-5 is less than 0"),
        ({"scenario": CHAT, "requests": [{"output_tokens": 100}, {"model": "x"}]}, "$.requests[1]", None,
         "request 1 lacks output_tokens"),
        ({"scenario": CHAT, "requests": [{"ouput_tokens": 100}]}, "$.requests[0].ouput_tokens", 1,
         "unknown column 'ouput_tokens': no scenario key, input or formula has that name"),
        ({"scenario": CHAT, "request": []}, "$.request", None, "unknown key 'request'"),
        ({"requests": []}, "$.scenario", None, "missing or not a JSON object"),
        ({"scenario": {**CHAT, "model": "nope"}, "requests": [{"output_tokens": 1}]}, "$.scenario.model", 1,
         "unknown model 'nope'"),
        ({"scenario": CHAT, "requests": [{"output_tokens": 1}] * 51}, "$", None,
         "the batch has 51 rows, more than the limit of 50"),
    ],
)  # fmt: skip
def test_batch_bad_bodies(client, body, path, line, message):
    answer = client.post("/v1/batch", content=json.dumps(body))
    problem = only_problem(answer, 413 if "limit" in message else 400)
    assert (problem["path"], problem["message"]) == (path, message)
    assert problem["line"] == line
    assert "/tmp" not in answer.text  # the temporary file the log went through is never named


def test_batch_csv_bad_row_names_its_line(client):
    body = b"model,output_tokens\nllama-3.1-8b,100\nllama-3.1-8b,abc\n"
    problem = only_problem(client.post("/v1/batch?scenario=chatbot-llama70b-h100", content=body,
                                       headers={"content-type": "text/csv"}))  # fmt: skip
    assert (problem["file"], problem["line"], problem["column"], problem["path"]) == (
        "<request>",
        3,
        14,
        "$.output_tokens",
    )
    assert problem["message"] == "'abc' is not a number, or a number with a unit"
    problem = only_problem(client.post("/v1/batch?scenario=nope", content=body, headers={"content-type": "text/csv"}))
    assert (problem["path"], problem["message"]) == ("?scenario", "unknown scenario 'nope'")
    assert only_problem(client.post("/v1/batch", content=b"x", headers={"content-type": "text/plain"}), 415)


# ---- catalogs, methodologies, health, OpenAPI, errors of routing


def test_catalog_and_entry(client, tree):
    regions = client.get("/v1/catalog/regions").json()
    assert regions["entries"] == plain({i: e.data for i, e in tree.catalog("regions").items()})
    fr = client.get("/v1/catalog/regions/fr").json()
    assert (fr["file"], fr["data"]["grid_gco2e_per_kwh"]) == (
        "catalogs/regions.yaml",
        tree.catalog("regions")["fr"].data["grid_gco2e_per_kwh"],
    )
    problem = only_problem(client.get("/v1/catalog/region"), 404)
    assert problem["message"] == "unknown catalog 'region'"
    assert problem["hint"].startswith("did you mean 'regions'")
    problem = only_problem(client.get("/v1/catalog/regions/frr"), 404)
    assert (problem["message"], problem["hint"]) == ("unknown region 'frr'", "did you mean 'fr'?")


def test_methodologies_and_health(client, tree):
    methods = client.get("/v1/methodologies").json()
    assert [m["name"] for m in methods["methodologies"]] == sorted(tree.methodologies())
    scope3 = next(m for m in methods["methodologies"] if m["name"] == "scope3")
    assert scope3["headline"]["emissions"] == "emissions"
    assert [o["name"] for o in methods["optimizations"]] == sorted(tree.optimizations())
    assert client.get("/healthz").json()["status"] == "ok"


def test_openapi_is_built_from_the_schemas(client, tree):
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    names = {p.stem for p in tree.schemas.directory.glob("*.json")}
    assert names <= set(doc["components"]["schemas"])
    assert set(doc["paths"]) == {"/v1/run", "/v1/batch", "/v1/catalog/{kind}", "/v1/catalog/{kind}/{id}",
                                 "/v1/methodologies", "/healthz"}  # fmt: skip
    scenario = json.loads((tree.schemas.directory / "scenario.v1.json").read_text())
    assert set(doc["components"]["schemas"]["scenario.v1"]["properties"]) == set(scenario["properties"])

    def refs(node):
        if isinstance(node, dict):
            yield from ([node["$ref"]] if "$ref" in node else [])
            for v in node.values():
                yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)

    for ref in set(refs(doc)):  # every reference resolves inside the document
        at = doc
        for part in ref.removeprefix("#/").split("/"):
            at = at[part]


def test_routing_errors_are_json(client):
    assert only_problem(client.get("/v1/nothing"), 404)["message"] == "no such endpoint"
    assert only_problem(client.get("/v1/run"), 405)["message"] == "method GET is not allowed here"


def test_a_bug_is_a_one_line_500(tree, monkeypatch):
    import impact.service.app as app_module

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(app_module, "run", broken)
    answer = TestClient(create_app(tree), raise_server_exceptions=False).post("/v1/run", json=CHAT)
    problem = only_problem(answer, 500)
    assert problem["message"] == "internal error in impact (a bug; the server's log has the details)"
    assert "boom" not in answer.text


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert '<form id="calculator"' in page.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200


def test_serve_command_binds_loopback_by_default(monkeypatch, runner):
    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    result = runner.invoke(main, ["serve", "--port", "8123", "--max-rows", "7", "--root", str(REPO)])
    assert result.exit_code == 0, result.output
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8123)
    assert seen["app"].state.service.limits.batch_rows == 7


def test_the_readme_curl_examples_work(client):
    """Every `curl` of the README's service section, sent through the TestClient, is answered 200."""
    section = (REPO / "README.md").read_text().split("## A service: `impact serve`", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n")[2].split("```")[0]
    commands = [c for c in block.replace("\\\n", " ").replace("\n", " ").split("curl -s ") if c.strip()]
    assert len(commands) == 3
    for command in commands:
        words = shlex.split(command)
        url = words[0].removeprefix("localhost:8000")
        if "-d" in words:
            body = words[words.index("-d") + 1].encode()
        else:
            body = (REPO / words[words.index("--data-binary") + 1].removeprefix("@")).read_bytes()
        kind = words[words.index("-H") + 1].split(": ")[1]
        answer = client.post(url, content=body, headers={"content-type": kind})
        assert answer.status_code == 200, (url, answer.text)
