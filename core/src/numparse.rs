//! Strict number parsing with Redis's rules (`string2ll` and `string2d` of Redis 7.0), which is how
//! RedisAI reads dims, VALUES and numeric options.

/// Parses a strict signed 64-bit integer: optional `-`, no `+`, no leading zeros (except `0`),
/// no spaces, no decimal point, must fit in `i64`.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut value: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative {
        // -(2^63) is the one magnitude that does not fit in a positive i64.
        0i64.checked_sub_unsigned(value)
    } else {
        i64::try_from(value).ok()
    }
}

/// Parses a double like `strtod` with Redis's extra rules: the whole string is consumed, no
/// leading whitespace, NaN rejected, overflow to ±inf and underflow to 0 rejected. `inf`,
/// `infinity`, exponents and hexadecimal floats are accepted.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if let Some(value) = parse_plain_decimal(s) {
        return Some(value);
    }
    if !s.is_ascii() {
        return None; // strtod accepts no other characters (and byte slicing below stays valid)
    }
    let text = std::str::from_utf8(s).ok()?;
    let first = *s.first()?;
    if matches!(first, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        return None;
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let value = if unsigned.len() > 2 && unsigned[..2].eq_ignore_ascii_case("0x") {
        let magnitude = parse_hex_float(&unsigned[2..])?;
        if text.starts_with('-') {
            -magnitude
        } else {
            magnitude
        }
    } else {
        text.parse::<f64>().ok()?
    };
    if value.is_nan() {
        return None;
    }
    let literal_inf =
        unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity");
    if value.is_infinite() && !literal_inf {
        return None; // ERANGE overflow
    }
    if value == 0.0 && has_nonzero_mantissa(unsigned) {
        return None; // ERANGE underflow to zero
    }
    Some(value)
}

/// Powers of ten that are exact doubles.
const EXACT_POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// The common case of VALUES, `[-]digits[.digits]` with at most 15 digits, parsed exactly
/// without the general parser: the digits form an integer below 2^53 and the divisor is an exact
/// power of ten, so one IEEE division is correctly rounded (Clinger's fast path), as `strtod`.
/// `None` for anything else, which [`parse_f64`] handles in full.
fn parse_plain_decimal(s: &[u8]) -> Option<f64> {
    let (negative, body) = match s.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, s),
    };
    if body.is_empty() || body.len() > 16 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut point: Option<usize> = None;
    for (i, &c) in body.iter().enumerate() {
        match c {
            b'0'..=b'9' => mantissa = mantissa * 10 + u64::from(c - b'0'),
            b'.' if point.is_none() => point = Some(i),
            _ => return None,
        }
    }
    let fraction_digits = match point {
        // Digits on both sides of the point ("1." and ".5" take the general path).
        Some(at) if at == 0 || at + 1 == body.len() => return None,
        Some(at) => body.len() - at - 1,
        None => 0,
    };
    if body.len() - usize::from(point.is_some()) > 15 {
        return None;
    }
    let magnitude = mantissa as f64 / EXACT_POW10[fraction_digits];
    Some(if negative { -magnitude } else { magnitude })
}

/// Parses a count as RedisAI's ArgsCursor does for BATCHSIZE, MINBATCHSIZE, MINBATCHTIMEOUT and
/// the MODELSTORE input/output counts (SPEC §1.2): a strict integer ([`parse_i64`]) or, failing
/// that, a double ([`parse_f64`]) with an integral value such as `2.0` or `1e3`; the result must
/// be >= 0.
pub fn parse_count(s: &[u8]) -> Option<u64> {
    /// 2^63: the first double past `i64::MAX` (`(long long)d` would not round-trip).
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    let value = match parse_i64(s) {
        Some(v) => v,
        None => {
            let d = parse_f64(s)?;
            // (double)(long long)d == d in C: integral and within the i64 range.
            if d.fract() != 0.0 || !(-TWO_POW_63..TWO_POW_63).contains(&d) {
                return None;
            }
            d as i64
        }
    };
    u64::try_from(value).ok()
}

fn has_nonzero_mantissa(unsigned: &str) -> bool {
    let (mantissa, hex) = match unsigned.get(..2) {
        Some(p) if p.eq_ignore_ascii_case("0x") => (&unsigned[2..], true),
        _ => (unsigned, false),
    };
    let end = if hex { ['p', 'P'] } else { ['e', 'E'] };
    mantissa
        .split(end)
        .next()
        .is_some_and(|m| m.bytes().any(|c| c.is_ascii_hexdigit() && c != b'0'))
}

