"""om-bridge: hand chatbot conversations over to human agents in Genesys Cloud through Open Messaging.

The import packages live under this namespace so the distribution installs beside any other:
`om_bridge.bridge` (the service), `om_bridge.sandbox` (the Genesys Cloud sandbox),
`om_bridge.extension` (the Cognigy extension's node descriptors and build), `om_bridge.schemas`
(JSON Schemas) and `om_bridge.flows` (flow templates). In the repository they are the top-level
folders of the same names (see docs/architecture.md).
"""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("om-bridge")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
