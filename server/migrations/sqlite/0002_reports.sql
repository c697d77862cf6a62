-- Day boundaries in the fleet's local time, and the daily roll-ups that
-- reports read (maintained in the same transaction as the events).
ALTER TABLE fleets ADD COLUMN utc_offset_min INTEGER NOT NULL DEFAULT 0;

CREATE TABLE driver_days (
    driver_id INTEGER NOT NULL REFERENCES drivers(id),
    fleet_id INTEGER NOT NULL REFERENCES fleets(id),
    day INTEGER NOT NULL,
    distance_m REAL NOT NULL,
    duration_s REAL NOT NULL,
    trips INTEGER NOT NULL,
    PRIMARY KEY (driver_id, day)
) WITHOUT ROWID;
CREATE INDEX driver_days_by_fleet ON driver_days (fleet_id, day);

CREATE TABLE driver_day_events (
    driver_id INTEGER NOT NULL REFERENCES drivers(id),
    fleet_id INTEGER NOT NULL REFERENCES fleets(id),
    day INTEGER NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (driver_id, day, kind, severity)
) WITHOUT ROWID;
CREATE INDEX driver_day_events_by_fleet ON driver_day_events (fleet_id, day);

CREATE TABLE fleet_days (
    fleet_id INTEGER NOT NULL REFERENCES fleets(id),
    day INTEGER NOT NULL,
    distance_m REAL NOT NULL,
    duration_s REAL NOT NULL,
    trips INTEGER NOT NULL,
    PRIMARY KEY (fleet_id, day)
) WITHOUT ROWID;

CREATE TABLE fleet_day_events (
    fleet_id INTEGER NOT NULL REFERENCES fleets(id),
    day INTEGER NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (fleet_id, day, kind, severity)
) WITHOUT ROWID;

-- Data stored before this migration, on UTC days.
INSERT INTO driver_days
SELECT t.driver_id, d.fleet_id, t.start_unix_ms / 86400000, SUM(t.distance_m),
       SUM(t.end_unix_ms - t.start_unix_ms) / 1000.0, COUNT(*)
FROM trips t JOIN drivers d ON d.id = t.driver_id
GROUP BY t.driver_id, d.fleet_id, t.start_unix_ms / 86400000;
INSERT INTO driver_day_events
SELECT e.driver_id, d.fleet_id, e.start_unix_ms / 86400000, e.kind, e.severity, COUNT(*)
FROM events e JOIN drivers d ON d.id = e.driver_id
GROUP BY e.driver_id, d.fleet_id, e.start_unix_ms / 86400000, e.kind, e.severity;
INSERT INTO fleet_days
SELECT fleet_id, day, SUM(distance_m), SUM(duration_s), SUM(trips)
FROM driver_days GROUP BY fleet_id, day;
INSERT INTO fleet_day_events
SELECT fleet_id, day, kind, severity, SUM(n)
FROM driver_day_events GROUP BY fleet_id, day, kind, severity;
