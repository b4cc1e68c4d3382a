//! RDB layouts of scripts: encoding version 4 as RedisAI writes it, the older versions 0 to 3
//! built by hand, and broken streams.

use super::*;
use Item::*;

fn script() -> ScriptRecord {
    ScriptRecord {
        device: "GPU:1".into(),
        tag: b"t\x001".to_vec(),
        source: b"def bar(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0]\n".to_vec(),
        entry_points: vec![b"bar".to_vec(), b"baz".to_vec()],
    }
}

/// A buffer holding `s` and a NUL (RedisAI's `SaveStringBuffer(s, strlen(s) + 1)`).
fn c(s: &[u8]) -> Item {
    let mut v = s.to_vec();
    v.push(0);
    Buffer(v)
}

fn encode(script: &ScriptRecord) -> Recording {
    let mut rec = Recording::default();
    save_script(&mut rec, script);
    rec
}

#[test]
fn v4_layout_matches_redisai() {
    let s = script();
    let mut rec = encode(&s);
    let expected = vec![
        c(b"GPU:1"),
        Buffer(b"t\x001".to_vec()),
        c(&s.source),
        Unsigned(2),
        c(b"bar"),
        c(b"baz"),
    ];
    assert_eq!(Vec::from(rec.items.clone()), expected);
    assert_eq!(load_script(&mut rec, 4).unwrap(), s);
    assert!(rec.items.is_empty());
}

#[test]
fn v3_and_v4_round_trip() {
    let empty = ScriptRecord::default();
    let no_entry_points = ScriptRecord {
        entry_points: Vec::new(),
        ..script()
    };
    let empty_names = ScriptRecord {
        entry_points: vec![Vec::new(), b"f".to_vec()],
        ..script()
    };
    for s in [script(), empty, no_entry_points, empty_names] {
        for encver in [3, 4] {
            let mut rec = encode(&s);
            assert_eq!(load_script(&mut rec, encver).unwrap(), s, "v{encver}");
            assert!(rec.items.is_empty());
        }
    }
}

/// The layouts of encoding versions 0 to 2, built by hand (SPEC §10.2).
fn old_layout(s: &ScriptRecord, encver: i32) -> Recording {
    let tag = match encver {
        0 => c(&s.tag),
        _ => Buffer(s.tag.clone()),
    };
    Recording {
        items: vec![c(s.device.as_bytes()), tag, c(&s.source)].into(),
    }
}

#[test]
fn old_versions_load_without_entry_points() {
    let mut s = script();
    s.tag = b"st1".to_vec();
    s.entry_points.clear();
    for encver in 0..=2 {
        let mut rec = old_layout(&s, encver);
        assert_eq!(load_script(&mut rec, encver).unwrap(), s, "v{encver}");
        assert!(rec.items.is_empty(), "v{encver}: values left over");
    }
    // A v3/v4 stream read as v1/v2 leaves the entry points unread.
    let mut rec = encode(&script());
    let loaded = load_script(&mut rec, 2).unwrap();
    assert!(loaded.entry_points.is_empty());
    assert_eq!(rec.items.len(), 3);
}

#[test]
fn c_strings_are_cut_at_their_first_nul() {
    // RedisAI reads the device, the v0 tag, the source and the names as C strings.
    let mut rec = Recording {
        items: vec![
            Buffer(b"CPU\0junk".to_vec()),
            Buffer(b"t\0ag".to_vec()),
            Buffer(b"def f(a):\n    return a\n\0\0tail".to_vec()),
            Unsigned(1),
            Buffer(b"f\0g\0".to_vec()),
        ]
        .into(),
    };
    let s = load_script(&mut rec, 4).unwrap();
    assert_eq!(s.device, "CPU");
    assert_eq!(s.tag, b"t\0ag", "v1+ tags are binary-safe strings");
    assert_eq!(s.source, b"def f(a):\n    return a\n");
    assert_eq!(s.entry_points, vec![b"f".to_vec()]);
    // Buffers without a NUL are taken whole; the v0 tag is cut.
    let mut rec = Recording {
        items: vec![
            Buffer(b"CPU".to_vec()),
            Buffer(b"t\0ag".to_vec()),
            Buffer(b"src".to_vec()),
        ]
        .into(),
    };
    let s = load_script(&mut rec, 0).unwrap();
    assert_eq!(
        (s.device.as_str(), &s.tag[..], &s.source[..]),
        ("CPU", &b"t"[..], &b"src"[..])
    );
}

#[test]
fn bad_script_streams_are_errors() {
    let full = encode(&script());
    for encver in 0..=4 {
        let needed = if encver >= 3 { full.items.len() } else { 3 };
        for cut in 0..needed {
            let mut rec = Recording {
                items: full.items.iter().take(cut).cloned().collect(),
            };
            assert!(
                load_script(&mut rec, encver).is_err(),
                "v{encver} cut at {cut}"
            );
        }
    }
    for encver in [-1, 5, i32::MAX] {
        assert!(load_script(&mut full.clone(), encver).is_err());
    }
    // An integer where a string is expected, and the other way round.
    let mut wrong_kind = full.clone();
    wrong_kind.items[0] = Unsigned(1);
    assert!(load_script(&mut wrong_kind, 4).is_err());
    let mut wrong_kind = full.clone();
    wrong_kind.items[3] = Buffer(b"2".to_vec());
    assert!(load_script(&mut wrong_kind, 4).is_err());
    // A count larger than the names present.
    let mut long = full.clone();
    long.items[3] = Unsigned(u64::MAX);
    assert!(load_script(&mut long, 4).is_err());
    // Non-UTF-8 devices are kept lossily, never a panic.
    let mut odd = full.clone();
    odd.items[0] = Buffer(b"\xff\xfe\0".to_vec());
    assert_eq!(load_script(&mut odd, 4).unwrap().device, "\u{fffd}\u{fffd}");
}
