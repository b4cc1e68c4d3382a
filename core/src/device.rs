//! Devices as named in AI.MODELSTORE / AI.SCRIPTSTORE (`CPU`, `GPU`, `CPU:<n>`, `GPU:<n>`).
//!
//! The string is kept exactly as the client gave it: MODELGET, AI.INFO and RDB echo it. Run queues
//! are named by its upper-cased form, so `cpu:1` and `CPU:1` share a queue.

use crate::error::{Error, Result};

/// A device string, as stored with a model or script.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Device {
    text: String,
}

/// Longest device string AI.MODELSTORE accepts is 9 bytes (`CPU:` + 5 digits).
const MAX_STRICT_LEN: usize = 9;
/// Longest device string AI.MODELSET accepts.
const MAX_LOOSE_LEN: usize = 10;
/// Keywords AI.MODELSET refuses as a device.
const MODELSET_KEYWORDS: [&[u8]; 7] = [
    b"INPUTS",
    b"OUTPUTS",
    b"TAG",
    b"BATCHSIZE",
    b"MINBATCHSIZE",
    b"MINBATCHTIMEOUT",
    b"BLOB",
];

impl Device {
    /// Validates a device as AI.MODELSTORE does (SPEC §3.3), case-insensitively: `CPU`, `GPU`,
    /// or `CPU:`/`GPU:` followed by digits only (none at all is accepted, as RedisAI does), the
    /// whole string shorter than 10 bytes. Otherwise `ERR Invalid DEVICE`.
    pub fn parse(s: &[u8]) -> Result<Device> {
        let valid = if s.eq_ignore_ascii_case(b"CPU") || s.eq_ignore_ascii_case(b"GPU") {
            true
        } else {
            s.len() <= MAX_STRICT_LEN
                && (has_prefix(s, b"CPU:") || has_prefix(s, b"GPU:"))
                && s[4..].iter().all(u8::is_ascii_digit)
        };
        if !valid {
            return Err(Error::InvalidDevice);
        }
        Ok(Device::new(String::from_utf8_lossy(s).into_owned()))
    }

    /// Validates a device as the deprecated AI.MODELSET does (SPEC §3.4 row 3): only a string
    /// longer than 10 bytes or equal (case-insensitively) to one of the command's keywords is
    /// refused with `ERR Invalid DEVICE`; anything else is kept as given.
    pub fn parse_loose(s: &[u8]) -> Result<Device> {
        check_modelset_device(s)?;
        Ok(Device::new(String::from_utf8_lossy(s).into_owned()))
    }

    /// A device string taken as is (from RDB, where it was validated when first stored).
    pub fn new(text: impl Into<String>) -> Device {
        Device { text: text.into() }
    }

    /// The string as given (what MODELGET and AI.INFO reply).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The name of the device's run queue: the string upper-cased (`cpu:1` -> `CPU:1`).
    pub fn queue_name(&self) -> String {
        self.text.to_ascii_uppercase()
    }

    /// True for `GPU` and `GPU:<n>` (any case).
    pub fn is_gpu(&self) -> bool {
        has_prefix(self.text.as_bytes(), b"GPU")
    }

    /// True for `CPU` and `CPU:<n>` (any case).
    pub fn is_cpu(&self) -> bool {
        has_prefix(self.text.as_bytes(), b"CPU")
    }

    /// The GPU ordinal: 0 for `GPU`, `n` for `GPU:n`; `None` for a CPU device, for `GPU:` without
    /// digits and for an ordinal that does not fit in a `u32`.
    pub fn gpu_index(&self) -> Option<u32> {
        let bytes = self.text.as_bytes();
        if bytes.eq_ignore_ascii_case(b"GPU") {
            return Some(0);
        }
        if !has_prefix(bytes, b"GPU:") {
            return None;
        }
        let digits = &self.text[4..];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// AI.MODELSET's device rule (SPEC §3.4 row 3): refuse a device longer than 10 bytes or equal
/// to one of `INPUTS`, `OUTPUTS`, `TAG`, `BATCHSIZE`, `MINBATCHSIZE`, `MINBATCHTIMEOUT`, `BLOB`.
pub fn check_modelset_device(s: &[u8]) -> Result<()> {
    if s.len() > MAX_LOOSE_LEN || MODELSET_KEYWORDS.iter().any(|k| s.eq_ignore_ascii_case(k)) {
        return Err(Error::InvalidDevice);
    }
    Ok(())
}

fn has_prefix(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_device_table() {
        let accepted: &[&str] = &[
            "CPU",
            "cpu",
            "GPU",
            "gPu",
            "CPU:0",
            "cpu:1",
            "GPU:12345",
            "CPU:",
            "GPU:",
            "CPU:00001",
        ];
        for s in accepted {
            let d = Device::parse(s.as_bytes()).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(d.as_str(), *s);
        }
        let refused: &[&[u8]] = &[
            b"TPU",
            b"",
            b"CPU0",
            b"CPUX",
            b"CPU:x",
            b"GPU:1a",
            b"GPU:-1",
            b"GPU:123456",
            b"CPU:123456",
            b"CPU:1 ",
            b" CPU",
            b"CPU:\xff",
            b"CPUS",
        ];
        for s in refused {
            assert_eq!(Device::parse(s), Err(Error::InvalidDevice), "{s:?}");
        }
    }

    #[test]
    fn loose_device_table() {
        for ok in [&b"CPU"[..], b"TPU", b"whatever", b"0123456789", b"gpu:1"] {
            assert_eq!(Device::parse_loose(ok).unwrap().as_str().as_bytes(), ok);
        }
        for bad in [
            &b"01234567890"[..],
            b"INPUTS",
            b"outputs",
            b"Tag",
            b"BATCHSIZE",
            b"minbatchsize",
            b"MINBATCHTIMEOUT",
            b"blob",
        ] {
            assert_eq!(
                Device::parse_loose(bad),
                Err(Error::InvalidDevice),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn queue_names_and_gpu_indices() {
        let table: &[(&str, &str, bool, Option<u32>)] = &[
            ("CPU", "CPU", false, None),
            ("cpu:1", "CPU:1", false, None),
            ("gpu", "GPU", true, Some(0)),
            ("GPU:0", "GPU:0", true, Some(0)),
            ("gpu:3", "GPU:3", true, Some(3)),
            ("GPU:99999", "GPU:99999", true, Some(99999)),
            ("GPU:", "GPU:", true, None),
        ];
        for &(s, queue, gpu, index) in table {
            let d = Device::parse(s.as_bytes()).unwrap();
            assert_eq!(d.queue_name(), queue, "{s}");
            assert_eq!(d.is_gpu(), gpu, "{s}");
            assert_eq!(d.is_cpu(), !gpu, "{s}");
            assert_eq!(d.gpu_index(), index, "{s}");
            assert_eq!(d.to_string(), s);
        }
        assert_eq!(Device::new("GPU:99999999999").gpu_index(), None);
    }
}
