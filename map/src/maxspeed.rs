//! OpenStreetMap `maxspeed` values: numbers with or without units, `walk`,
//! `none`, and implicit country/zone codes (`DE:urban`, `FI:zone:30`,
//! `GB:nsl_single`) through the table [`ZONE_LIMITS`].
//!
//! Anything else (`signals`, `variable`, several values such as `50;30`,
//! typos) is [`Maxspeed::Unknown`]: a limit is never guessed.

use safelane_core::LimitSource;

/// km/h per mph.
pub const KMH_PER_MPH: f64 = 1.609_344;
/// km/h per knot.
pub const KMH_PER_KNOT: f64 = 1.852;
/// The speed `walk` stands for (German "Schrittgeschwindigkeit", Dutch
/// "stapvoets"): courts read it as 4-7 km/h; the upper end is taken so that
/// only real speeding shows.
pub const WALK_KMH: f64 = 7.0;

/// A parsed `maxspeed`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Maxspeed {
    /// A legal limit.
    Limit {
        /// The limit, km/h.
        kmh: f64,
        /// Posted (a number) or implicit (a zone code).
        source: LimitSource,
    },
    /// Legally no limit (`none`, e.g. parts of German motorways). Crowd
    /// thresholds may still apply.
    NoLimit,
    /// Not a value this parser understands: treated as no known limit.
    Unknown,
}

/// Implicit limits by country/zone code, km/h (`mph` codes are converted).
/// From the OpenStreetMap wiki's "Default speed limits" and the national
/// traffic codes; `None` means legally no limit.
pub const ZONE_LIMITS: &[(&str, Option<f64>)] = &[
    ("AT:urban", Some(50.0)),
    ("AT:rural", Some(100.0)),
    ("AT:trunk", Some(100.0)),
    ("AT:motorway", Some(130.0)),
    ("BE:urban", Some(50.0)),
    ("BE-VLG:rural", Some(70.0)),
    ("BE-WAL:rural", Some(90.0)),
    ("BE:motorway", Some(120.0)),
    ("CH:urban", Some(50.0)),
    ("CH:rural", Some(80.0)),
    ("CH:trunk", Some(100.0)),
    ("CH:motorway", Some(120.0)),
    ("CZ:urban", Some(50.0)),
    ("CZ:rural", Some(90.0)),
    ("CZ:motorway", Some(130.0)),
    ("DE:urban", Some(50.0)),
    ("DE:rural", Some(100.0)),
    ("DE:living_street", Some(WALK_KMH)),
    ("DE:bicycle_road", Some(30.0)),
    ("DE:motorway", None),
    ("DK:urban", Some(50.0)),
    ("DK:rural", Some(80.0)),
    ("DK:motorway", Some(130.0)),
    ("EE:urban", Some(50.0)),
    ("EE:rural", Some(90.0)),
    ("ES:urban", Some(50.0)),
    ("ES:rural", Some(90.0)),
    ("ES:motorway", Some(120.0)),
    ("FI:urban", Some(50.0)),
    ("FI:rural", Some(80.0)),
    ("FI:motorway", Some(120.0)),
    ("FI:living_street", Some(20.0)),
    ("FR:urban", Some(50.0)),
    ("FR:rural", Some(80.0)),
    ("FR:motorway", Some(130.0)),
    ("GB:nsl_single", Some(60.0 * KMH_PER_MPH)),
    ("GB:nsl_dual", Some(70.0 * KMH_PER_MPH)),
    ("GB:motorway", Some(70.0 * KMH_PER_MPH)),
    ("UK:nsl_single", Some(60.0 * KMH_PER_MPH)),
    ("UK:nsl_dual", Some(70.0 * KMH_PER_MPH)),
    ("UK:motorway", Some(70.0 * KMH_PER_MPH)),
    ("IT:urban", Some(50.0)),
    ("IT:rural", Some(90.0)),
    ("IT:motorway", Some(130.0)),
    ("NL:urban", Some(50.0)),
    ("NL:rural", Some(80.0)),
    ("NL:motorway", Some(100.0)),
    ("NO:urban", Some(50.0)),
    ("NO:rural", Some(80.0)),
    ("NO:motorway", Some(110.0)),
    ("PL:urban", Some(50.0)),
    ("PL:rural", Some(90.0)),
    ("PL:motorway", Some(140.0)),
    ("RU:urban", Some(60.0)),
    ("RU:rural", Some(90.0)),
    ("RU:living_street", Some(20.0)),
    ("RU:motorway", Some(110.0)),
    ("SE:urban", Some(50.0)),
    ("SE:rural", Some(70.0)),
    ("SE:motorway", Some(110.0)),
];

/// Countries whose zone numbers (`GB:zone20`) are in mph.
const MPH_COUNTRIES: &[&str] = &["GB", "UK", "US", "LR", "MM"];

