"""SQL tables (the system of record); importing this package registers every table."""

from hypervision.models.alert import Alert, AlertHistory
from hypervision.models.cap_message import CapMessage
from hypervision.models.device import Device
from hypervision.models.logbook import LogbookEntry, LogbookHead
from hypervision.models.silence import Silence
from hypervision.models.task import Task, TaskHistory
from hypervision.models.user import AuthToken, User

__all__ = [
    "Alert",
    "AlertHistory",
    "AuthToken",
    "CapMessage",
    "Device",
    "LogbookEntry",
    "LogbookHead",
    "Silence",
    "Task",
    "TaskHistory",
    "User",
]
