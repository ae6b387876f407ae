"""A seeded mutation fuzz of the command line: mutants of the shipped scenarios, formulas, catalogs, a request log
and command lines, each run in-process (Click's CliRunner) with `--root` on a temporary copy of the tree.

    python benchmarks/fuzz.py --cases 10000 --seed 1 [--workers 2] [--timeout 20] [--show 20]
    python benchmarks/fuzz.py --case 1234 --seed 1        # one case again: what it wrote, what impact said

A mutation flips a value's type, deletes or duplicates a key, writes a huge, negative or non-finite number,
unicode or control characters, a deeply nested value, a recursive alias, a unit slip, a typo in a key, a
binding or an id, truncates the file or breaks an expression. Each case is classified:

- ok: exit 0; a *wrong success* when the mutation is one that must fail (a required field deleted, a token
  count that is not a positive number, a binding to a field no schema defines, --seed -1, ...);
- refused: exit 1 with every line of stderr a located problem (`where: what; expected ...`) or its hint;
  usage: Click's own usage error (exit 2);
- unlocated: exit 1 with a line that is not a located problem; traceback: any other exception; hang: a case
  that ran past --timeout (SIGALRM in the worker).

Case i of seed s draws from random.Random(s * 1_000_003 + i), so a run is reproducible and a case can be
replayed alone. tests/test_fuzz.py runs a few hundred cases of fixed seeds; this script runs many more and
prints the figures per target, then the distinct tracebacks (by exception type and innermost impact frame)
with a case that shows each.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
PARTS = ("formulas", "catalogs", "schemas", "scenarios")
TARGETS = {"scenario": 45, "cli": 20, "log": 15, "formulas": 12, "catalog": 8}  # weights
CATALOGS = ("precisions", "deployments", "calibrations", "servers", "accelerators", "models")  # not regions: slow
LOCATED = re.compile(r"^(\S.*?): .+")  # `file:line:col: $.path: message` or `--option value: message`
WEIRD_TEXT = ["", " ", "\u202eevil", "ｈ１００", "h100-sxm\u0000", "🔥" * 50, "x" * 5000, "0,7 kW", "2024-01-01",
              "10**10**10", "=1", "true", "null", "${HOME}", "[1, 2]", "{a: 1}", "\t", "\ufeffmodel", "1e999 W",
              "nan", "-inf", "700 W W", "1.2.3", "0x10", "1_000"]  # fmt: skip
WEIRD_NUMBERS = [0, -1, -0.0, 1e308, -1e308, 10**30, 2**64, 1e-320, float("inf"), float("-inf"), float("nan"), 0.5,
                 3.0e9, 7]  # fmt: skip


class Hang(BaseException):
    """Raised by SIGALRM in a worker; a BaseException, so CliRunner does not swallow it."""


@dataclass
class Case:
    index: int
    target: str
    op: str = ""
    detail: str = ""
    must_fail: bool = False
    files: dict = field(default_factory=dict)  # path relative to the tree copy -> text written
    args: list = field(default_factory=list)


@dataclass
class Outcome:
    index: int
    target: str
    op: str
    kind: str  # ok, wrong-success, refused, usage, unlocated, traceback, hang
    seconds: float
    detail: str = ""
    signature: str = ""
    message: str = ""


# ---- mutations


def _paths(node, prefix=()):
    """Every path to a node of a YAML document."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _get(node, path):
    for part in path:
        node = node[part]
    return node


def _set(node, path, value):
    _get(node, path[:-1])[path[-1]] = value


def _typo(rng, text: str) -> str:
    if len(text) < 2:
        return text + "x"
    i = rng.randrange(len(text) - 1)
    how = rng.choice(["swap", "drop", "double", "case"])
    if how == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if how == "drop":
        return text[:i] + text[i + 1 :]
    if how == "double":
        return text[:i] + text[i] + text[i:]
    return text[:i] + text[i].swapcase() + text[i + 1 :]


