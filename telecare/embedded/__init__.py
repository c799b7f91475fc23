"""Embedded servers: a private PostgreSQL cluster and Mosquitto broker under the data folder."""

from telecare.embedded.errors import EmbeddedError
from telecare.embedded.mosquitto import EmbeddedMosquitto
from telecare.embedded.postgres import EmbeddedPostgres

__all__ = ["EmbeddedError", "EmbeddedMosquitto", "EmbeddedPostgres"]
