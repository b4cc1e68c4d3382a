//! Number formatting for replies, byte for byte as C's `printf("%.17g")` (how Redis and RedisAI
//! send doubles in RESP2), without going through `printf`: AI.TENSORGET VALUES formats every
//! FLOAT and DOUBLE element this way, and glibc's `printf` was most of its cost.

use std::fmt::Write;

/// A stack buffer for one formatted number (the longest `%.17g` text of a finite double,
/// `-1.2345678901234567e-308`, is 24 bytes).
pub type G17Buffer = [u8; 32];

/// Writes a finite `value` as `printf("%.17g", value)` does into `out` and returns the text;
/// `None` for infinities and NaN, which the caller formats its own way.
///
/// `%.17g`: 17 significant digits, correctly rounded (ties to even, as glibc); exponential form
/// (`d.ddde+XX`, at least two exponent digits) when the decimal exponent is below -4 or 17 and
/// over, fixed otherwise; trailing zeros of the fraction and a trailing point removed.
pub fn format_g17(value: f64, out: &mut G17Buffer) -> Option<&[u8]> {
    if !value.is_finite() {
        return None;
    }
    let negative = value.is_sign_negative();
    let magnitude = value.abs();
    // The 17 significant digits as an integer in [10^16, 10^17), and the decimal exponent.
    let (digits, exponent) = if magnitude == 0.0 {
        (0, 0)
    } else {
        exact_digits(magnitude).or_else(|| fallback_digits(magnitude))?
    };
    let text = seventeen_digits(digits);
    let significant = significant_digits(digits);

    let mut w = Writer { out, len: 0 };
    if negative {
        w.byte(b'-');
    }
    if (-4..17).contains(&exponent) {
        if exponent < 0 {
            // 0.000ddd
            w.bytes(b"0.");
            for _ in 0..(-exponent - 1) {
                w.byte(b'0');
            }
            w.bytes(&text[..significant]);
        } else {
            let int_digits = exponent as usize + 1;
            w.bytes(&text[..int_digits]);
            if significant > int_digits {
                w.byte(b'.');
                w.bytes(&text[int_digits..significant]);
            }
        }
    } else {
        w.byte(text[0]);
        if significant > 1 {
            w.byte(b'.');
            w.bytes(&text[1..significant]);
        }
        w.byte(b'e');
        w.byte(if exponent < 0 { b'-' } else { b'+' });
        let e = exponent.unsigned_abs();
        if e >= 100 {
            w.byte(b'0' + (e / 100) as u8);
        }
        w.byte(b'0' + (e / 10 % 10) as u8);
        w.byte(b'0' + (e % 10) as u8);
    }
    let len = w.len;
    Some(&out[..len])
}

/// `00` to `99`.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The 17 decimal digits of `n` (below 10^17), leading zeros included.
fn seventeen_digits(mut n: u64) -> [u8; 17] {
    let mut text = [b'0'; 17];
    let mut end = 17;
    while end >= 2 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        text[end - 2..end].copy_from_slice(&PAIRS[pair..pair + 2]);
        end -= 2;
    }
    text[0] = b'0' + n as u8;
    text
}

/// Digits of the 17 of `n` left once trailing zeros are dropped (at least one).
fn significant_digits(n: u64) -> usize {
    if n % 10_000_000_000_000_000 == 0 {
        return 1; // d * 10^16 (or 0)
    }
    // At most 15 trailing zeros now: 8 + 4 + 2 + 1.
    let (mut n, mut zeros) = (n, 0);
    for (power, count) in [(100_000_000, 8), (10_000, 4), (100, 2), (10, 1)] {
        if n % power == 0 {
            n /= power;
            zeros += count;
        }
    }
    17 - zeros
}

/// 10^16: the smallest 17-digit number.
const TEN_16: u128 = 10_000_000_000_000_000;

/// Powers of ten that fit in a `u128`.
const POW10: [u128; 39] = {
    let mut table = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// `x` (finite, > 0) as `mantissa * 2^exp`.
fn decompose(x: f64) -> (u64, i32) {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, biased - 1075)
    }
}

/// `mantissa * 2^exp * 10^k` split into its integer part and how the dropped fraction compares
/// with one half; `None` when the exact product does not fit the 128-bit arithmetic used here.
fn scaled(mantissa: u64, exp: i32, k: i32) -> Option<(u128, std::cmp::Ordering)> {
    use std::cmp::Ordering::Less;
    let m = u128::from(mantissa);
    if k >= 0 {
        // m < 2^53 and 10^22 < 2^74: the product fits.
        let num = m * *POW10.get(k as usize).filter(|_| k <= 22)?;
        if exp >= 0 {
            let shift = exp as u32;
            return (shift < num.leading_zeros()).then(|| (num << shift, Less));
        }
        let shift = exp.unsigned_abs();
        if shift >= 128 {
            return None;
        }
        let rest = num & ((1u128 << shift) - 1);
        Some((num >> shift, rest.cmp(&(1u128 << (shift - 1)))))
    } else {
        let divisor = *POW10.get(k.unsigned_abs() as usize)?;
        let shift = u32::try_from(exp).ok()?;
        if shift >= m.leading_zeros() {
            return None;
        }
        let num = m << shift;
        Some((num / divisor, (2 * (num % divisor)).cmp(&divisor)))
    }
}