def mutate_data(rng, data, case: Case) -> object:
    """One data-level mutation of a parsed document, in place (the document is returned)."""
    paths = [p for p in _paths(data) if p]
    path = rng.choice(paths)
    value = _get(data, path)
    op = rng.choice(["flip", "delete", "number", "text", "deep", "empty", "typo-key", "typo-value", "duplicate"])
    case.op, case.detail = op, "$." + ".".join(map(str, path))
    if op == "flip":
        _set(data, path, rng.choice([str(value), [value], {"v": value}, True, None, 1.5]))
    elif op == "delete":
        del _get(data, path[:-1])[path[-1]]
    elif op == "number":
        _set(data, path, rng.choice(WEIRD_NUMBERS))
    elif op == "text":
        _set(data, path, rng.choice(WEIRD_TEXT))
    elif op == "deep":  # written as text by _dump: too deep for repr() and yaml.dump
        _set(data, path, f"DEEP{rng.choice([50, 200, 2000, 20000])}PEED")
    elif op == "empty":
        _set(data, path, rng.choice([{}, [], ""]))
    elif op == "typo-key" and isinstance(path[-1], str):
        parent = _get(data, path[:-1])
        parent[_typo(rng, path[-1])] = parent.pop(path[-1])
    elif op == "typo-value" and isinstance(value, str):
        _set(data, path, _typo(rng, value))
    elif op == "duplicate" and isinstance(path[-1], str):
        parent = _get(data, path[:-1])
        parent[path[-1] + rng.choice(["", " ", "_2"])] = value
    else:
        _set(data, path, rng.choice(WEIRD_NUMBERS + WEIRD_TEXT))
        case.op = "replace"
    case.detail += f" -> {_short(_get_or(data, path))}"
    return data


def _get_or(data, path):
    try:
        return _get(data, path)
    except (KeyError, IndexError, TypeError):
        return "(deleted)"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def mutate_text(rng, text: str, case: Case) -> str:
    """One text-level mutation: what a data-level mutation cannot write."""
    lines = text.splitlines(keepends=True)
    op = rng.choice(["truncate", "duplicate-line", "alias", "control", "bom", "tab", "unicode", "merge-key"])
    case.op = op
    i = rng.randrange(len(lines)) if lines else 0
    if op == "truncate":
        cut = rng.randrange(len(text) + 1)
        case.detail = f"cut at {cut} of {len(text)}"
        return text[:cut]
    if op == "duplicate-line" and lines:
        case.detail = f"line {i + 1} twice"
        return "".join(lines[: i + 1] + lines[i:])
    if op == "alias":
        case.detail = "a recursive alias appended"
        return text + "\nrecursive: &a [*a]\n"
    if op == "control":
        case.detail = f"control character at line {i + 1}"
        return "".join(lines[:i]) + "\x07\x1b[31m" + "".join(lines[i:])
    if op == "bom":
        case.detail = "BOM"
        return "\ufeff" + text
    if op == "tab" and lines:
        case.detail = f"tab indent at line {i + 1}"
        return "".join(lines[:i]) + "\t" + "".join(lines[i:])
    if op == "merge-key":
        case.detail = "a merge key"
        return text + "\nbase: &b {x: 1}\nchild: {<<: *b, y: 2}\n"
    case.op, case.detail = "unicode", f"unicode at line {i + 1}"
    return "".join(lines[:i]) + "# ﻿ᚠ𝔘\u2028\n" + "".join(lines[i:])


def _dump(data) -> str:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    return re.sub(r"DEEP(\d+)PEED", lambda m: "[" * int(m[1]) + "1" + "]" * int(m[1]), text)


SCENARIOS = sorted(p.name for p in (REPO / "scenarios").glob("*.yaml"))


