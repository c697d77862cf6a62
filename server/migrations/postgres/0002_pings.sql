-- GPS pings for crowd speed profiles, coarsened on arrival (docs/crowd-profiles.md).
CREATE TABLE pings (
    pseudonym TEXT NOT NULL,
    t_unix_s BIGINT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    speed_mps DOUBLE PRECISION NOT NULL,
    accuracy_m DOUBLE PRECISION NOT NULL,
    bearing_deg DOUBLE PRECISION
);
CREATE INDEX pings_by_time ON pings (t_unix_s);
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
