//! Bad-input storm: thousands of random, malformed AI.TENSORSET / AI.TENSORGET commands against a
//! real server. Every command is invalid by construction (each category breaks one rule of SPEC
//! §3.1/§3.2 that is checked before anything could succeed), so every reply must be an error line
//! starting with `ERR ` or `WRONGTYPE `, and with the text the category predicts. Afterwards the
//! server must still answer, the tensors of all ten dtypes and the plain string key set up first
//! must be unchanged, DBSIZE must be unchanged (no key created), no panic may have been contained,
//! and the memory peak must show that no oversized tensor was ever allocated.
//!
//! The seed is fixed (override with `BAD_INPUT_SEED=<u64>`) and printed in every failure.

mod common;

use common::{py_bytes_repr, render, Client, Frame, Server};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

const PING_EVERY: usize = 100;
/// Redis's default `proto-max-bulk-len`, the module's bound for a tensor created without data.
const MAX_BULK: u128 = 512 << 20;

const ARITY_SET: &str = "ERR wrong number of arguments for 'AI.TENSORSET' command";
const ARITY_GET: &str = "ERR wrong number of arguments for 'AI.TENSORGET' command";
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const DTYPE: &str = "ERR invalid data type";
const SHAPE: &str = "ERR invalid or negative value found in tensor shape";
const BLOB_ARG: &str =
    "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command";
const COUNT: &str = "ERR wrong number of values was given in 'AI.TENSORSET' command";
const LENGTH: &str = "ERR data length does not match tensor shape and type";
const BOOL: &str = "ERR BOOL tensor elements must be 0 or 1";
const STRINGS: &str = "ERR Number of string elements in data blob does not match tensor length";
const VALUE: &str = "ERR invalid value";
const CSTRING: &str = "ERR C-string value contains null character";
const TOO_LARGE: &str = "ERR tensor size exceeds";
const EMPTY: &str = "ERR tensor key is empty or in a different shard";
const FORMAT: &str = "ERR unsupported data format";
const BOTH: &str = "ERR both BLOB and VALUES specified";

/// Dtype names with element size and the largest value VALUES accepts (SPEC §4.1).
#[rustfmt::skip]
const DTYPES: [(&str, u128, i64); 10] = [
    ("FLOAT", 4, 0), ("DOUBLE", 8, 0), ("INT8", 1, i8::MAX as i64), ("INT16", 2, i16::MAX as i64),
    ("INT32", 4, i32::MAX as i64), ("INT64", 8, i64::MAX), ("UINT8", 1, u8::MAX as i64),
    ("UINT16", 2, u16::MAX as i64), ("BOOL", 1, 1), ("STRING", 1, 0),
];
/// One tensor per dtype, created first and compared at the end.
#[rustfmt::skip]
const KEEP: [&str; 10] = [
    "k:f FLOAT 2 2 VALUES 1.5 -2 3.25 0", "k:d DOUBLE 3 VALUES 0.1 -1e300 inf",
    "k:i8 INT8 2 VALUES 0 127", "k:i16 INT16 1 2 VALUES 7 32767", "k:i32 INT32 2 VALUES 5 3",
    "k:i64 INT64 1 VALUES 9223372036854775807", "k:u8 UINT8 3 VALUES 0 1 255",
    "k:u16 UINT16 2 VALUES 65535 9", "k:b BOOL 2 2 VALUES 1 0 0 1", "k:s STRING 3 VALUES a bc d",
];
#[rustfmt::skip]
const KEYWORDS: [&str; 22] = [
    "META", "BLOB", "VALUES", "FLOAT", "INT8", "STRING", "AI.TENSORSET", "INPUTS", "OUTPUTS",
    "|>", "TIMEOUT", "KEYS", "ARGS", "CPU", "SET", "*1", "$-1", "-1", "0", "1", "2", "nan",
];
/// Never a dtype name (matched case-insensitively, whole argument).
#[rustfmt::skip]
const BAD_DTYPES: [&str; 12] = [
    "FLOAT16", "BFLOAT16", "INT", "UINT32", "INT08", "FLOAT ", " INT8", "STRINGS", "COMPLEX", "",
    "INT8\0", "uint64",
];
/// Never a strict positive int64, nor BLOB/VALUES.
#[rustfmt::skip]
const BAD_DIMS: [&str; 16] = [
    "0", "-1", "-0", "+1", "01", "1.5", "2.0", "1e3", "0x10", " 1", "1 ", "",
    "-9223372036854775808", "9223372036854775808", "18446744073709551617", "abc",
];
/// Never a number for Redis's `getDoubleFromObject`/`string2ll` (whole string, no NaN/ERANGE).
#[rustfmt::skip]
const NUM_JUNK: [&str; 18] = [
    "nan", "NaN", "-nan", "x", "", " 1", "1 ", "1e400", "-1e400", "1e-400", "1.2.3", "--1", "1,5",
    "0x", "infx", "1\0", "\r\n", "\u{661}",
];
/// Never an integer VALUES element (strict int64; negatives rejected for all types, SPEC §4.1).
#[rustfmt::skip]
const INT_JUNK: [&str; 11] = [
    "1.5", "-1", "+1", "01", "1e2", "0x10", "-0", "1.0", "-9223372036854775809",
    "9223372036854775808", "99999999999999999999",
];
/// Never META, BLOB or VALUES.
#[rustfmt::skip]
const BAD_OPTIONS: [&str; 10] =
    ["", "METAS", "BLOBS", "VALUE", "META\0", " META", "JSON", "RAW", "SHAPE", "BLOB VALUES"];