def scenario_case(rng, case: Case) -> None:
    name = rng.choice(SCENARIOS)
    text = (REPO / "scenarios" / name).read_text()
    if rng.random() < 0.15:
        text = mutate_text(rng, text, case)
    elif rng.random() < 0.2:  # a mutation that must be refused
        data = yaml.safe_load(text)
        field_, value = rng.choice([("input_tokens", float("nan")), ("input_tokens", -5), ("output_tokens", "abc"),
                                    ("output_tokens", float("inf")), ("input_tokens", [1])])  # fmt: skip
        data["request"][field_] = value
        case.op, case.detail, case.must_fail = "bad-tokens", f"request.{field_} = {value!r}", True
        text = _dump(data)
    else:
        text = _dump(mutate_data(rng, yaml.safe_load(text), case))
    case.detail = f"{name}: {case.detail}"
    case.files["fuzz.yaml"] = text
    case.args = ["run", "fuzz.yaml", "--format", rng.choice(["json", "table", "csv"])]


def formulas_case(rng, case: Case) -> None:
    name = rng.choice(["scope3.yaml", "memory.yaml", "llm_bench.yaml"])
    text = (REPO / "formulas" / name).read_text()
    data = yaml.safe_load(text)
    roll = rng.random()
    if roll < 0.35:
        formula = rng.choice(list(data["formulas"]))
        expr = str(data["formulas"][formula]["expr"])
        new = rng.choice([f"{expr} ** 10 ** 10", "(-1) ** 0.5", "2 ** 1024", f"({expr}) / 0", "-" * 1000 + "1",
                          " + ".join(["1"] * 999), "sum(1, 2)", "__import__('os')", f"{expr} # __x", "where(1, 2)",
                          _typo(rng, expr), "1e400", "9" * 40, f"max({expr}, 1)"])  # fmt: skip
        data["formulas"][formula]["expr"] = new
        case.op, case.detail = "expr", f"{name}: formulas.{formula}.expr = {_short(new)}"
    elif roll < 0.55:
        item = rng.choice([("formulas", k) for k in data["formulas"]] + [("inputs", k) for k in data["inputs"]])
        unit = rng.choice(["Wh", "W", "kWh", "s", "ms", "kg", "", "gCO2e", "L", "bogus_unit", "W**99", "token"])
        case.op, case.detail = "unit", f"{name}: {item[0]}.{item[1]}.unit = {unit!r}"
        data[item[0]][item[1]]["unit"] = unit
    elif roll < 0.75:
        bound = [k for k, v in data["inputs"].items() if isinstance(v.get("from"), str)]
        key = rng.choice(bound)
        entity, _, attr = data["inputs"][key]["from"].partition(".")
        typo = _typo(rng, attr.split("[")[0])
        data["inputs"][key]["from"] = f"{entity}.{typo}" + (attr[attr.index("[") :] if "[" in attr else "")
        case.op, case.detail = "binding", f"{name}: inputs.{key}.from = {data['inputs'][key]['from']}"
        case.must_fail = name == "scope3.yaml" and typo != attr.split("[")[0] and not _known_field(entity, typo)
    else:
        data = mutate_data(rng, data, case)
        case.detail = f"{name}: {case.detail}"
    case.files[f"formulas/{name}"] = _dump(data)
    case.args = ["run", "scenarios/chatbot-llama70b-h100.yaml", "--format", "json", "--methodology", "scope3",
                 "--methodology", name[:-5]]  # fmt: skip
    if name == "scope3.yaml":
        case.args = case.args[:-2]


def _known_field(entity: str, name: str) -> bool:
    catalog = {
        "model": "models",
        "accelerator": "accelerators",
        "server": "servers",
        "region": "regions",
        "deployment": "deployments",
        "precision": "precisions",
        "calibration": "calibrations",
    }.get(entity)
    if catalog is None:
        return True  # the scenario's own fields: not judged here
    schema = json.loads((REPO / "schemas" / f"catalog-{catalog}.v1.json").read_text())
    return name in schema["$defs"]["entry"]["properties"]


