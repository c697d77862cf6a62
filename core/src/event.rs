//! The vocabulary of driving-safety manoeuvres shared by detection, ground
//! truth and reports. JSON/CSV names are stable: other tools read them.

use core::fmt;

/// A manoeuvre kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// Longitudinal deceleration beyond the threshold.
    HarshBraking,
    /// Longitudinal acceleration beyond the threshold.
    HarshAcceleration,
    /// Lateral (centripetal) acceleration beyond the threshold in a turn.
    HarshCornering,
    /// A swerve: lateral swing and back without a lasting heading change.
    HarshLaneChange,
    /// A collision: several g, a velocity change, then standstill.
    Crash,
    /// Speed above the road's threshold for long enough.
    Speeding,
}

impl EventKind {
    /// Every kind, in a stable order.
    pub const ALL: [EventKind; 6] = [
        EventKind::HarshBraking,
        EventKind::HarshAcceleration,
        EventKind::HarshCornering,
        EventKind::HarshLaneChange,
        EventKind::Crash,
        EventKind::Speeding,
    ];

    /// The stable name, e.g. `harsh_braking`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::HarshBraking => "harsh_braking",
            EventKind::HarshAcceleration => "harsh_acceleration",
            EventKind::HarshCornering => "harsh_cornering",
            EventKind::HarshLaneChange => "harsh_lane_change",
            EventKind::Crash => "crash",
            EventKind::Speeding => "speeding",
        }
    }

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the kind has a left/right direction.
    pub fn has_direction(self) -> bool {
        matches!(self, EventKind::HarshCornering | EventKind::HarshLaneChange)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Side of a lateral manoeuvre, in the vehicle's frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Towards +y.
    Left,
    /// Towards -y.
    Right,
}

impl Direction {
    /// `left` or `right`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Left => "left",
            Direction::Right => "right",
        }
    }

    /// Parses `left` or `right`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "left" => Some(Direction::Left),
            "right" => Some(Direction::Right),
            _ => None,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EventKind::parse("harsh-braking"), None);
        assert_eq!(Direction::parse("left"), Some(Direction::Left));
        assert_eq!(Direction::parse("Left"), None);
    }
}
