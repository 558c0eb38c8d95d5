"""`FlowRuntime`: runs a chart for one input against a session's state, as Cognigy walks a flow.

Where a run starts: the Go To "wait for Input" target (or the node below a Handover node) if one is
pending, else the session's entrypoint (the last Entrypoint node passed), else the Start node. A run
stops at End, at the bottom of the chart, at a Go To with "wait", or at a Handover node.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from om_bridge.extension.api import ChildConfig, Cognigy, NodeError, NodeParams, Output
from om_bridge.extension.registry import NODE_TYPES
from om_bridge.extension.script import ScriptError

from . import messages
from .api import RuntimeApi
from .chart import Chart
from .config import evaluate_config
from .state import FlowError, FlowInput, FlowResult, SessionState

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FlowRuntime:
    """Runs one chart; stateless itself, so one instance serves every session."""

    def __init__(self, chart: Chart, *, max_steps: int = 200) -> None:
        self.chart = chart
        self.max_steps = max_steps
        for node in chart.nodes.values():  # fail at start-up, not mid-conversation
            if node.type not in NODE_TYPES:
                raise ValueError(messages.unknown_type(node.type))
        for note in chart.unsupported:  # once per flow load: the engine caches one runtime a flow
            log.warning(messages.not_supported(chart.name, note))

    def run(self, state: SessionState, flow_input: FlowInput) -> FlowResult:
        """Run the chart for `flow_input`; returns outputs, a handover request if one was made, the
        updated state (a copy; `state` is not modified) and, on failure, the error with outputs so
        far."""
        state = SessionState.from_dict(state.to_dict())
        scope = {"input": flow_input.to_input(), "context": state.context, "profile": state.profile}
        if flow_input.handover is None:  # handover events are not user messages
            state.record(
                {"source": "user", "text": flow_input.text, "data": flow_input.data, "time": _now()}
            )
        outputs: list[Output] = []
        current: str | None = state.wait_node or state.entrypoint or self.chart.start
        state.wait_node = None
        handover = None
        steps = 0
        try:
            while current is not None:
                steps += 1
                if steps > self.max_steps:
                    raise self._error(current, messages.step_bound(self.max_steps))
                api = self._execute(current, scope, state)
                for out in api.outputs:
                    outputs.append(out)
                    if out.prevent_transcript:  # Say "Exclude from Transcript"
                        continue
                    state.record(
                        {"source": "bot", "text": out.text, "data": out.data, "time": _now()}
                    )
                if api.handover_request is not None:
                    handover = api.handover_request
                    if handover.flow_continuation == "resetEntrypoint":
                        state.wait_node = self.chart.successor(current)  # resume below this node
                    break
                if api.wait_node is not None:
                    self._check_target(current, api.wait_node)
                    state.wait_node = api.wait_node
                    break
                if api.stopped:
                    break
                if api.next_node is not None:
                    self._check_target(current, api.next_node)
                    current = api.next_node
                else:
                    current = self.chart.successor(current)
        except FlowError as err:
            return FlowResult(outputs=outputs, handover=None, state=state, error=err)
        return FlowResult(outputs=outputs, handover=handover, state=state, error=None)

    def _execute(self, node_id: str, scope: dict, state: SessionState) -> RuntimeApi:
        node = self.chart.nodes[node_id]
        if node.is_entry_point:
            state.entrypoint = node_id
        api = RuntimeApi(scope, state.node_counts, state.transcript)
        registered = NODE_TYPES[node.type]
        if node.is_disabled or registered.function is None:
            return api
        try:
            config = evaluate_config(registered.descriptor, node.config, scope)
            children = [
                ChildConfig(
                    id=c,
                    type=self.chart.nodes[c].type,
                    config=evaluate_config(
                        NODE_TYPES[self.chart.nodes[c].type].descriptor,
                        self.chart.nodes[c].config,
                        scope,
                    ),
                )
                for c in self.chart.children.get(node_id, ())
            ]
            cognigy = Cognigy(
                api=api, input=scope["input"], context=scope["context"], profile=scope["profile"]
            )
            registered.function(
                NodeParams(cognigy=cognigy, config=config, node_id=node_id, child_configs=children)
            )
        except (ScriptError, NodeError) as exc:
            raise self._error(node_id, str(exc)) from None
        finally:
            state.node_counts[node_id] = state.node_counts.get(node_id, 0) + 1
        return api

    def _check_target(self, node_id: str, target: str) -> None:
        if target not in self.chart.nodes:
            raise self._error(node_id, messages.no_such_node(target))

    def _error(self, node_id: str, message: str) -> FlowError:
        return FlowError(node_id, self.chart.label(node_id), message)
