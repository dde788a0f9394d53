"""Log lines for every process: JSON lines (the default) or plain text for a terminal.

Either way a log line cannot be forged: JSON escapes whatever a client sent, and plain
text writes a line break inside a value as \\n. NHS numbers are masked to their last four
digits wherever they appear (a ten-digit run, or 3-3-4 with spaces or hyphens), so a log
file holds no child's NHS number.
"""

from __future__ import annotations

import logging
import logging.config
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter

PROCESS = {"name": "cpis"}  # the command this process runs, on every line (configure_logging)
_NHS_NUMBER = re.compile(r"(?<![\d-])(\d{3})([ -]?)(\d{3})\2(\d{4})(?![\d-])")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def mask_nhs_numbers(text: str) -> str:
    return _NHS_NUMBER.sub(lambda m: "******" + m.group(4), text)


class MaskedJsonFormatter(JsonFormatter):
    """One JSON object a line: time, level, logger, message and every `extra` field."""

    def __init__(self) -> None:
        super().__init__("{asctime}{levelname}{name}{message}", style="{",
                         rename_fields={"asctime": "time", "levelname": "level",
                                        "name": "logger"})

    def format(self, record: logging.LogRecord) -> str:
        return mask_nhs_numbers(super().format(record))

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        log_data.pop("color_message", None)  # uvicorn's copy of the message for a terminal
        log_data.setdefault("process", PROCESS["name"])
        return log_data


class MaskedTextFormatter(logging.Formatter):
    """Plain text, one physical line a record, with `extra` fields appended as key=value."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if extra:
            line += " " + " ".join(f"{k}={v!r}" for k, v in sorted(extra.items()))
        return mask_nhs_numbers(line.replace("\r", "\\r").replace("\n", "\\n"))


_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName",
                                                     "color_message"}


def log_config(log_format: str = "json", level: str = "INFO") -> dict[str, Any]:
    """A logging.config.dictConfig for this process (and for uvicorn's workers)."""
    formatter = MaskedJsonFormatter if log_format == "json" else MaskedTextFormatter
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"cpis": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "cpis",
                                "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {name: {"handlers": [], "propagate": True, "level": level}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def configure_logging(log_format: str = "json", level: str = "INFO",
                      process: str | None = None) -> None:
    """Log lines as configured; each names `process` (the command run), where given."""
    if process is not None:
        PROCESS["name"] = process
    logging.config.dictConfig(log_config(log_format, level))
