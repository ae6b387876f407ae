"""Hooks that put an impact estimate beside each call an LLM gateway makes: a LiteLLM callback
(`impact.integrations.litellm`) and an OpenTelemetry span processor (`impact.integrations.otel`). Both
estimate one call from its model and token usage with a configured base scenario (`estimate.Estimator`),
import their library only on use, and come with optional extras.
"""
