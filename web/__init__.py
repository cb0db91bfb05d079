"""The doors: FastAPI app (one router per resource), pages, and the `kvsp` CLI."""
