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

#[cfg(test)]
mod tests {
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
