"""A Cognigy emulator: Cognigy's side of a Cognigy-hosted handover on one machine (REST endpoint
and webchat per URL token, flows whose extension nodes run from the built extension's
`build/module.js` in Node.js, the Inject and Notify APIs with Cognigy's shapes and API-key check,
faults on them). docs/design.md §12; `om-bridge demo --cognigy`."""
