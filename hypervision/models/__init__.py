"""SQL tables (the system of record); importing this package registers every table."""

from hypervision.models.alert import Alert, AlertHistory
from hypervision.models.cap_message import CapMessage
from hypervision.models.device import Device
from hypervision.models.user import AuthToken, User

__all__ = ["Alert", "AlertHistory", "CapMessage", "Device", "AuthToken", "User"]