/// The 17 significant digits of `x` (finite, > 0) rounded as printf does (to nearest, ties to
/// even), with exact integer arithmetic; `None` outside the range it covers (about 1e-6 to
/// 3e38, which holds what tensors usually contain).
fn exact_digits(x: f64) -> Option<(u64, i32)> {
    let (mantissa, exp) = decompose(x);
    // floor(log10(2^e2)) with e2 = floor(log2(x)): the decimal exponent or one less; the loop
    // below corrects it with exact arithmetic.
    let e2 = 63 - mantissa.leading_zeros() as i32 + exp;
    let mut exponent = (e2 * 78_913) >> 18;
    for _ in 0..3 {
        let (truncated, rest) = scaled(mantissa, exp, 16 - exponent)?;
        if truncated < TEN_16 {
            exponent -= 1;
            continue;
        }
        if truncated >= TEN_16 * 10 {
            exponent += 1;
            continue;
        }
        let odd = truncated % 2 == 1;
        let up = rest.is_gt() || (rest.is_eq() && odd);
        let rounded = truncated + u128::from(up);
        return Some(if rounded == TEN_16 * 10 {
            (TEN_16 as u64, exponent + 1)
        } else {
            (rounded as u64, exponent)
        });
    }
    None
}

/// The same digits through Rust's exact formatting (`{:.16e}`: correctly rounded, ties to even,
/// but slow for values whose digits end in zeros), for values [`exact_digits`] does not cover.
fn fallback_digits(x: f64) -> Option<(u64, i32)> {
    let mut exp_form = Cursor {
        buf: [0; 32],
        len: 0,
    };
    write!(exp_form, "{x:.16e}").ok()?;
    let text = &exp_form.buf[..exp_form.len];
    let e_at = text.iter().position(|&c| c == b'e')?;
    let mut digits: u64 = 0;
    for &c in text[..e_at].iter().filter(|c| c.is_ascii_digit()) {
        digits = digits * 10 + u64::from(c - b'0');
    }
    Some((digits, parse_exponent(&text[e_at + 1..])?))
}

fn parse_exponent(text: &[u8]) -> Option<i32> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mut magnitude: i32 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude * 10 + i32::from(c - b'0');
    }
    Some(if negative { -magnitude } else { magnitude })
}

/// `fmt::Write` into a fixed buffer (the `{:.16e}` text always fits).
struct Cursor {
    buf: [u8; 32],
    len: usize,
}

impl Write for Cursor {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(std::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

struct Writer<'a> {
    out: &'a mut G17Buffer,
    len: usize,
}

impl Writer<'_> {
    fn byte(&mut self, b: u8) {
        self.out[self.len] = b;
        self.len += 1;
    }

    fn bytes(&mut self, b: &[u8]) {
        self.out[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g17(v: f64) -> String {
        let mut buf = [0; 32];
        String::from_utf8(format_g17(v, &mut buf).expect("finite").to_vec()).unwrap()
    }

    /// Expected texts from glibc's printf("%.17g").
    #[test]
    fn matches_printf() {
        let table: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-2.0, "-2"),
            (0.5, "0.5"),
            (0.1, "0.10000000000000001"),
            (0.1f32 as f64, "0.10000000149011612"),
            (1.5, "1.5"),
            (100.0, "100"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (1.2345e17, "1.2345e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (1e-5, "1.0000000000000001e-05"),
            (1e100, "1e+100"),
            (1e-300, "1e-300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "4.9406564584124654e-324"),
            (-4.721_523_761_749_268, "-4.7215237617492676"),
            (7.375_296_592_712_402, "7.3752965927124023"),
            (16777216.0, "16777216"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (0.000123, "0.00012300000000000001"),
            // Ties at the 17th digit round to even: 10000000000000.0625 and .1875 exactly.
            (1e13 + 0.0625, "10000000000000.062"),
            (1e13 + 0.1875, "10000000000000.188"),
        ];
        for &(v, expected) in table {
            assert_eq!(g17(v), expected, "{v:e}");
        }
        let mut buf = [0; 32];
        assert_eq!(format_g17(f64::INFINITY, &mut buf), None);
        assert_eq!(format_g17(f64::NAN, &mut buf), None);
    }
}
