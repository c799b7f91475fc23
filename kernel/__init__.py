"""The shared kernel: settings, database pool, logs, MQTT adapter, embedded servers, migrations, storage.

Every package stands on it; it imports no domain package and nothing above it.
"""
