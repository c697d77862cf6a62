-- GPS pings for crowd speed profiles, coarsened on arrival (docs/crowd-profiles.md):
-- a weekly pseudonym instead of the driver, the minute, ~11 m, 0.1 m/s.
-- Deleted after the retention period (ServerConfig::ping_retention_days).
CREATE TABLE pings (
    pseudonym TEXT NOT NULL,
    t_unix_s INTEGER NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    speed_mps REAL NOT NULL,
    accuracy_m REAL NOT NULL,
    bearing_deg REAL
);
CREATE INDEX pings_by_time ON pings (t_unix_s);
-- Server-side secrets (the pseudonym salt), created on first start.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