/// Bytes that never occur in a number, a dtype name or a keyword.
#[rustfmt::skip]
const POISON: [u8; 13] = [0, b'\r', b'\n', b'*', b'$', b'#', b'%', b'!', b'/', 0x80, 0xff, b'"', b'\\'];
const OPTIONS: [&str; 3] = ["META", "BLOB", "VALUES"];
const DATA: [&str; 2] = ["BLOB", "VALUES"];

type Args = Vec<Vec<u8>>;
type Range = std::ops::RangeInclusive<usize>;

fn matches_any(arg: &[u8], words: &[&str]) -> bool {
    words.iter().any(|w| arg.eq_ignore_ascii_case(w.as_bytes()))
}

/// Independent oracle of a valid dim: a strict positive int64 (Redis `string2ll`, > 0).
fn is_dim(arg: &[u8]) -> bool {
    let digits = arg.iter().all(u8::is_ascii_digit);
    let fits = std::str::from_utf8(arg).is_ok_and(|s| s.parse::<i64>().is_ok());
    matches!(arg.first(), Some(b'1'..=b'9')) && digits && fits
}

fn is_dtype(arg: &[u8]) -> bool {
    matches_any(arg, &DTYPES.map(|d| d.0))
}

/// Independent oracle of a valid STRING blob: `count` NUL-terminated elements, nothing after.
fn string_blob_ok(blob: &[u8], count: u128) -> bool {
    let nuls = blob.iter().filter(|&&b| b == 0).count() as u128;
    blob.last() == Some(&0) && nuls == count
}

fn dims_args(dims: &[i64]) -> Args {
    dims.iter().map(|d| d.to_string().into_bytes()).collect()
}

fn keep_key(line: &str) -> &str {
    line.split(' ').next().expect("key")
}

struct Gen {
    rng: StdRng,
    fresh: usize,
}

