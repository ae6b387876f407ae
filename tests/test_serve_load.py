"""A bounded load test against a real uvicorn server on 127.0.0.1 (a random free port, started and stopped
here): 1,000 mixed requests from 16 client threads, no 5xx, every answer equal to the Python API's for the
same scenario; and a 100 MB body refused by its size over a real socket."""

from __future__ import annotations

import http.client
import json
import random
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from live import live_server  # noqa: E402

from impact.engine import report, run  # noqa: E402
from impact.service.bodies import Limits  # noqa: E402

REQUESTS, CLIENTS = 1000, 16


def scenario(model, accelerator, gpus, location, n_in, n_out):
    return {"kind": "scenario", "schema_version": 1, "model": model, "location": location,
            "hardware": {"accelerator": accelerator, "gpus": gpus},
            "request": {"input_tokens": n_in, "output_tokens": n_out}}  # fmt: skip


def plain(doc):
    return json.loads(json.dumps(doc))


@pytest.fixture(scope="module")
def server(tree):
    with live_server(tree, Limits(body_bytes=2**20)) as url:
        yield url


def expected_answers(tree):
    """(method, path, body, status, expected JSON) for a mix of runs, batches, catalog reads and bad bodies."""
    rng = random.Random(14)
    mix = []
    for _ in range(12):
        s = scenario(rng.choice(["llama-3.1-8b", "llama-3.1-70b", "llama-2-13b"]),
                     rng.choice(["h100-sxm", "a100-sxm-80gb"]), rng.choice([4, 8]),
                     rng.choice(["fr", "de", "aws-us-east-1"]), rng.randrange(1, 4000),
                     rng.randrange(1, 2000))  # fmt: skip
        explain = rng.random() < 0.3
        doc = plain(report.document(run(s, tree=tree), explain=explain))
        mix.append(("POST", "/v1/run" + ("?explain=1" if explain else ""), json.dumps(s), 200, doc))
    base = scenario("llama-3.1-70b", "h100-sxm", 8, "fr", 1000, 500)
    requests = [{"output_tokens": n, "location": loc} for n, loc in ((100, "fr"), (700, "de"), (50, "fr"))]
    e = sum(next(r for r in run({**base, "location": q["location"],
                                 "request": {"input_tokens": 1000, "output_tokens": q["output_tokens"]}}, tree=tree)
                 if r.methodology == "scope3").results["E"].value[0] for q in requests)  # fmt: skip
    fr = tree.catalog("regions")["fr"]
    entry = plain({"catalog": "regions", "id": "fr", "file": fr.file, "line": fr.loc().line, "data": fr.data})
    bad = json.dumps({**base, "hardware": {"accelerator": "h100-sxm", "gpus": -2}})
    # about a third of the requests evaluate a scenario (a few ms each); the rest are lighter
    mix += [("POST", "/v1/batch", json.dumps({"scenario": base, "requests": requests}), 200, ("E", e))] * 2
    mix += [("GET", "/v1/catalog/regions/fr", None, 200, entry)] * 6
    mix += [("GET", "/healthz", None, 200, None)] * 6
    mix += [("GET", "/v1/methodologies", None, 200, None)] * 4
    mix += [("POST", "/v1/run", bad, 400, "-2 is less than the minimum of 1")] * 4
    mix += [("POST", "/v1/run", '{"model": ', 400, "not JSON: Expecting value")] * 4
    return mix


def test_a_thousand_mixed_requests_from_16_clients(server, tree):
    mix = expected_answers(tree)
    plan = [mix[i % len(mix)] for i in range(REQUESTS)]
    random.Random(1).shuffle(plan)
    host, port = urlsplit(server).hostname, urlsplit(server).port
    assert host == "127.0.0.1"
    chunks = [plan[i::CLIENTS] for i in range(CLIENTS)]

    def client(items):
        conn = http.client.HTTPConnection(host, port, timeout=30)
        wrong = []
        for method, path, body, status, want in items:
            headers = {"content-type": "application/json"} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            got = json.loads(response.read())
            if response.status != status:
                wrong.append((path, response.status, got))
            elif status == 400:
                if got["problems"][0]["message"] != want:
                    wrong.append((path, got))
            elif isinstance(want, tuple):  # a batch: its total against the sum of single runs
                if got["totals"]["scope3"]["E"]["value"] != pytest.approx(want[1], rel=1e-12):
                    wrong.append((path, got["totals"]))
            elif want is not None and got != want:
                wrong.append((path, "differs from the API's answer"))
        conn.close()
        return wrong

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        wrong = [w for result in pool.map(client, chunks) for w in result]
    elapsed = time.monotonic() - started
    assert wrong == []
    assert elapsed < 120  # bounded: a few seconds on a quiet machine


def read_answer(sock) -> bytes:
    """One HTTP answer: its head, then as many bytes as its Content-Length says."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_a_100_mb_body_is_refused_by_its_length(server):
    """The server answers 413 from the Content-Length alone, having read a few bytes of a 100 MB body."""
    u = urlsplit(server)
    with socket.create_connection((u.hostname, u.port), timeout=10) as sock:
        head = (f"POST /v1/run HTTP/1.1\r\nHost: {u.hostname}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {100 * 2**20}\r\n\r\n")  # fmt: skip
        sock.sendall(head.encode() + b"{" + b" " * 65535)
        answer = read_answer(sock).decode()
    assert answer.startswith("HTTP/1.1 413")
    assert "the body is 104,857,600 bytes, more than the limit of 1,048,576" in answer


def test_a_chunked_100_mb_body_is_cut_off_past_the_limit(server):
    """Without a Content-Length, the server reads past its 1 MB limit, answers 413 and stops reading: the
    client had sent far less than 100 MB when the answer came."""
    u = urlsplit(server)
    sent = 0
    with socket.create_connection((u.hostname, u.port), timeout=10) as sock:
        sock.sendall(f"POST /v1/run HTTP/1.1\r\nHost: {u.hostname}\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        piece = b" " * 2**16
        frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        sock.settimeout(0.05)
        answer = b""
        while sent < 100 * 2**20 and not answer:
            try:
                sock.sendall(frame)
                sent += len(piece)
                answer = sock.recv(65536, socket.MSG_PEEK)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.settimeout(10)
        answer = read_answer(sock)
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"the body is more than the limit of 1,048,576 bytes" in answer
    assert sent < 16 * 2**20
