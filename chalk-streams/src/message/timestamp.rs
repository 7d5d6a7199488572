//! [`Timestamp`]: milliseconds since the Unix epoch, as Kafka's, and their RFC 3339 text.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time with millisecond precision, as Kafka timestamps are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    millis: i64,
}

impl Timestamp {
    /// The timestamp `millis` milliseconds after the Unix epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Self { millis }
    }

    /// Now, by the system clock.
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    /// The timestamp of a [`SystemTime`] (saturating at the `i64` range).
    pub fn from_system_time(time: SystemTime) -> Self {
        let millis = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            // Rounded down, as after the epoch: 1.5 ms before it is -2, not -1.
            Err(before) => {
                let before = before.duration();
                let partial = u128::from(before.subsec_nanos() % 1_000_000 != 0);
                i64::try_from(before.as_millis() + partial).map_or(i64::MIN, |m| -m)
            }
        };
        Self { millis }
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.millis
    }

    /// The same instant as a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        if self.millis >= 0 {
            UNIX_EPOCH + Duration::from_millis(self.millis.unsigned_abs())
        } else {
            UNIX_EPOCH - Duration::from_millis(self.millis.unsigned_abs())
        }
    }

    /// How long before `now` this timestamp lies; zero when it lies in the future.
    pub fn age_at(self, now: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(now.millis.saturating_sub(self.millis)).unwrap_or(0))
    }
}

const MILLIS_PER_DAY: i64 = 86_400_000;

impl Timestamp {
    /// Parses RFC 3339 (`2026-11-27T14:13:51.123Z`, any fraction, `Z` or a `±HH:MM` offset),
    /// including instants before 1970.
    pub fn parse_rfc3339(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not an RFC 3339 timestamp");
        let (date, time) = text.split_once(['T', 't', ' ']).ok_or_else(bad)?;
        let (sign, date) = match date.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, date.strip_prefix('+').unwrap_or(date)),
        };
        let mut ymd = date.splitn(3, '-');
        let (year, month, day) = (
            sign * digits(ymd.next(), 4..=usize::MAX).ok_or_else(bad)?,
            digits(ymd.next(), 2..=2).ok_or_else(bad)?,
            digits(ymd.next(), 2..=2).ok_or_else(bad)?,
        );
        let (clock, offset_minutes) = match time.find(['Z', 'z', '+', '-']) {
            Some(at) => {
                let (clock, zone) = time.split_at(at);
                let offset = match zone {
                    "Z" | "z" => 0,
                    _ => {
                        let (hours, minutes) = zone[1..].split_once(':').ok_or_else(bad)?;
                        let (hours, minutes) = (
                            digits(Some(hours), 2..=2).ok_or_else(bad)?,
                            digits(Some(minutes), 2..=2).ok_or_else(bad)?,
                        );
                        if !(0..24).contains(&hours) || !(0..60).contains(&minutes) {
                            return Err(bad());
                        }
                        let minutes = hours * 60 + minutes;
                        if zone.starts_with('-') {
                            -minutes
                        } else {
                            minutes
                        }
                    }
                };
                (clock, offset)
            }
            None => return Err(bad()),
        };
        let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
        let mut parts = hms.splitn(3, ':');
        let (hour, minute, second) = (
            digits(parts.next(), 2..=2).ok_or_else(bad)?,
            digits(parts.next(), 2..=2).ok_or_else(bad)?,
            digits(parts.next(), 2..=2).ok_or_else(bad)?,
        );
        let valid = (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day)
            && hour < 24
            && minute < 60
            && second < 61
            && fraction.bytes().all(|b| b.is_ascii_digit());
        if !valid {
            return Err(bad());
        }
        let millis_fraction: i64 = format!("{fraction:0<3}")[..3].parse().map_err(|_| bad())?;
        // In 128 bits: a year far from ours must give an error, not an overflow.
        let days = days_from_civil(i128::from(year), i128::from(month), i128::from(day));
        let millis = days * i128::from(MILLIS_PER_DAY)
            + i128::from(((hour * 60 + minute - offset_minutes) * 60 + second) * 1000)
            + i128::from(millis_fraction);
        i64::try_from(millis)
            .map(Self::from_millis)
            .map_err(|_| bad())
    }
}

