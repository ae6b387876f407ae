"""A LiteLLM callback that puts an impact estimate beside each completed call's cost.

    import litellm
    from impact.integrations.litellm import ImpactLogger

    litellm.callbacks = [ImpactLogger("scenarios/chatbot-llama70b-h100.yaml", models={"gpt-4o": {"provider":
                         "openai", "name": "gpt-4o"}})]

For every successful call, the response's model and usage (prompt and completion tokens) are estimated on
the base scenario (`estimate.Estimator`), and the estimate (a dict: model, input_tokens, output_tokens,
methodology, energy_wh, emissions_gco2e, water_l, or error) is added where the rest of LiteLLM's logging sees
it: the call's `metadata["impact"]` (`litellm_params.metadata`), the standard logging payload's metadata,
and the response's `_hidden_params["impact"]`, next to `response_cost`; `on_estimate(estimate, kwargs)` is
called too when given. The logger is a `litellm.integrations.custom_logger.CustomLogger` when litellm is
installed; `callback(scenario, ...)` gives the same as a plain function with LiteLLM's custom-callback
signature `(kwargs, completion_response, start_time, end_time)` for `litellm.success_callback`. Neither ever
raises into the call it observes.
"""

from __future__ import annotations

import logging

from .estimate import Estimator

log = logging.getLogger("impact.integrations.litellm")

try:  # the base class when litellm is installed; the logger works as a plain callable without it
    from litellm.integrations.custom_logger import CustomLogger as _Base
except ImportError:  # pragma: no cover - exercised where litellm is absent
    _Base = object


class ImpactLogger(_Base):
    """Estimates each completed LiteLLM call and records the estimate in its metadata and response."""

    def __init__(self, scenario, *, models=None, methodology=None, root=None, on_estimate=None, estimator=None):
        if _Base is not object:
            super().__init__()
        self.estimator = estimator or Estimator(scenario, models=models, methodology=methodology, root=root)
        self.on_estimate = on_estimate

    def estimate(self, kwargs: dict, response) -> dict | None:
        """The estimate of one call as a dict (None when the response has no usage), recorded in place."""
        usage = _get(response, "usage")
        if usage is None:
            return None
        model = _get(response, "model") or kwargs.get("model") or ""
        provider = (kwargs.get("litellm_params") or {}).get("custom_llm_provider") or kwargs.get("custom_llm_provider")
        found = self.estimator.estimate(model, int(_get(usage, "prompt_tokens") or 0),
                                        int(_get(usage, "completion_tokens") or 0), provider).to_dict()  # fmt: skip
        params = kwargs.setdefault("litellm_params", {})
        if params.get("metadata") is None:
            params["metadata"] = {}
        params["metadata"]["impact"] = found
        standard = kwargs.get("standard_logging_object")
        if isinstance(standard, dict):
            if standard.get("metadata") is None:
                standard["metadata"] = {}
            standard["metadata"]["impact"] = found
        hidden = getattr(response, "_hidden_params", None)
        if isinstance(hidden, dict):
            hidden["impact"] = found
        if self.on_estimate is not None:
            self.on_estimate(found, kwargs)
        return found

    def _observe(self, kwargs, response) -> None:
        try:
            self.estimate(kwargs, response)
        except Exception:  # a hook must not break the call it observes; the reason goes to the log
            log.exception("impact: could not estimate a LiteLLM call")

    # LiteLLM's CustomLogger hooks
    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._observe(kwargs, response_obj)

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._observe(kwargs, response_obj)


def callback(scenario, **options):
    """The same estimate as a plain function with LiteLLM's custom-callback signature
    `(kwargs, completion_response, start_time, end_time)`, for `litellm.success_callback = [...]`. (The
    logger itself is not callable: LiteLLM would then call it twice, as a logger and as a function.)"""
    logger = ImpactLogger(scenario, **options)

    def impact_callback(kwargs, completion_response, start_time, end_time):
        logger._observe(kwargs, completion_response)

    impact_callback.logger = logger
    return impact_callback


def _get(obj, key: str):
    """A field of a LiteLLM object or of its dict form."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)
