"""Gateway hooks: the estimate of one call, the LiteLLM callback (with LiteLLM's own mock responses where
litellm is installed, and recorded objects always) and the OpenTelemetry span processor (with the SDK's
InMemorySpanExporter). Nothing touches the network."""

from __future__ import annotations

import os
import time

import pytest

from conftest import REPO
from impact.engine import run
from impact.integrations.estimate import Estimator

BASE = REPO / "scenarios" / "chatbot-llama70b-h100.yaml"


@pytest.fixture(scope="module")
def estimator(tree):
    return Estimator(BASE, tree=tree, models={"my-llama": "llama-3.1-8b"})


def scope3(tree, model, n_in, n_out):
    from impact.engine.loader import load_file

    data = {**load_file(BASE).data, "model": model, "request": {"input_tokens": n_in, "output_tokens": n_out}}
    data.pop("expect")
    (r,) = run(data, tree=tree, methodologies=["scope3"])
    return {name: float(r.results[name].value[0]) for name in ("E", "emissions", "water")}


def test_an_estimate_is_the_scope3_run_of_the_call(estimator, tree):
    found = estimator.estimate("llama-3.1-8b", 1200, 300)
    want = scope3(tree, "llama-3.1-8b", 1200, 300)
    # the headline results of scope3 (E in Wh, emissions in gCO2e, water in L) need no conversion
    assert (found.energy_wh, found.emissions_gco2e, found.water_l) == (want["E"], want["emissions"], want["water"])
    assert (found.model, found.methodology, found.error) == ("llama-3.1-8b", "scope3", None)


def test_models_are_found_by_mapping_prefix_and_price_table(estimator, tree):
    assert estimator.estimate("my-llama", 100, 10).model == "llama-3.1-8b"
    assert estimator.estimate("meta-llama/llama-3.1-8b", 100, 10).model == "llama-3.1-8b"
    api = estimator.estimate("gpt-4o", 100, 10, provider="openai")
    assert api.model == "openai/gpt-4o"
    assert api.emissions_gco2e == scope3(tree, {"provider": "openai", "name": "gpt-4o"}, 100, 10)["emissions"]
    assert estimator.estimate("openai/gpt-4o", 100, 10).emissions_gco2e == api.emissions_gco2e


def test_an_unknown_model_is_a_reason_not_an_exception(estimator):
    found = estimator.estimate("no-such-model", 100, 10)
    assert found.energy_wh is None
    assert found.error == "no catalog model or priced API model matches 'no-such-model'; map it with models={...}"
    assert found.to_dict() == {"model": "no-such-model", "input_tokens": 100, "output_tokens": 10,
                               "methodology": "scope3", "error": found.error}  # fmt: skip


def test_a_bad_base_scenario_fails_at_configuration(tree, tmp_path):
    from impact.engine import ImpactError

    with pytest.raises(ImpactError, match="unknown methodology 'scope4'"):
        Estimator(BASE, tree=tree, methodology="scope4")


# ---- LiteLLM


class Recorded:
    """A LiteLLM ModelResponse as a success callback receives it (its fields; no network was involved)."""

    def __init__(self, model, prompt_tokens, completion_tokens):
        self.model = model
        self.usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": 0}
        self._hidden_params = {"response_cost": 0.0001}


def test_the_litellm_callback_records_the_estimate(estimator, tree):
    from impact.integrations.litellm import ImpactLogger, callback

    seen = []
    logger = ImpactLogger(None, estimator=estimator, on_estimate=lambda e, kw: seen.append(e))
    kwargs = {"model": "llama-3.1-8b", "litellm_params": {"metadata": None, "custom_llm_provider": "openai"},
              "standard_logging_object": {"metadata": {"user": "x"}}}  # fmt: skip
    response = Recorded("llama-3.1-8b", 1200, 300)
    logger.log_success_event(kwargs, response, None, None)
    want = scope3(tree, "llama-3.1-8b", 1200, 300)
    found = kwargs["litellm_params"]["metadata"]["impact"]
    assert found["emissions_gco2e"] == want["emissions"]
    assert kwargs["standard_logging_object"]["metadata"] == {"user": "x", "impact": found}
    assert response._hidden_params == {"response_cost": 0.0001, "impact": found}
    assert seen == [found]
    plain = callback(None, estimator=estimator)
    other = {}
    plain(other, Recorded("gpt-4o", 100, 10), None, None)
    assert other["litellm_params"]["metadata"]["impact"]["error"].startswith("no catalog model")


