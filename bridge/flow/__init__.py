"""The flow runtime: runs a Cognigy-style chart for one input against session state (docs/design.md §5)."""

from om_bridge.extension.api import HandoverRequest, Output
from om_bridge.extension.script import ScriptError

from .chart import Chart, ChartError, ChartNode, config_problems, load_chart, template_names
from .runtime import FlowRuntime
from .state import FlowError, FlowInput, FlowResult, SessionState

__all__ = [
    "Chart",
    "ChartError",
    "ChartNode",
    "FlowError",
    "FlowInput",
    "FlowResult",
    "FlowRuntime",
    "HandoverRequest",
    "Output",
    "ScriptError",
    "SessionState",
    "config_problems",
    "load_chart",
    "template_names",
]
