"""Embedded servers: a private PostgreSQL cluster and Mosquitto broker under the data folder."""

from kernel.embedded.errors import EmbeddedError
from kernel.embedded.mosquitto import EmbeddedMosquitto
from kernel.embedded.postgres import EmbeddedPostgres

__all__ = ["EmbeddedError", "EmbeddedMosquitto", "EmbeddedPostgres"]
