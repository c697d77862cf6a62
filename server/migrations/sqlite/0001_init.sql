-- Fleets, drivers, devices (credentials stored as SHA-256 hashes only),
-- trips and events (idempotent by event id).
CREATE TABLE fleets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    admin_token_hash TEXT NOT NULL,
    created_unix_ms INTEGER NOT NULL
);
CREATE TABLE drivers (
    id INTEGER PRIMARY KEY,
    fleet_id INTEGER NOT NULL REFERENCES fleets(id),
    name TEXT NOT NULL,
    created_unix_ms INTEGER NOT NULL
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    driver_id INTEGER NOT NULL REFERENCES drivers(id),
    secret_hash TEXT NOT NULL,
    created_unix_ms INTEGER NOT NULL
);
CREATE TABLE trips (
    id TEXT PRIMARY KEY,
    driver_id INTEGER NOT NULL REFERENCES drivers(id),
    start_unix_ms INTEGER NOT NULL,
    end_unix_ms INTEGER NOT NULL,
    distance_m REAL NOT NULL,
    vehicle TEXT NOT NULL,
    events INTEGER NOT NULL
);
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    driver_id INTEGER NOT NULL REFERENCES drivers(id),
    trip_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    start_unix_ms INTEGER NOT NULL,
    end_unix_ms INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX events_by_driver_time ON events (driver_id, start_unix_ms);
CREATE INDEX trips_by_driver_time ON trips (driver_id, start_unix_ms);