def catalog_case(rng, case: Case) -> None:
    name = rng.choice(CATALOGS)
    text = (REPO / "catalogs" / f"{name}.yaml").read_text()
    if rng.random() < 0.2:
        text = mutate_text(rng, text, case)
    elif rng.random() < 0.2:
        data = yaml.safe_load(text)
        entry = rng.choice(list(data["entries"]))
        del data["entries"][entry]["source"]
        case.op, case.detail, case.must_fail = "no-source", f"entries.{entry}.source deleted", True
        text = _dump(data)
    else:
        text = _dump(mutate_data(rng, yaml.safe_load(text), case))
    case.detail = f"catalogs/{name}.yaml: {case.detail}"
    case.files[f"catalogs/{name}.yaml"] = text
    case.args = ["run", "scenarios/chatbot-llama70b-h100.yaml", "--format", "json"]


LOG = (REPO / "scenarios" / "logs" / "requests-sample.csv").read_text()


def log_case(rng, case: Case) -> None:
    rows = [line.split(",") for line in LOG.strip().splitlines()]
    op = rng.choice(["cell", "header", "duplicate-column", "bom", "jsonl", "empty", "truncate", "bad-tokens"])
    case.op = op
    r, c = rng.randrange(1, len(rows)), rng.randrange(len(rows[0]))
    suffix = ".csv"
    if op == "cell":
        rows[r][c] = str(rng.choice(WEIRD_TEXT + [str(n) for n in WEIRD_NUMBERS]))
        case.detail = f"row {r} column {rows[0][c]} = {_short(rows[r][c])}"
    elif op == "header":
        rows[0][c] = _typo(rng, rows[0][c])
        case.detail, case.must_fail = f"header {rows[0][c]}", True
    elif op == "duplicate-column":
        for row in rows:
            row.append(row[c])
        case.detail, case.must_fail = f"column {rows[0][c]} twice", True
    elif op == "bad-tokens":
        rows[r][1] = rng.choice(["-1", "abc", "nan", "1e999", "2.5", ""])
        case.detail, case.must_fail = f"row {r} input_tokens = {rows[r][1]!r}", rows[r][1] != ""
    text = "\n".join(",".join(row) for row in rows) + "\n"
    if op == "bom":
        text, case.detail = "\ufeff" + text, "BOM"
    elif op == "jsonl":
        suffix = ".jsonl"
        header, body = rows[0], rows[1:]
        lines = [json.dumps(dict(zip(header, row, strict=True))) for row in body]
        lines[r - 1] = rng.choice(["[1, 2]", "null", "{}", '{"model": null}', "{", '{"input_tokens": true}'])
        text, case.detail = "\n".join(lines) + "\n", f"line {r} = {lines[r - 1]}"
    elif op == "empty":
        text, case.detail = rng.choice(["", "\n", rows and ",".join(rows[0]) + "\n"]), "empty"
    elif op == "truncate":
        cut = rng.randrange(len(text))
        text, case.detail = text[:cut], f"cut at {cut}"
    case.files[f"fuzz{suffix}"] = text
    case.args = ["batch", f"fuzz{suffix}", "--scenario", "scenarios/chatbot-llama70b-h100.yaml", "--format", "json"]


NAMES = ["PUE", "P_gpu", "beta_out", "n_in", "N_gpu", "grid_intensity", "E", "t_hat", "pue"]


def cli_case(rng, case: Case) -> None:
    args = ["run", "scenarios/" + rng.choice(SCENARIOS)]
    op = rng.choice(["set", "set", "samples", "seed", "methodology", "optimization", "format", "explain", "compare"])
    case.op = op
    if op == "set":
        value = rng.choice(WEIRD_TEXT + ["1.1", "0.7 kW", "700", "-1", "1e308", "5 Wh", "=1", "1,5"])
        args += ["--set", f"{rng.choice(NAMES)}={value}"]
        case.must_fail = value in ("1,5", "=1", "10**10**10", "nan", "-inf", "1e999 W", "0,7 kW", "2024-01-01")
    elif op == "samples":
        args += ["--samples", str(rng.choice([1, 3, 10**12, 10**25, -1, 0])), "--seed", "0"]
    elif op == "seed":
        seed = rng.choice([-1, 0, 2**64, 2**200, 42])
        args += ["--samples", "5", "--seed", str(seed)]
        case.must_fail = seed < 0
    elif op == "methodology":
        args += ["--methodology", rng.choice(["scope3", "llm_bench", "memory", "scope4", "", "scope3+batching"])]
    elif op == "optimization":
        args += ["--optimization", rng.choice(["batching", "kv-cache-fp8", "speculative-decoding", "batchin", ""])]
    elif op == "format":
        args += ["--format", rng.choice(["json", "csv", "markdown", "table", "xml"])]
    elif op == "explain":
        args = ["explain", args[1], rng.choice(["E", "t_hat", "emissions", "nope", "memory", ""])]
    else:
        args = ["compare", args[1]] + rng.choice(
            [
                [],
                ["--methodology", "scope3+speculative-decoding"],
                ["--methodology", "memory"],
                ["--optimization", "kv-cache-fp8"],
            ]
        )
    case.detail = " ".join(args)
    case.args = args


