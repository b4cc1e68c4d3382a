//! Module version in RedisAI's scheme: MAJOR*10000 + MINOR*100 + PATCH.

/// The version string (`ai_RedisAI_version`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The integer version Redis shows in `MODULE LIST` and `INFO MODULES`.
pub const MODULE_VERSION: i32 = parse(env!("CARGO_PKG_VERSION_MAJOR")) * 10000
    + parse(env!("CARGO_PKG_VERSION_MINOR")) * 100
    + parse(env!("CARGO_PKG_VERSION_PATCH"));

const fn parse(digits: &str) -> i32 {
    let bytes = digits.as_bytes();
    let mut value = 0;
    let mut i = 0;
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as i32;
        i += 1;
    }
    value
}

/// Version of the low-level C API RedisAI exported (`ai_low_level_API_version`).
pub const LLAPI_VERSION: i64 = 1;

/// The oldest server the module loads on (major, minor): Redis 7.0 (Valkey reports its Redis
/// compatibility version, 7.2.4 for Valkey 8). Redis 6.2 lacks module APIs the module relies on
/// (scripts' `redis.execute` fails there), so it is refused rather than half supported.
pub const MIN_SERVER_VERSION: (i32, i32) = (7, 0);

/// Whether a server whose `RedisModule_GetServerVersion` is `encoded` (`0x00MMmmpp`; `None` for a
/// server older than 6.0.9, which lacks the call) is supported; the refusal is the one log line
/// the module writes before it declines to load.
pub fn check_server_version(encoded: Option<i32>) -> Result<(), String> {
    let (major, minor) = MIN_SERVER_VERSION;
    let found = match encoded {
        Some(v) => {
            let (a, b, c) = ((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
            if (a, b) >= (major, minor) {
                return Ok(());
            }
            format!("{a}.{b}.{c}")
        }
        None => "older than 6.0.9".to_string(),
    };
    Err(format!(
        "Redis {major}.{minor} or later is required (this server is {found}): the module is not loaded"
    ))
}

#[cfg(test)]
mod tests {
    use super::check_server_version;

    #[test]
    fn servers_below_7_0_are_refused() {
        assert_eq!(check_server_version(Some(0x07_00_0f)), Ok(()));
        assert_eq!(check_server_version(Some(0x08_02_03)), Ok(()));
        assert_eq!(
            check_server_version(Some(0x06_02_0e)),
            Err(
                "Redis 7.0 or later is required (this server is 6.2.14): the module is not loaded"
                    .into()
            )
        );
        assert!(check_server_version(None)
            .unwrap_err()
            .contains("older than 6.0.9"));
    }

    #[test]
    fn scheme() {
        let parts: Vec<i32> = super::VERSION
            .split('.')
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(
            super::MODULE_VERSION,
            parts[0] * 10000 + parts[1] * 100 + parts[2]
        );
    }
}