/// Parses a `maxspeed` value.
pub fn parse_maxspeed(value: &str) -> Maxspeed {
    let v = value.trim();
    if v.is_empty() || v.contains(';') || v.contains('|') {
        return Maxspeed::Unknown;
    }
    match v {
        "none" => return Maxspeed::NoLimit,
        "walk" => {
            return Maxspeed::Limit {
                kmh: WALK_KMH,
                source: LimitSource::Posted,
            };
        }
        _ => {}
    }
    if let Some(kmh) = parse_number_with_unit(v) {
        return Maxspeed::Limit {
            kmh,
            source: LimitSource::Posted,
        };
    }
    match zone_limit(v) {
        Some(Some(kmh)) => Maxspeed::Limit {
            kmh,
            source: LimitSource::Zone,
        },
        Some(None) => Maxspeed::NoLimit,
        None => Maxspeed::Unknown,
    }
}

/// Whether a value looks like a zone code (`XX:...`), the form
/// `source:maxspeed` and `maxspeed:type` use to say a numeric limit is implicit.
pub fn is_zone_code(v: &str) -> bool {
    let Some((country, rest)) = v.split_once(':') else {
        return false;
    };
    let cc = country.split('-').next().unwrap_or("");
    cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_uppercase()) && !rest.is_empty()
}

/// A number with an optional unit: `50`, `50 km/h`, `50kmh`, `30 mph`, `10 knots`.
fn parse_number_with_unit(v: &str) -> Option<f64> {
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    if !(n.is_finite() && n > 0.0 && n <= 300.0) {
        return None;
    }
    match unit.trim() {
        "" | "km/h" | "kmh" | "kph" | "kmph" => Some(n),
        "mph" => Some(n * KMH_PER_MPH),
        "knots" => Some(n * KMH_PER_KNOT),
        _ => None,
    }
}

/// `Some(Some(kmh))` for a known zone, `Some(None)` for a no-limit zone,
/// `None` for an unknown code.
fn zone_limit(v: &str) -> Option<Option<f64>> {
    if let Some(&(_, kmh)) = ZONE_LIMITS.iter().find(|(code, _)| *code == v) {
        return Some(kmh);
    }
    // Generic zones: `XX:zone30`, `XX:zone:30`.
    let (country, rest) = v.split_once(':')?;
    let n = rest.strip_prefix("zone")?.trim_start_matches(':');
    let n: f64 = n.parse().ok()?;
    if !(n.is_finite() && n > 0.0 && n <= 300.0) {
        return None;
    }
    let mph = MPH_COUNTRIES.contains(&country);
    Some(Some(if mph { n * KMH_PER_MPH } else { n }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kmh(v: &str) -> Option<(f64, LimitSource)> {
        match parse_maxspeed(v) {
            Maxspeed::Limit { kmh, source } => Some((kmh, source)),
            _ => None,
        }
    }

    #[test]
    fn numbers_in_every_usual_unit() {
        assert_eq!(kmh("50"), Some((50.0, LimitSource::Posted)));
        assert_eq!(kmh(" 80 "), Some((80.0, LimitSource::Posted)));
        assert_eq!(kmh("50 km/h"), Some((50.0, LimitSource::Posted)));
        assert_eq!(kmh("50kmh"), Some((50.0, LimitSource::Posted)));
        let (v, s) = kmh("30 mph").unwrap();
        assert!((v - 48.28).abs() < 0.01 && s == LimitSource::Posted);
        let (v, _) = kmh("10 knots").unwrap();
        assert!((v - 18.52).abs() < 0.01);
        assert_eq!(kmh("walk"), Some((WALK_KMH, LimitSource::Posted)));
    }

    #[test]
    fn zone_codes_come_from_the_table() {
        assert_eq!(kmh("DE:urban"), Some((50.0, LimitSource::Zone)));
        assert_eq!(kmh("FI:rural"), Some((80.0, LimitSource::Zone)));
        assert_eq!(kmh("DE:zone30"), Some((30.0, LimitSource::Zone)));
        assert_eq!(kmh("FI:zone:40"), Some((40.0, LimitSource::Zone)));
        let (v, _) = kmh("GB:zone20").unwrap();
        assert!((v - 32.19).abs() < 0.01);
        let (v, _) = kmh("GB:nsl_single").unwrap();
        assert!((v - 96.56).abs() < 0.01);
        assert_eq!(parse_maxspeed("DE:motorway"), Maxspeed::NoLimit);
        assert_eq!(parse_maxspeed("none"), Maxspeed::NoLimit);
    }

    #[test]
    fn anything_else_is_unknown_never_a_guess() {
        for v in [
            "", "signals", "variable", "50;30", "fast", "XX:urban", "0", "-30", "50 m/s", "1e9",
            "NaN",
        ] {
            assert_eq!(parse_maxspeed(v), Maxspeed::Unknown, "{v:?}");
        }
        assert!(is_zone_code("DE:urban") && is_zone_code("BE-VLG:rural"));
        assert!(!is_zone_code("sign") && !is_zone_code("de:urban") && !is_zone_code("DE:"));
    }
}