BUILDERS = {"scenario": scenario_case, "formulas": formulas_case, "catalog": catalog_case, "log": log_case,
            "cli": cli_case}  # fmt: skip


def make_case(seed: int, index: int) -> Case:
    rng = random.Random(seed * 1_000_003 + index)
    target = rng.choices(list(TARGETS), weights=list(TARGETS.values()))[0]
    case = Case(index, target)
    BUILDERS[target](rng, case)
    return case


# ---- running


_STATE: dict = {}


def _init(timeout: float) -> None:
    """A worker: its own copy of the tree and its own cache folder."""
    warnings.simplefilter("ignore")  # a library warning is counted from stderr, not raised
    work = Path(tempfile.mkdtemp(prefix="impact-fuzz-"))
    tree = work / "tree"
    for part in PARTS:
        shutil.copytree(REPO / part, tree / part)
    os.environ["IMPACT_CACHE_DIR"] = str(work / "cache")
    os.environ.pop("IMPACT_ROOT", None)
    _STATE.update(tree=tree, work=work, timeout=timeout)
    signal.signal(signal.SIGALRM, _alarm)


def _alarm(signum, frame):
    raise Hang()


def run_case(seed_index: tuple[int, int]) -> Outcome:
    from click.testing import CliRunner

    from impact.cli import main

    seed, index = seed_index
    case = make_case(seed, index)
    tree: Path = _STATE["tree"]
    saved = {}
    for relative, text in case.files.items():
        path = tree / relative
        saved[relative] = path.read_bytes() if path.exists() else None
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    start = time.perf_counter()
    os.chdir(tree)
    kind, signature, message = "ok", "", ""
    signal.setitimer(signal.ITIMER_REAL, _STATE["timeout"])
    try:
        result = CliRunner().invoke(main, [*case.args, "--root", str(tree)])
        signal.setitimer(signal.ITIMER_REAL, 0)
        kind, signature, message = _classify(case, result)
    except Hang:
        kind, message = "hang", f"ran past {_STATE['timeout']:g} s"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for relative, content in saved.items():
            path = tree / relative
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(content)
    return Outcome(index, case.target, case.op, kind, time.perf_counter() - start, case.detail, signature, message)


def _classify(case: Case, result) -> tuple[str, str, str]:
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if "/impact" in f.filename or "wt-" in f.filename] or frames
        where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
        return "traceback", f"{type(exc).__name__} at {where}", f"{type(exc).__name__}: {str(exc)[:160]}"
    if result.exit_code == 0:
        return ("wrong-success" if case.must_fail else "ok"), "", ""
    if result.exit_code == 2:
        return "usage", "", result.stderr.strip().splitlines()[-1][:160] if result.stderr.strip() else ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("impact: using the methodology tree")]
    bad = [line for line in lines if not (line.startswith("  hint: ") or LOCATED.match(line))]
    if not lines or bad or "Traceback" in result.stderr:
        return "unlocated", "", (bad or ["(no message)"])[0][:160]
    return "refused", "", lines[0][:160]


