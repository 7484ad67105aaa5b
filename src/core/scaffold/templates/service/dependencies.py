"""Shared state for the routes, through FastAPI's ``Depends``: the settings and the prediction
service the app's lifespan put on ``app.state`` at start, and the ids RequestIdMiddleware gave
the request. Async functions that only read an attribute, so FastAPI calls them in the event
loop rather than in its thread pool."""
from fastapi import Request

from service.middleware import RequestIds
from service.serving import PredictionService
from service.settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_service(request: Request) -> PredictionService:
    return request.app.state.service


async def get_request_ids(request: Request) -> RequestIds:
    return request.state.request_ids
