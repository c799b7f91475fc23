-- Home hubs (device contract 1.1): a hub's link down is one alert for the home, not one per device.
INSERT INTO alert_kinds (kind, default_severity, description) VALUES
    ('hub_offline', 'high', 'the home hub is offline: nothing from the home reaches the service')
ON CONFLICT (kind) DO NOTHING;