def run_cases(seed: int, indices, workers: int, timeout: float) -> list[Outcome]:
    """Run the cases `indices` of `seed`, in `workers` processes (each a copy of the tree)."""
    jobs = [(seed, i) for i in indices]
    if workers <= 1:  # in this process (the test suite): put back what _init and run_case change
        cwd, env = os.getcwd(), {k: os.environ.get(k) for k in ("IMPACT_CACHE_DIR", "IMPACT_ROOT")}
        handler = signal.getsignal(signal.SIGALRM)
        try:
            with warnings.catch_warnings():
                _init(timeout)
                return [run_case(job) for job in jobs]
        finally:
            os.chdir(cwd)
            for key, value in env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            signal.signal(signal.SIGALRM, handler)
            shutil.rmtree(_STATE["work"], ignore_errors=True)
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_init, initargs=(timeout,)) as pool:
        return list(pool.imap_unordered(run_case, jobs, chunksize=8))


def summary(outcomes: list[Outcome]) -> dict:
    table = collections.defaultdict(collections.Counter)
    for o in outcomes:
        table[o.target][o.kind] += 1
        table["all"][o.kind] += 1
    return {target: dict(counts) for target, counts in table.items()}


KINDS = ("ok", "wrong-success", "refused", "usage", "unlocated", "traceback", "hang")


def report(outcomes: list[Outcome], seconds: float, show: int) -> str:
    table = summary(outcomes)
    lines = [f"{len(outcomes):,} cases in {seconds:.0f} s ({len(outcomes) / max(seconds, 1e-9):.1f} cases/s)", ""]
    lines.append(f"{'target':<10}" + "".join(f"{k:>14}" for k in ("cases", *KINDS)))
    for target in [*TARGETS, "all"]:
        counts = table.get(target, {})
        lines.append(f"{target:<10}{sum(counts.values()):>14,}" + "".join(f"{counts.get(k, 0):>14,}" for k in KINDS))
    for kind in ("traceback", "hang", "wrong-success", "unlocated"):
        found = [o for o in outcomes if o.kind == kind]
        if not found:
            continue
        groups: dict[str, list[Outcome]] = collections.defaultdict(list)
        for o in found:
            groups[o.signature or o.message[:60]].append(o)
        lines += ["", f"{kind}: {len(found)} cases, {len(groups)} distinct"]
        for key, cases in sorted(groups.items(), key=lambda kv: -len(kv[1]))[:show]:
            first = min(cases, key=lambda o: o.index)
            lines.append(f"  {len(cases):>5} x {key}")
            lines.append(f"          e.g. case {first.index} ({first.target}, {first.op}): {first.detail}")
            if first.message and first.message != key:
                lines.append(f"          {first.message}")
    return "\n".join(lines)


def replay(seed: int, index: int) -> None:
    case = make_case(seed, index)
    print(f"case {index} of seed {seed}: {case.target}, {case.op}: {case.detail}")
    print("args:", " ".join(case.args), "--root TREE")
    for relative, text in case.files.items():
        shown = text if len(text) < 4000 else text[:4000] + "\n... (shortened)"
        print(f"--- {relative}\n{shown}")
    (outcome,) = run_cases(seed, [index], 1, 60)
    print(f"=> {outcome.kind} {outcome.signature} {outcome.message}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds a case may take before it is a hang")
    parser.add_argument("--show", type=int, default=15, help="distinct problems shown per kind")
    parser.add_argument("--case", type=int, help="replay this one case, showing what it wrote")
    parser.add_argument("--json", help="also write every outcome to this JSON file")
    args = parser.parse_args()
    if args.case is not None:
        replay(args.seed, args.case)
        return
    start = time.perf_counter()
    outcomes = run_cases(args.seed, range(args.cases), args.workers, args.timeout)
    outcomes.sort(key=lambda o: o.index)
    print(f"impact fuzz: seed {args.seed}, {args.workers} workers, timeout {args.timeout:g} s per case")
    print(report(outcomes, time.perf_counter() - start, args.show))
    if args.json:
        Path(args.json).write_text(json.dumps([o.__dict__ for o in outcomes], indent=1))
    bad = sum(o.kind in ("traceback", "hang") for o in outcomes)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    main()