impl Gen {
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        *items.choose(&mut self.rng).expect("non-empty")
    }

    fn coin(&mut self) -> bool {
        self.rng.random_bool(0.5)
    }

    fn int(&mut self, range: Range) -> usize {
        self.rng.random_range(range)
    }

    /// `a` or `b` (both are evaluated).
    fn either<T>(&mut self, a: T, b: T) -> T {
        if self.coin() {
            a
        } else {
            b
        }
    }

    /// Draws from `make` until `ok` holds.
    fn until<T>(&mut self, make: impl Fn(&mut Self) -> T, ok: impl Fn(&T) -> bool) -> T {
        let mut draws = std::iter::repeat_with(|| make(self));
        draws.find(ok).expect("endless")
    }

    /// `word` in a random letter case (commands, keywords and dtypes are case-insensitive).
    fn cased(&mut self, word: &str) -> Vec<u8> {
        let lower = self.rng.random_range(0..3);
        let pick = |g: &mut Self, b: u8| match lower {
            0 => b.to_ascii_lowercase(),
            1 if g.coin() => b.to_ascii_lowercase(),
            _ => b.to_ascii_uppercase(),
        };
        word.bytes().map(|b| pick(self, b)).collect()
    }

    /// Random bytes, biased towards protocol characters, NULs and high bytes.
    fn junk(&mut self, max: usize) -> Vec<u8> {
        let specials = b"\0\r\n $*:-+.0123456789eExX\xff\x80";
        let byte = |g: &mut Self| {
            let (special, any) = (g.pick(specials), g.rng.random());
            g.either(special, any)
        };
        (0..self.int(0..=max)).map(|_| byte(self)).collect()
    }

    /// Raw binary garbage: mostly short, sometimes long, rarely up to 256 KiB.
    fn garbage(&mut self) -> Vec<u8> {
        match self.rng.random_range(0..100) {
            0..=69 => self.junk(16),
            70..=94 => self.junk(512),
            95..=97 => b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\ny\r\n".to_vec(),
            _ => {
                let mut big = vec![0; self.int(4096..=256 << 10)];
                self.rng.fill(&mut big[..]);
                big
            }
        }
    }

    /// Junk with one byte that no number, dtype name or keyword contains.
    fn poisoned(&mut self) -> Vec<u8> {
        let mut junk = self.junk(12);
        let (at, poison) = (self.int(0..=junk.len()), self.pick(&POISON));
        junk.insert(at, poison);
        junk
    }

    /// An entry of `list` or poisoned junk, checked to be rejected by `valid`.
    fn bad(&mut self, list: &[&str], valid: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        let (listed, poisoned) = (self.pick(list).into(), self.poisoned());
        let arg = self.either(listed, poisoned);
        assert!(!valid(&arg), "generator bug: {arg:?} is valid");
        arg
    }

    fn filler(&mut self) -> Vec<u8> {
        match self.rng.random_range(0..3) {
            0 => {
                let word = self.pick(&KEYWORDS);
                self.cased(word)
            }
            1 => self.rng.random_range(-5i64..100).to_string().into_bytes(),
            _ => self.junk(24),
        }
    }

    fn fillers(&mut self, n: Range) -> Args {
        (0..self.int(n)).map(|_| self.filler()).collect()
    }

    fn garbages(&mut self, n: Range) -> Args {
        (0..self.int(n)).map(|_| self.garbage()).collect()
    }

    /// A key that does not exist (binary, with a prefix no setup key has).
    fn fresh_key(&mut self) -> Vec<u8> {
        self.fresh += 1;
        let mut key = format!("\0fresh:{}:", self.fresh).into_bytes();
        key.extend(self.junk(8));
        key
    }

    /// 0..=3 small valid dims and their element count.
    fn small_shape(&mut self) -> (Args, u128) {
        let n = self.int(0..=3);
        let dims: Vec<i64> = (0..n).map(|_| self.rng.random_range(1..=3)).collect();
        (dims_args(&dims), dims.iter().map(|&d| d as u128).product())
    }

    /// 1..=4 valid dims whose element count (saturating) times `size` exceeds `MAX_BULK`.
    fn huge_shape(&mut self, size: u128) -> (Args, u128) {
        let mut dims: Vec<i64> = Vec::new();
        if self.rng.random_bool(0.2) {
            dims.push((MAX_BULK / size + 1) as i64); // one element more than the limit allows
        }
        for _ in 0..self.int(0..=3) {
            dims.push(match self.rng.random_range(0..4) {
                0 => i64::MAX,
                1 => self.pick(&[1 << 31, 1 << 32, (1 << 31) - 1]),
                2 => self.rng.random_range(1 << 20..=i64::MAX),
                _ => self.rng.random_range(1..1000),
            });
        }
        let count = |d: &[i64]| d.iter().fold(1u128, |n, &d| n.saturating_mul(d as u128));
        if count(&dims).saturating_mul(size) <= MAX_BULK {
            dims.push(self.rng.random_range(1 << 30..=i64::MAX));
        }
        (dims_args(&dims), count(&dims))
    }

    /// A VALUES element of `dtype`, valid or one that must be rejected (with its error).
    fn value(&mut self, dtype: &str, max: i64, valid: bool) -> (Vec<u8>, &'static str) {
        let float = dtype == "FLOAT" || dtype == "DOUBLE";
        let value = match (valid, dtype) {
            (true, "STRING") => {
                let mut s: Vec<u8> = self.junk(8).into_iter().filter(|&b| b != 0).collect();
                s.push(b'x');
                s
            }
            (true, _) if float => self.pick(&["0", "1.5", "-2", "1e10", "inf", "-inf"]).into(),
            (true, _) => self.rng.random_range(0..=max).to_string().into_bytes(),
            (false, "STRING") => {
                let bad = self.pick(&[&b""[..], b"a\0b", b"\0\0", b"ab\0\0", b"\0x"]);
                return (bad.to_vec(), CSTRING);
            }
            _ => match self.rng.random_range(0..4) {
                0 => self.pick(&NUM_JUNK).into(),
                1 => self.poisoned(),
                _ if float => self.pick(&NUM_JUNK).into(),
                2 => self.pick(&INT_JUNK).into(),
                _ => (max as i128 + 1).to_string().into_bytes(),
            },
        };
        (value, VALUE)
    }

    /// One malformed command and the error it must get.
    fn malformed(&mut self) -> (Args, &'static str) {
        let (set, get) = (self.cased("AI.TENSORSET"), self.cased("AI.TENSORGET"));
        let (name, size, max) = self.pick(&DTYPES);
        let keep = keep_key(self.pick(&KEEP)).as_bytes().to_vec();
        // Any key but `plain`: a setup tensor (must stay unchanged) or a fresh key.
        let key = (keep.clone(), self.fresh_key());
        let key = self.either(key.0, key.1);
        let (small, n_small) = self.small_shape();
        let huge = self.huge_shape(size);
        let (dims, count) = self.either((small.clone(), n_small), huge);
        let mut args = vec![set.clone(), key, self.cased(name)];
        let expect = match self.rng.random_range(0..16) {
            0 => {
                args = [vec![set], self.fillers(0..=2)].concat();
                ARITY_SET
            }
            1 => {
                args = [vec![set, b"plain".to_vec()], self.fillers(2..=6)].concat();
                WRONGTYPE
            }
            2 => {
                args[2] = self.bad(&BAD_DTYPES, is_dtype);
                args.extend(self.fillers(1..=5));
                DTYPE
            }
            3 => {
                args.extend(small.into_iter().take(2));
                args.push(self.bad(&BAD_DIMS, |d| is_dim(d) || matches_any(d, &DATA)));
                args.extend(self.fillers(0..=4));
                SHAPE
            }
            4 => {
                args.extend(self.huge_shape(size).0);
                TOO_LARGE
            }
            5 => {
                let n = self.pick(&[0, 2, 3, 4]);
                args.extend([dims, vec![self.cased("BLOB")], self.fillers(n..=n)].concat());
                BLOB_ARG
            }
            6 if name != "STRING" => {
                let want = count.saturating_mul(size);
                let top = want.min(64) as usize + 8;
                let len = self.until(|g| g.int(0..=top), |&len| len as u128 != want);
                let blob: Vec<u8> = (0..len).map(|_| self.rng.random()).collect();
                args.extend([dims, vec![self.cased("BLOB"), blob]].concat());
                LENGTH
            }
            6 | 7 => {
                let blob = self.until(
                    |g| match g.coin() {
                        true => g.junk(24),
                        false => [g.junk(8), vec![0; g.int(1..=n_small as usize + 3)]].concat(),
                    },
                    |blob| !string_blob_ok(blob, n_small),
                );
                args[2] = self.cased("STRING");
                args.extend([small, vec![self.cased("BLOB"), blob]].concat());
                STRINGS
            }
            8 => {
                // A byte > 1 anywhere but last (RedisAI does not check the last byte).
                let n = self.int(2..=16);
                let mut bytes: Vec<u8> = (0..n).map(|_| self.rng.random_range(0..=1)).collect();
                let at = self.int(0..=n - 2);
                bytes[at] = self.rng.random_range(2..=255);
                args[2] = self.cased("BOOL");
                args.extend([n.to_string().into_bytes(), self.cased("BLOB"), bytes]);
                BOOL
            }
            9 => {
                let top = count.min(27) as usize + 3;
                let n = self.until(|g| g.int(0..=top), |&n| n as u128 != count);
                args.extend([dims, vec![self.cased("VALUES")], self.fillers(n..=n)].concat());
                COUNT
            }
            10 => {
                args.extend([small, vec![self.cased("VALUES")]].concat());
                let bad_at = self.int(0..=n_small as usize - 1);
                let mut expect = VALUE;
                for i in 0..n_small as usize {
                    let (value, error) = self.value(name, max, i != bad_at);
                    args.push(value);
                    if i == bad_at {
                        expect = error;
                    }
                }
                expect
            }
            11 => {
                let n = self.either(4..=7, 0..=0);
                args = [vec![get], self.fillers(n)].concat();
                ARITY_GET
            }
            12 | 13 => {
                let missing = (self.fresh_key(), EMPTY);
                let (key, expect) = self.either(missing, (b"plain".to_vec(), WRONGTYPE));
                args = vec![get, key];
                for _ in 0..self.int(0..=2) {
                    let option = self.pick(&OPTIONS);
                    let option = (self.cased(option), self.poisoned());
                    args.push(self.either(option.0, option.1));
                }
                expect
            }
            14 => {
                let junk = self.bad(&BAD_OPTIONS, |o| matches_any(o, &OPTIONS));
                args = vec![get, keep, junk];
                if self.coin() {
                    let option = self.pick(&OPTIONS);
                    let (at, option) = (self.int(2..=3), self.cased(option));
                    args.insert(at, option);
                }
                FORMAT
            }
            _ => {
                let (blob, values) = (self.cased("BLOB"), self.cased("VALUES"));
                let pair = self.either([&blob, &values], [&values, &blob]);
                args = vec![get, keep, pair[0].clone(), pair[1].clone()];
                BOTH
            }
        };
        (args, expect)
    }

    /// Raw binary garbage for a fresh key, invalid by construction, and the error it must get.
    fn garbage_command(&mut self) -> (Args, &'static str) {
        let key = self.fresh_key();
        if self.coin() {
            let args = [vec![self.cased("AI.TENSORGET"), key], self.garbages(0..=5)].concat();
            let expect = if args.len() <= 4 { EMPTY } else { ARITY_GET };
            return (args, expect);
        }
        let (name, size, _) = self.pick(&DTYPES);
        let mut args = vec![self.cased("AI.TENSORSET"), key, self.cased(name)];
        let expect = match self.rng.random_range(0..4) {
            0 => {
                args.truncate(2);
                args.extend(self.garbages(0..=1));
                ARITY_SET
            }
            1 => {
                args[2] = self.until(Self::garbage, |g| !is_dtype(g));
                args.extend(self.garbages(1..=6));
                DTYPE
            }
            2 => {
                let dim = self.until(Self::garbage, |g| !is_dim(g) && !matches_any(g, &DATA));
                args.extend([vec![dim], self.garbages(0..=5)].concat());
                SHAPE
            }
            _ => {
                let (dims, count) = self.small_shape();
                let blob = self.until(Self::garbage, |g| match name {
                    "STRING" => !string_blob_ok(g, count),
                    _ => g.len() as u128 != count * size,
                });
                args.extend([dims, vec![self.cased("BLOB"), blob]].concat());
                [LENGTH, STRINGS][usize::from(name == "STRING")]
            }
        };
        (args, expect)
    }
}

