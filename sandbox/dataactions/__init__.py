"""Sandbox data-action output: the Trigger -> Workflow -> Web Services Data Action path of
Genesys end detection, as the HTTP call it produces (section `[data_action]`, see `settings.py`;
admin routes in `routes.py`), with the Process Automation trigger API in `trigger_routes.py`."""

from __future__ import annotations

from flask import Flask

from om_bridge.sandbox.notifications.lifecycle import on_close

from .caller import DataActionCaller, cognigy_body
from .settings import DataActionSettings

__all__ = ["DataActionCaller", "DataActionSettings", "cognigy_body", "init_app"]


def init_app(app: Flask) -> None:
    """Register the data-action output on the sandbox app."""
    from .routes import bp
    from .trigger_routes import bp as triggers_bp

    state = app.extensions["sandbox"]
    settings = DataActionSettings.from_section(state.config.sections.get("data_action"))
    caller = DataActionCaller(settings, state.faults)
    app.extensions["sandbox.data_action"] = caller
    state.bus.subscribe(caller.on_event)
    on_close(state, caller.close)
    app.register_blueprint(bp)
    app.register_blueprint(triggers_bp)
