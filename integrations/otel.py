"""An OpenTelemetry span processor that adds `impact.*` attributes to GenAI spans.

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from impact.integrations.otel import ImpactSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(ImpactSpanProcessor(BatchSpanProcessor(exporter), "scenarios/chat.yaml"))

A span is a GenAI span when it carries the semantic conventions' token usage (`gen_ai.usage.input_tokens` and
`gen_ai.usage.output_tokens`, or the older `prompt_tokens`/`completion_tokens`) and a model
(`gen_ai.response.model`, else `gen_ai.request.model`; `gen_ai.system` is the provider). An ended span is
read-only, so the processor wraps the processor that exports: it hands that one a copy of each GenAI span
with `impact.energy_wh`, `impact.emissions_gco2e`, `impact.water_l`, `impact.methodology` and `impact.model`
added (or `impact.error` saying why there is no estimate), and every other span unchanged.
"""

from __future__ import annotations

import logging

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from .estimate import Estimator

log = logging.getLogger("impact.integrations.otel")

INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
OUTPUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
MODEL = ("gen_ai.response.model", "gen_ai.request.model")


class ImpactSpanProcessor(SpanProcessor):
    """Passes spans to `next_processor`, GenAI ones with their impact estimate as attributes."""

    def __init__(self, next_processor: SpanProcessor, scenario=None, *, models=None, methodology=None, root=None,
                 estimator: Estimator | None = None):  # fmt: skip
        self.next = next_processor
        self.estimator = estimator or Estimator(scenario, models=models, methodology=methodology, root=root)

    def on_start(self, span, parent_context=None) -> None:
        self.next.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        try:
            extra = self.attributes(span.attributes or {})
        except Exception:  # a hook must not lose the span it observes; the reason goes to the log
            log.exception("impact: could not estimate span %s", span.name)
            extra = None
        self.next.on_end(_with(span, extra) if extra else span)

    def attributes(self, attributes) -> dict | None:
        """The impact.* attributes for a span's attributes, or None when it is not a GenAI span."""
        n_in, n_out, model = (_first(attributes, keys) for keys in (INPUT, OUTPUT, MODEL))
        if n_in is None or n_out is None or model is None:
            return None
        found = self.estimator.estimate(str(model), int(n_in), int(n_out), attributes.get("gen_ai.system"))
        out = {"impact.methodology": found.methodology, "impact.model": found.model}
        if found.error:
            return {**out, "impact.error": found.error}
        for key in ("energy_wh", "emissions_gco2e", "water_l"):
            if getattr(found, key) is not None:
                out[f"impact.{key}"] = getattr(found, key)
        return out

    def shutdown(self) -> None:
        self.next.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.next.force_flush(timeout_millis)


def _first(attributes, keys):
    return next((attributes[k] for k in keys if k in attributes), None)


def _with(span: ReadableSpan, extra: dict) -> ReadableSpan:
    """A copy of an ended span with more attributes."""
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes={**(span.attributes or {}), **extra},
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
