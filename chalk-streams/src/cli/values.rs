//! Values typed on the command line (or in its variables): durations, addresses, stores.

use crate::store::StoreConfig;

/// A `--timeout`: a duration librdkafka can wait, at most `i32::MAX` milliseconds (24 days and
/// a bit), which its clients take as a 32-bit count; a longer one would wrap to a negative wait
/// and time out at once.
pub(super) fn parse_timeout(text: &str) -> std::result::Result<std::time::Duration, String> {
    let timeout = parse_duration(text)?;
    let longest = std::time::Duration::from_millis(i32::MAX.unsigned_abs().into());
    if timeout > longest {
        return Err(format!(
            "`{text}` is longer than the Kafka client can wait, {}",
            humantime::format_duration(std::time::Duration::from_secs(longest.as_secs()))
        ));
    }
    Ok(timeout)
}

/// A duration typed on the command line: `10s`, `500ms`, `1m30s`; not zero, which would give
/// up before any answer could come.
pub(super) fn parse_duration(text: &str) -> std::result::Result<std::time::Duration, String> {
    // The grammar of sources' deadlines, so that `1M` is not a month here and an error there.
    let advice = "write numbers with units (w, d, h, m, s, ms), such as 10s, 500ms or 1h30m";
    match crate::duration::parse_duration(text.trim()) {
        Ok(duration) if duration.is_zero() => Err(format!("`{text}` is zero: {advice}")),
        Ok(duration) => Ok(duration),
        Err(crate::duration::DurationError::Overflow) => Err(format!("`{text}` is too long")),
        Err(_) => Err(format!("`{text}` is not a duration: {advice}")),
    }
}

/// A store URL; blank, as an empty `CHALK_STORE` is, the default store (an empty variable
/// counts as unset, as `KAFKA_*` ones do).
pub(super) fn parse_store(
    text: &str,
) -> std::result::Result<StoreConfig, crate::store::StoreConfigError> {
    if text.trim().is_empty() {
        return Ok(StoreConfig::default());
    }
    text.parse()
}

/// A window retention; blank, as an empty `CHALK_WINDOW_RETENTION` is, the default one.
pub(super) fn parse_window_retention(
    text: &str,
) -> std::result::Result<std::time::Duration, String> {
    if text.trim().is_empty() {
        return Ok(crate::runtime::DEFAULT_WINDOW_RETENTION);
    }
    parse_duration(text)
}

/// `HOST:PORT`, the host a name or an address; of the addresses it resolves to, the first IPv4
/// one if any: `localhost` often resolves to `::1` first, where probes of `127.0.0.1` would not
/// reach, and which a host without IPv6 cannot bind.
pub(super) fn parse_socket_addr(text: &str) -> std::result::Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let addresses = text
        .to_socket_addrs()
        .map_err(|error| format!("`{text}` is not HOST:PORT: {error}"))?;
    first_ipv4_else_first(addresses).ok_or_else(|| format!("`{text}` resolves to no address"))
}

/// The first IPv4 address of `addresses`, else the first.
pub(super) fn first_ipv4_else_first(
    addresses: impl IntoIterator<Item = std::net::SocketAddr>,
) -> Option<std::net::SocketAddr> {
    let addresses: Vec<std::net::SocketAddr> = addresses.into_iter().collect();
    addresses
        .iter()
        .find(|address| address.is_ipv4())
        .or(addresses.first())
        .copied()
}
