"""The hosted Dia2 task API that ``dia-studio serve`` answers: tasks parsed and checked once,
stored (SQLite and files), run one generation at a time on the model, delivered (webhooks,
uploads); the WebSocket sessions of /v1, live takes (/v1/live) and remote studios (/v1/engine)."""