def test_the_litellm_callback_never_breaks_the_call(estimator, caplog):
    from impact.integrations.litellm import ImpactLogger

    def broken(found, kwargs):
        raise RuntimeError("a user's on_estimate failed")

    logger = ImpactLogger(None, estimator=estimator, on_estimate=broken)
    logger.log_success_event({}, Recorded("llama-3.1-8b", 1, 1), None, None)  # no exception
    assert "could not estimate a LiteLLM call" in caplog.text
    logger.log_success_event({}, {"model": "x"}, None, None)  # no usage: nothing to estimate, nothing raised


def test_litellm_mock_completion_gets_an_impact(estimator, tree):
    """LiteLLM's own test double (`mock_response=`): a completion made without any network, its success
    callbacks run; ours sees the response's model and usage."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch of the price map at import
    litellm = pytest.importorskip("litellm", reason="litellm is not installed (pip install litellm)")
    from impact.integrations.litellm import ImpactLogger

    seen = []
    logger = ImpactLogger(None, estimator=estimator, on_estimate=lambda e, kw: seen.append((e, kw)))
    saved = litellm.callbacks
    litellm.callbacks = [logger]
    try:
        response = litellm.completion(model="openai/gpt-4o", messages=[{"role": "user", "content": "Hello"}],
                                      mock_response="Hi! How can I help?")  # fmt: skip
        deadline = time.monotonic() + 30
        while not seen and time.monotonic() < deadline:  # LiteLLM runs success callbacks on a worker thread
            time.sleep(0.05)
    finally:
        litellm.callbacks = saved
    assert len(seen) == 1
    found, kwargs = seen[0]
    usage = response.usage
    assert (found["input_tokens"], found["output_tokens"]) == (usage.prompt_tokens, usage.completion_tokens)
    assert found["model"] == "openai/gpt-4o"
    n_in, n_out = usage.prompt_tokens, usage.completion_tokens
    assert found["emissions_gco2e"] == scope3(tree, {"provider": "openai", "name": "gpt-4o"}, n_in, n_out)["emissions"]
    assert kwargs["litellm_params"]["metadata"]["impact"] == found


# ---- OpenTelemetry


@pytest.fixture
def spans(estimator):
    pytest.importorskip("opentelemetry.sdk", reason="opentelemetry-sdk is not installed")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from impact.integrations.otel import ImpactSpanProcessor

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(ImpactSpanProcessor(SimpleSpanProcessor(exporter), estimator=estimator))
    return provider.get_tracer("test"), exporter


def test_genai_spans_get_impact_attributes(spans, tree):
    tracer, exporter = spans
    with tracer.start_as_current_span("chat llama-3.1-8b") as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.request.model", "my-llama")
        span.set_attribute("gen_ai.usage.input_tokens", 1200)
        span.set_attribute("gen_ai.usage.output_tokens", 300)
    with tracer.start_as_current_span("not a model call") as span:
        span.set_attribute("http.method", "GET")
    with tracer.start_as_current_span("chat unknown") as span:
        span.set_attribute("gen_ai.response.model", "no-such-model")
        span.set_attribute("gen_ai.usage.prompt_tokens", 5)
        span.set_attribute("gen_ai.usage.completion_tokens", 5)
    chat, other, unknown = exporter.get_finished_spans()
    want = scope3(tree, "llama-3.1-8b", 1200, 300)
    assert chat.attributes["impact.energy_wh"] == want["E"]
    assert chat.attributes["impact.emissions_gco2e"] == want["emissions"]
    assert chat.attributes["impact.water_l"] == want["water"]
    assert (chat.attributes["impact.model"], chat.attributes["impact.methodology"]) == ("llama-3.1-8b", "scope3")
    assert chat.attributes["gen_ai.usage.input_tokens"] == 1200  # the span's own attributes are kept
    assert chat.context == chat.context and chat.name == "chat llama-3.1-8b"
    assert not any(k.startswith("impact.") for k in other.attributes)
    assert unknown.attributes["impact.error"].startswith("no catalog model or priced API model matches")