/// The number written in `part`, if it is only ASCII digits, as many as `width` allows.
fn digits(part: Option<&str>, width: std::ops::RangeInclusive<usize>) -> Option<i64> {
    let part = part?;
    let all_digits = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    (all_digits && width.contains(&part.len()))
        .then(|| part.parse().ok())
        .flatten()
}

/// How many days `month` (1 to 12) has in the proleptic Gregorian `year`.
fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i128, month: i128, day: i128) -> i128 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date of a day counted from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with milliseconds, e.g. `2026-11-27T14:13:51.000Z`; any instant, also
    /// before 1970.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = civil_from_days(self.millis.div_euclid(MILLIS_PER_DAY));
        let in_day = self.millis.rem_euclid(MILLIS_PER_DAY);
        let (hour, minute) = (in_day / 3_600_000, in_day / 60_000 % 60);
        let (second, milli) = (in_day / 1000 % 60, in_day % 1000);
        if (0..=9999).contains(&year) {
            write!(f, "{year:04}")?;
        } else {
            write!(f, "{year:+05}")?;
        }
        write!(
            f,
            "-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn instants_beyond_the_range_are_errors_not_overflows() {
        for text in [
            "99999999999999-01-01T00:00:00Z",
            "-292275056-01-01T00:00:00Z",
            "2026-11-27T15:13:51+999999999999999999:00",
            "2026-11-27T15:13:51+24:00",
        ] {
            assert!(Timestamp::parse_rfc3339(text).is_err(), "{text}");
        }
    }

    #[test]
    fn system_times_round_down_on_both_sides_of_the_epoch() {
        use std::time::{Duration, UNIX_EPOCH};
        let micros = |us: u64| Duration::from_micros(us);
        assert_eq!(
            Timestamp::from_system_time(UNIX_EPOCH + micros(1_500)).as_millis(),
            1
        );
        assert_eq!(
            Timestamp::from_system_time(UNIX_EPOCH - micros(1_500)).as_millis(),
            -2
        );
        assert_eq!(
            Timestamp::from_system_time(UNIX_EPOCH - micros(2_000)).as_millis(),
            -2
        );
    }

    #[test]
    fn rfc3339_round_trips_any_instant() {
        for millis in [
            0,
            1,
            -1,
            1_700_000_000_123,
            -86_400_000,
            -62_135_596_800_000, // 0001-01-01
            951_782_400_000,     // 2000-02-29
            253_402_300_799_999, // 9999-12-31T23:59:59.999
            i64::MIN,            // what a `SystemTime` far before 1970 saturates to
            i64::MAX,
        ] {
            let t = Timestamp::from_millis(millis);
            let text = t.to_string();
            assert_eq!(Timestamp::parse_rfc3339(&text), Ok(t), "{text}");
        }
        assert_eq!(
            Timestamp::from_millis(0).to_string(),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp::from_millis(-1).to_string(),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(
            Timestamp::from_millis(951_782_400_000).to_string(),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn parses_offsets_and_fractions() {
        let t = Timestamp::parse_rfc3339("2026-11-27T15:13:51.5+01:00").expect("valid");
        assert_eq!(t.to_string(), "2026-11-27T14:13:51.500Z");
        assert!(Timestamp::parse_rfc3339("2026-13-01T00:00:00Z").is_err());
        assert!(Timestamp::parse_rfc3339("yesterday").is_err());
    }

    #[test]
    fn refuses_dates_that_do_not_exist_and_fields_of_other_widths() {
        for impossible in [
            "2026-02-29T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-1-1T1:1:1Z",
            "2026-01-01T00:00:00+1:00",
            "2026-01-01T+1:00:00Z",
            "26-01-01T00:00:00Z",
        ] {
            assert!(
                Timestamp::parse_rfc3339(impossible).is_err(),
                "{impossible}"
            );
        }
        for leap_day in ["2024-02-29T00:00:00Z", "2000-02-29T00:00:00Z"] {
            let t = Timestamp::parse_rfc3339(leap_day).expect(leap_day);
            assert_eq!(t.to_string(), leap_day.replace("00Z", "00.000Z"));
        }
        assert!(
            Timestamp::parse_rfc3339("2026-11-27T00:00:00").is_err(),
            "no zone"
        );
    }
}
