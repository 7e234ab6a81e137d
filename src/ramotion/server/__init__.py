"""`ramotion serve`: a local web app and JSON API over a RAMPipeline (FastAPI + uvicorn).

    from ramotion.server import create_app, ServerLimits
    app = create_app(pipeline, ServerLimits(max_samples=4))
"""

from .app import LOOPBACK_HOSTS, create_app
from .limits import APIError, ServerLimits, uvicorn_options
from .threaded import serve_in_thread

__all__ = ["APIError", "LOOPBACK_HOSTS", "ServerLimits", "create_app", "serve_in_thread", "uvicorn_options"]
