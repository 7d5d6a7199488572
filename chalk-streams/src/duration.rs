//! Chalk's duration strings (`"30m"`, `"1h30m"`, `"infinity"`) and the late-arrival deadline.
//!
//! The parser is a `const fn` so that a source declared as a `static` with a malformed deadline
//! string fails to compile instead of failing at start-up.

use std::fmt;
use std::time::Duration;

/// How late a message may be, by its Kafka timestamp, and still be processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LateArrivalDeadline {
    /// Every message is processed, however old (Chalk's default, `"infinity"`).
    #[default]
    Infinity,
    /// A message older than this when it is consumed is skipped before decoding (window
    /// streams: a message whose window ended more than this long ago, or more than
    /// `Runtime::window_retention` ago).
    Within(Duration),
}

impl LateArrivalDeadline {
    /// Parses a Chalk duration: `"infinity"` or `"all"`, or one or more `<integer><unit>` parts
    /// with units `w`, `d`, `h`, `m`, `s`, `ms` (e.g. `"30m"`, `"1h30m"`, `"1d"`).
    pub const fn parse(text: &str) -> Result<Self, DurationError> {
        if eq_ignore_case(text, "infinity") || eq_ignore_case(text, "all") {
            return Ok(Self::Infinity);
        }
        match parse_duration(text) {
            Ok(duration) => Ok(Self::Within(duration)),
            Err(e) => Err(e),
        }
    }

    /// Whether a message of the given age is too late to process.
    pub fn is_exceeded_by(self, age: Duration) -> bool {
        match self {
            Self::Infinity => false,
            Self::Within(deadline) => age > deadline,
        }
    }

    /// The deadline as it applies, for people to read: a window stream keeps a window at most
    /// `window_retention` after its end, which caps its deadline.
    pub(crate) fn as_applied(self, windowed: bool, window_retention: Duration) -> String {
        let capped = match self {
            Self::Within(within) => within > window_retention,
            Self::Infinity => true,
        };
        if windowed && capped {
            format!(
                "{self} (capped at {} by the window retention)",
                humantime::format_duration(window_retention)
            )
        } else {
            self.to_string()
        }
    }
}

impl From<Duration> for LateArrivalDeadline {
    fn from(duration: Duration) -> Self {
        Self::Within(duration)
    }
}

impl fmt::Display for LateArrivalDeadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Infinity => f.write_str("infinity"),
            Self::Within(d) => fmt::Display::fmt(&humantime::format_duration(*d), f),
        }
    }
}

impl std::str::FromStr for LateArrivalDeadline {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, DurationError> {
        Self::parse(text.trim())
    }
}

/// Why a duration string did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// The string is empty or blank.
    #[error("the duration is empty; write e.g. \"30m\", \"1h30m\" or \"infinity\"")]
    Empty,
    /// A part has no number before its unit, or a number with no unit.
    #[error("each part of a duration is a number followed by a unit (w, d, h, m, s, ms), e.g. \"1h30m\"")]
    Malformed,
    /// The unit is not one of `w d h m s ms`.
    #[error("unknown unit in duration; use w, d, h, m, s or ms, e.g. \"30m\"")]
    UnknownUnit,
    /// The duration does not fit in 64-bit milliseconds.
    #[error("the duration is too large")]
    Overflow,
}

/// Parses one or more `<integer><unit>` parts into a [`Duration`].
pub const fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let bytes = text.as_bytes();
    let mut total_ms: u64 = 0;
    let mut parts = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Parts may be separated by spaces, as in "1h 30m".
        if bytes[i] == b' ' {
            i += 1;
            continue;
        }
        let mut number: u64 = 0;
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            number = match number.checked_mul(10) {
                Some(n) => match n.checked_add((bytes[i] - b'0') as u64) {
                    Some(n) => n,
                    None => return Err(DurationError::Overflow),
                },
                None => return Err(DurationError::Overflow),
            };
            i += 1;
        }
        if i == start || i == bytes.len() {
            return Err(DurationError::Malformed);
        }
        let unit_ms: u64 = match bytes[i] {
            b'w' => 7 * 24 * 3_600_000,
            b'd' => 24 * 3_600_000,
            b'h' => 3_600_000,
            b'm' if i + 1 < bytes.len() && bytes[i + 1] == b's' => {
                i += 1;
                1
            }
            b'm' => 60_000,
            b's' => 1_000,
            _ => return Err(DurationError::UnknownUnit),
        };
        i += 1;
        parts += 1;
        total_ms = match number.checked_mul(unit_ms) {
            Some(ms) => match total_ms.checked_add(ms) {
                Some(t) => t,
                None => return Err(DurationError::Overflow),
            },
            None => return Err(DurationError::Overflow),
        };
    }
    // Nor are spaces alone a duration: read as zero, a deadline would skip every message.
    if parts == 0 {
        return Err(DurationError::Empty);
    }
    Ok(Duration::from_millis(total_ms))
}

const fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.as_bytes().eq_ignore_ascii_case(b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chalk_strings() {
        let min = |m: u64| LateArrivalDeadline::Within(Duration::from_secs(m * 60));
        assert_eq!(LateArrivalDeadline::parse("30m"), Ok(min(30)));
        assert_eq!(LateArrivalDeadline::parse("1h30m"), Ok(min(90)));
        assert_eq!(LateArrivalDeadline::parse("1h 30m"), Ok(min(90)));
        assert_eq!(LateArrivalDeadline::parse("1d"), Ok(min(24 * 60)));
        assert_eq!(LateArrivalDeadline::parse("1w"), Ok(min(7 * 24 * 60)));
        assert_eq!(
            LateArrivalDeadline::parse("250ms"),
            Ok(LateArrivalDeadline::Within(Duration::from_millis(250)))
        );
        assert_eq!(
            LateArrivalDeadline::parse("infinity"),
            Ok(LateArrivalDeadline::Infinity)
        );
        assert_eq!(
            LateArrivalDeadline::parse("ALL"),
            Ok(LateArrivalDeadline::Infinity)
        );
    }

    #[test]
    fn rejects_malformed_strings() {
        assert_eq!(LateArrivalDeadline::parse(""), Err(DurationError::Empty));
        assert_eq!(LateArrivalDeadline::parse("  "), Err(DurationError::Empty));
        assert_eq!(
            LateArrivalDeadline::parse("30"),
            Err(DurationError::Malformed)
        );
        assert_eq!(
            LateArrivalDeadline::parse("m"),
            Err(DurationError::Malformed)
        );
        assert_eq!(
            LateArrivalDeadline::parse("3y"),
            Err(DurationError::UnknownUnit)
        );
        assert_eq!(
            LateArrivalDeadline::parse("99999999999999999999s"),
            Err(DurationError::Overflow)
        );
    }

    #[test]
    fn deadline_comparison() {
        let d = LateArrivalDeadline::Within(Duration::from_secs(60));
        assert!(!d.is_exceeded_by(Duration::from_secs(60)));
        assert!(d.is_exceeded_by(Duration::from_secs(61)));
        assert!(!LateArrivalDeadline::Infinity.is_exceeded_by(Duration::MAX));
    }

    #[test]
    fn displays_round_trip() {
        assert_eq!(
            LateArrivalDeadline::parse("1h30m").map(|d| d.to_string()),
            Ok("1h 30m".into())
        );
        assert_eq!(LateArrivalDeadline::Infinity.to_string(), "infinity");
    }
}
