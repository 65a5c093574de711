"""JSON log lines on stdout, one object per line, each carrying the service name, the request id
and the trace context under OpenTelemetry's standard names (`trace_id`, `span_id`: the current
span's when tracing is on), so a log line and its trace join in any back end."""

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from keel import context


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        trace = context.current()
        record.request_id = record.trace_id = trace.trace_id if trace else None
        record.span_id = trace.span_id if trace else None
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    """Replace the root handlers by one JSON handler; uvicorn's loggers propagate into it."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(request_id)s"
            " %(trace_id)s %(span_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aiokafka"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # aiokafka logs every reconnect attempt at ERROR; a broker outage is reported by /readyz.
    logging.getLogger("aiokafka").setLevel(logging.WARNING if level.upper() != "DEBUG" else "DEBUG")
