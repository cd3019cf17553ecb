"""What the readers and the data-quality gate say about a delivery.

An ``error`` rejects the whole delivery (feeds.md -> Bad input); a ``warning`` lets it through and
reaches the run's JSON, the task log and the bulletin's data annex. Messages are Chinese (the
departments read them); ``message_en`` goes to the engineers' log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    level: str  # ERROR or WARNING
    source: str  # inbox source: registry, tax, energy, stats, projects, ledgers
    rule: str  # short machine id, e.g. "uscc_check_digit", "negative_tax"
    message: str  # Chinese, for departments, the quarantine report and the bulletin
    message_en: str = ""  # English, for the log
    table: str | None = None  # feeds.TABLES name
    file: str | None = None
    sheet: str | None = None
    row: int | None = None  # 1-based row number as the sender sees it in the file/sheet
    column: str | None = None  # the Chinese header
    uscc: str | None = None  # or the indicator/project code the finding is about
    period: str | None = None

    @property
    def is_error(self) -> bool:
        return self.level == ERROR

    def as_rejection(self) -> dict[str, Any]:
        """The ``rejected`` entry of indicators-YYYY-MM.json."""
        return {"file": self.file, "sheet": self.sheet, "row": self.row, "column": self.column,
                "reason": self.message}

    def as_warning(self) -> dict[str, Any]:
        """The ``warnings`` entry of indicators-YYYY-MM.json."""
        out = {"source": self.source, "uscc": self.uscc, "message": self.message}
        for k in ("table", "period", "rule", "file"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out

    def log_line(self) -> str:
        where = ", ".join(f"{k}={v}" for k, v in (("file", self.file), ("sheet", self.sheet),
                          ("row", self.row), ("column", self.column), ("uscc", self.uscc)) if v is not None)
        return f"[{self.level}] {self.source}/{self.table or '-'} {self.rule}: {self.message_en or self.message} ({where})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