fn show(args: &[Vec<u8>]) -> String {
    let show = |a: &Vec<u8>| match a.len() {
        0..=96 => py_bytes_repr(a),
        n => format!("{}..({n} bytes)", py_bytes_repr(&a[..96])),
    };
    args.iter().map(show).collect::<Vec<_>>().join(" ")
}

/// Everything the storm must leave untouched: all ten tensors, the plain key and DBSIZE.
fn snapshot(c: &mut Client) -> Vec<Frame> {
    let get = |c: &mut Client, k| c.call(&["AI.TENSORGET", k, "META", "BLOB"]);
    let mut state: Vec<Frame> = KEEP.map(keep_key).map(|k| get(c, k)).to_vec();
    state.extend([c.cmd("GET plain"), c.cmd("DBSIZE")]);
    state
}

fn used_memory_peak(c: &mut Client) -> u64 {
    let info = String::from_utf8(common::bulk(&c.cmd("INFO memory"))).expect("utf-8");
    let mut lines = info.lines();
    let peak = lines.find_map(|l| l.strip_prefix("used_memory_peak:"));
    peak.expect("used_memory_peak")
        .trim()
        .parse()
        .expect("a number")
}

/// Sets up the fixture, sends `count` commands from `next`, then checks every invariant.
fn storm(count: usize, next: fn(&mut Gen) -> (Args, &'static str)) {
    let seed = std::env::var("BAD_INPUT_SEED").map(|s| s.parse().expect("a u64 seed"));
    let seed: u64 = seed.unwrap_or(0x5eed_ba41_2024);
    let mut server = Server::start();
    let mut c = server.client();
    for line in KEEP {
        let reply = c.cmd(&format!("AI.TENSORSET {line}"));
        assert_eq!(render(&reply), "+OK", "{line}");
    }
    assert_eq!(render(&c.cmd("SET plain hello")), "+OK");
    let before = snapshot(&mut c);
    let peak_before = used_memory_peak(&mut c);
    let rng = StdRng::seed_from_u64(seed);
    let mut gen = Gen { rng, fresh: 0 };
    for i in 0..count {
        let (args, expect) = next(&mut gen);
        let reply = c.call(&args);
        let shown = show(&args);
        let context = || format!("seed {seed} (BAD_INPUT_SEED), command #{i}: {shown}");
        let Frame::Error(text) = &reply else {
            panic!("{}\nnon-error reply: {}", context(), render(&reply));
        };
        let prefix_ok = text.starts_with("ERR ") || text.starts_with("WRONGTYPE ");
        assert!(
            prefix_ok && !text.contains("internal error") && text.starts_with(expect),
            "{}\nexpected -{expect}\ngot      -{text}",
            context()
        );
        if i % PING_EVERY == PING_EVERY - 1 {
            assert_eq!(render(&c.cmd("PING")), "+PONG", "{}", context());
        }
    }
    assert_eq!(render(&c.cmd("PING")), "+PONG", "seed {seed}");
    assert!(server.alive(), "seed {seed}: server died");
    assert_eq!(snapshot(&mut c), before, "seed {seed}: state changed");
    let peak = used_memory_peak(&mut c);
    let grew = peak.saturating_sub(peak_before);
    assert!(grew < 128 << 20, "seed {seed}: peak memory +{grew}");
    let log = server.log();
    assert!(!log.contains("internal error"), "seed {seed}: {log}");
}

/// `BAD_INPUT_COUNT` commands (the long run: `make fuzz`), else `default`.
fn count(default: usize) -> usize {
    std::env::var("BAD_INPUT_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn malformed_tensor_commands_get_errors() {
    storm(count(5000), Gen::malformed);
}

#[test]
fn binary_garbage_arguments_get_errors() {
    storm(count(3000), Gen::garbage_command);
}