/// Parses the part of a C hexadecimal float after `0x`: hex digits, an optional fraction and an
/// optional binary exponent (`p[+-]digits`). Exact for mantissas of up to 60 significant bits.
fn parse_hex_float(body: &str) -> Option<f64> {
    let (mantissa, exponent) = match body.find(['p', 'P']) {
        Some(i) => (&body[..i], parse_exponent(&body[i + 1..])?),
        None => (body, 0i64),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut bits: u64 = 0;
    let mut scale: i64 = 0;
    for (i, c) in int_part.chars().chain(frac_part.chars()).enumerate() {
        let digit = u64::from(c.to_digit(16)?);
        let fractional = i >= int_part.len();
        if bits >> 56 == 0 {
            bits = bits << 4 | digit;
            if fractional {
                scale -= 4;
            }
        } else if !fractional {
            scale += 4; // precision exhausted: later integer digits only scale
        }
    }
    // Split the power of two so that neither factor over- or underflows on its own.
    let exp = exponent.checked_add(scale)?.clamp(-5000, 5000) as i32;
    let half = exp / 2;
    Some(bits as f64 * 2f64.powi(half) * 2f64.powi(exp - half))
}

fn parse_exponent(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let magnitude: i64 = digits.parse().unwrap_or(i64::MAX / 2).min(100_000);
    Some(if s.starts_with('-') {
        -magnitude
    } else {
        magnitude
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn integers_follow_string2ll() {
        let ok: &[(&str, i64)] = &[
            ("0", 0),
            ("1", 1),
            ("-1", -1),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ];
        for (s, v) in ok {
            assert_eq!(parse_i64(s.as_bytes()), Some(*v), "{s}");
        }
        for bad in [
            "",
            "-",
            "+1",
            "01",
            "-0",
            "00",
            " 1",
            "1 ",
            "1.0",
            "2.5",
            "1e3",
            "abc",
            "9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999",
        ] {
            assert_eq!(parse_i64(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn counts_follow_args_cursor() {
        let table: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("2", Some(2)),
            ("2.0", Some(2)),
            ("2.", Some(2)),
            ("1e3", Some(1000)),
            ("0x10", Some(16)),
            ("-0", Some(0)),
            ("-0.0", Some(0)),
            ("9223372036854775807", Some(i64::MAX as u64)),
            ("9223372036854775808", None),
            ("9.3e18", None),
            ("-1", None),
            ("-1.0", None),
            ("2.5", None),
            ("inf", None),
            ("nan", None),
            ("x", None),
            ("", None),
            (" 2", None),
            ("+2", Some(2)),
            ("02", Some(2)),
        ];
        for &(s, expected) in table {
            assert_eq!(parse_count(s.as_bytes()), expected, "{s:?}");
        }
    }

    #[test]
    fn doubles_follow_string2d() {
        let ok: &[(&str, f64)] = &[
            ("1.5", 1.5),
            ("-2", -2.0),
            ("+3", 3.0),
            ("1e300", 1e300),
            ("inf", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            (".5", 0.5),
            ("5.", 5.0),
            ("0", 0.0),
            ("-0.0", -0.0),
            ("0e10", 0.0),
            ("1e-310", 1e-310),
            ("0x10", 16.0),
            ("0x1.8p1", 3.0),
            ("-0X1P-2", -0.25),
        ];
        for (s, v) in ok {
            assert_eq!(parse_f64(s.as_bytes()), Some(*v), "{s}");
        }
        for bad in [
            "",
            " 1",
            "1 ",
            "nan",
            "NaN",
            "-nan",
            "1e309",
            "1e400",
            "-1e400",
            "1e-400",
            "abc",
            "1e",
            "e1",
            "0x",
            "0xg",
            "1,5",
            "\t1",
            "0x1p99999",
        ] {
            assert_eq!(parse_f64(bad.as_bytes()), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn every_i64_round_trips(v: i64) {
            prop_assert_eq!(parse_i64(v.to_string().as_bytes()), Some(v));
        }

        #[test]
        fn every_finite_f64_round_trips(v in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
            let parsed = parse_f64(format!("{v:e}").as_bytes());
            if v != 0.0 || v.is_sign_positive() {
                prop_assert_eq!(parsed, Some(v));
            } else {
                prop_assert_eq!(parsed.map(f64::to_bits), Some(v.to_bits()));
            }
        }

        #[test]
        fn plain_decimals_match_the_general_parser(
            digits in "[0-9]{1,17}",
            point in any::<proptest::sample::Index>(),
            with_point: bool,
            negative: bool,
        ) {
            let mut text = String::new();
            if negative {
                text.push('-');
            }
            let at = point.index(digits.len() + 1);
            text.push_str(&digits[..at]);
            if with_point {
                text.push('.');
            }
            text.push_str(&digits[at..]);
            let general: Option<f64> = text.parse().ok();
            if let Some(fast) = parse_plain_decimal(text.as_bytes()) {
                prop_assert_eq!(Some(fast.to_bits()), general.map(f64::to_bits), "{}", text);
            }
            prop_assert_eq!(parse_f64(text.as_bytes()).map(f64::to_bits), general.map(f64::to_bits), "{}", text);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..24)) {
            let _ = parse_i64(&bytes);
            let _ = parse_f64(&bytes);
        }
    }
}
