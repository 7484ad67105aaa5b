"""The prediction service: `uvicorn service.app:app` (see service/app.py)."""
