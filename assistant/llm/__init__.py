"""The optional OpenAI-compatible LLM client."""
