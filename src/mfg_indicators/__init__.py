"""云和县制造业“腾笼换鸟、凤凰涅槃”攻坚行动 — the campaign's data pipeline.

Modules follow the data: extract -> validate -> load -> compute -> render -> deliver.
"""

__version__ = "0.1.0"
