//! AI.TENSORGET VALUES formats FLOAT and DOUBLE elements itself instead of through printf: the
//! text must be exactly C's `printf("%.17g")`, which Redis (and RedisAI) used. Compared with the
//! C library's snprintf on random doubles, widened floats and tie cases. Needs no server.

use std::ffi::{c_char, CStr};

use rand::{Rng, SeedableRng};
use redisai_core::numfmt::format_g17;

fn printf_g17(value: f64) -> String {
    let mut buf = [0 as c_char; 64];
    // SAFETY: the buffer is 64 bytes, snprintf writes at most that many (NUL included), and the
    // format takes one double.
    let n = unsafe { libc::snprintf(buf.as_mut_ptr(), buf.len(), c"%.17g".as_ptr(), value) };
    assert!(n > 0 && (n as usize) < buf.len());
    // SAFETY: snprintf NUL-terminated the buffer.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .expect("ASCII")
        .to_string()
}

fn ours(value: f64) -> String {
    let mut buf = [0; 32];
    let text = format_g17(value, &mut buf).expect("finite");
    String::from_utf8(text.to_vec()).expect("ASCII")
}

fn check(value: f64) {
    if value.is_finite() {
        assert_eq!(
            ours(value),
            printf_g17(value),
            "{value:e} ({:#x})",
            value.to_bits()
        );
    }
}

#[test]
fn random_doubles_match_printf() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    for _ in 0..200_000 {
        check(f64::from_bits(rng.random()));
    }
}

#[test]
fn random_floats_match_printf() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xf10a7);
    for _ in 0..200_000 {
        check(f32::from_bits(rng.random()).into());
    }
}

#[test]
fn decimal_like_values_match_printf() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..100_000 {
        let mantissa: i64 = rng.random_range(-1_000_000_000..1_000_000_000);
        let scale = 10f64.powi(rng.random_range(-20..20));
        check(mantissa as f64 * scale);
        check((mantissa as f64 * scale) as f32 as f64);
    }
    for e in -330..=308 {
        check(10f64.powi(e));
        check(2f64.powi(e));
    }
    for v in [
        0.0,
        -0.0,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        5e-324,
        1e17,
        1e16,
    ] {
        check(v);
        check(v.next_up());
        check(v.next_down());
    }
}

/// Values whose exact decimal expansion ends exactly halfway after the 17th digit: m / 2^k with
/// odd m, where printf rounds ties to even.
#[test]
fn ties_match_printf() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    for k in 1..=12 {
        let digits_of_five_pow = (k as f64 * 5f64.log10()).ceil() as i32;
        for _ in 0..20_000 {
            // About 17 + 1 significant digits in total, so the 18th one is the final 5.
            let int_digits = 18 - digits_of_five_pow;
            if int_digits <= 0 {
                break;
            }
            let low = 10f64.powi(int_digits - 1);
            let m = (rng.random_range(low..low * 10.0) as u64) | 1;
            let v = m as f64 / 2f64.powi(k);
            check(v);
            check(-v);
        }
    }
}
