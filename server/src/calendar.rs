//! Days and ISO weeks in a fleet's local time, without a date library: the
//! server needs four conversions, all on whole days.
//!
//! A *day number* counts days since 1970-01-01 in the fleet's local time
//! (`(unix_ms + utc_offset_min * 60_000).div_euclid(86_400_000)`). Weeks are ISO 8601
//! weeks (Monday first; week 1 holds the year's first Thursday).

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The local day number of a Unix time.
pub fn day_of(unix_ms: i64, utc_offset_min: i32) -> i64 {
    (unix_ms + i64::from(utc_offset_min) * 60_000).div_euclid(DAY_MS)
}

/// The Unix time at which local day `day` starts.
pub fn day_start_ms(day: i64, utc_offset_min: i32) -> i64 {
    day * DAY_MS - i64::from(utc_offset_min) * 60_000
}

/// Day number of a civil date (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day number (H. Hinnant's `civil_from_days`).
pub fn civil_from_days(day: i64) -> (i64, u32, u32) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Monday = 0 .. Sunday = 6 (1970-01-01 was a Thursday).
pub fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// The ISO week (`year`, `week`) holding a day.
pub fn iso_week(day: i64) -> (i64, u32) {
    // The week belongs to the year of its Thursday.
    let thursday = day - weekday(day) + 3;
    let (year, _, _) = civil_from_days(thursday);
    let week = (thursday - days_from_civil(year, 1, 1)) / 7 + 1;
    (year, week as u32)
}

/// The Monday of ISO week `week` of `year`, if that week exists.
pub fn iso_week_start(year: i64, week: u32) -> Option<i64> {
    let jan4 = days_from_civil(year, 1, 4);
    let monday = jan4 - weekday(jan4) + 7 * (i64::from(week) - 1);
    (week >= 1 && iso_week(monday) == (year, week)).then_some(monday)
}

/// `YYYY-MM-DD` of a day number.
pub fn format_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-Www` of the ISO week holding a day.
pub fn format_week(day: i64) -> String {
    let (y, w) = iso_week(day);
    format!("{y:04}-W{w:02}")
}

/// Parses `YYYY-MM-DD` (years 2000-2999) into a day number.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i64 = s.get(0..4)?.parse().ok()?;
    let month: u32 = s.get(5..7)?.parse().ok()?;
    let day: u32 = s.get(8..10)?.parse().ok()?;
    if !(2000..3000).contains(&year) || !(1..=12).contains(&month) || day == 0 {
        return None;
    }
    let n = days_from_civil(year, month, day);
    // Rejects 2026-02-30 and the like: the round trip must give the same date.
    (civil_from_days(n) == (year, month, day)).then_some(n)
}

/// Parses `YYYY-Www` into the week's Monday.
pub fn parse_week(s: &str) -> Option<i64> {
    let (y, w) = s.split_once("-W")?;
    if y.len() != 4 || w.len() != 2 {
        return None;
    }
    let year: i64 = y.parse().ok()?;
    if !(2000..3000).contains(&year) {
        return None;
    }
    iso_week_start(year, w.parse().ok()?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(format_date(20_779), "2026-11-22");
        for d in -1000..30_000 {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(weekday(parse_date("2026-11-23").unwrap()), 0); // a Monday
    }

    #[test]
    fn iso_weeks_match_the_standard() {
        // Known cases: years starting Thursday/Friday, week 53, week 1 in December.
        assert_eq!(format_week(parse_date("2026-11-22").unwrap()), "2026-W47");
        assert_eq!(format_week(parse_date("2020-12-31").unwrap()), "2020-W53");
        assert_eq!(format_week(parse_date("2021-01-03").unwrap()), "2020-W53");
        assert_eq!(format_week(parse_date("2021-01-04").unwrap()), "2021-W01");
        assert_eq!(format_week(parse_date("2024-12-30").unwrap()), "2025-W01");
        assert_eq!(format_week(parse_date("2027-01-01").unwrap()), "2026-W53");
        assert_eq!(parse_week("2026-W47"), parse_date("2026-11-16"));
        assert_eq!(parse_week("2020-W53"), parse_date("2020-12-28"));
        assert_eq!(parse_week("2025-W53"), None);
        assert_eq!(parse_week("2026-W00"), None);
        for d in 10_000..25_000 {
            let (y, w) = iso_week(d);
            assert_eq!(iso_week_start(y, w), Some(d - weekday(d)));
        }
    }

    #[test]
    fn bad_dates_are_refused() {
        for s in [
            "2026-02-30",
            "2026-13-01",
            "2026-1-01",
            "1999-01-01",
            "x",
            "2026-W5",
            "2026W05",
        ] {
            assert_eq!(parse_date(s).or(parse_week(s)), None, "{s}");
        }
    }

    #[test]
    fn local_days_follow_the_offset() {
        let t = parse_date("2026-11-22").unwrap() * DAY_MS + 23 * 3_600_000; // 23:00 UTC
        assert_eq!(format_date(day_of(t, 0)), "2026-11-22");
        assert_eq!(format_date(day_of(t, 120)), "2026-11-23");
        assert_eq!(format_date(day_of(t, -60 * 24 + 30)), "2026-11-21");
        assert_eq!(
            day_start_ms(day_of(t, 120), 120),
            (parse_date("2026-11-23").unwrap()) * DAY_MS - 7_200_000
        );
    }
}
