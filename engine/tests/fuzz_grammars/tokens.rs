//! Tokens and their mutations: keywords in mixed case, numbers, key names, bytes.

#![allow(unused_imports)]
use super::*;

pub(crate) type Argv = Vec<Vec<u8>>;

pub(crate) fn refs(argv: &Argv) -> Vec<&[u8]> {
    argv.iter().map(Vec::as_slice).collect()
}

pub(crate) fn bytes(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// `word` with the case of its letters flipped where `mask` has a bit set.
pub(crate) fn mixed_case(word: &[u8], mask: u64) -> Vec<u8> {
    word.iter()
        .enumerate()
        .map(|(i, &b)| {
            if mask >> (i % 64) & 1 == 1 && b.is_ascii_alphabetic() {
                b ^ 0x20
            } else {
                b
            }
        })
        .collect()
}

pub(crate) fn case_mask() -> impl Strategy<Value = u64> {
    prop_oneof![4 => Just(0u64), 1 => Just(u64::MAX), 2 => any::<u64>()]
}

/// A keyword of `words`, in mixed case.
pub(crate) fn keyword(words: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    (select(words), case_mask()).prop_map(|(w, mask)| mixed_case(w.as_bytes(), mask))
}

pub(crate) const NUMBERS: &[&str] = &[
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "4294967296",
    "99999999999999999999999",
    "1.5",
    "2.0",
    "2.",
    ".5",
    "1e3",
    "1e400",
    "-0",
    "-0.0",
    "inf",
    "-inf",
    "nan",
    "0x10",
    "0X1p3",
    "0x",
    " 1",
    "1 ",
    "1 2",
    "01",
    "007",
    "+1",
    "-",
    "",
];

/// Numbers: small valid ones (the counts and sizes of the grammars), negative ones and the
/// edge cases of `NUMBERS`.
pub(crate) fn number() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => (0i64..6).prop_map(|n| n.to_string().into_bytes()),
        2 => (-5i64..0).prop_map(|n| n.to_string().into_bytes()),
        1 => (6i64..2000).prop_map(|n| n.to_string().into_bytes()),
        3 => select(NUMBERS).prop_map(bytes),
    ]
}

pub(crate) const KEY_NAMES: &[&str] = &[
    "a", "b", "ia", "ib", "x", "y", "out", "m", "m2", "m12", "m0", "plain", "nokey", "{1}", "k",
];

pub(crate) fn key_name() -> impl Strategy<Value = Vec<u8>> {
    select(KEY_NAMES).prop_map(bytes)
}

/// A token of a grammar with keywords `words`.
pub(crate) fn token(words: &'static [&'static str]) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        5 => keyword(words),
        4 => number(),
        1 => Just(b"|>".to_vec()),
        3 => key_name(),
        1 => vec(any::<u8>(), 0..8),
        1 => vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(0u8), Just(0xff), Just(b'a')], 0..4),
    ]
    .boxed()
}

/// Uniformly random commands: `cmd` (in mixed case) most of the time, then tokens; 0 to 30 in
/// all.
pub(crate) fn soup(cmd: &'static str, words: &'static [&'static str]) -> BoxedStrategy<Argv> {
    (
        prop_oneof![
            8 => (Just(cmd), case_mask()).prop_map(|(c, m)| Some(mixed_case(c.as_bytes(), m))),
            1 => Just(None),
        ],
        vec(token(words), 0..30),
    )
        .prop_map(|(cmd, rest)| cmd.into_iter().chain(rest).take(30).collect())
        .boxed()
}

/// One edit of a command.
#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    Replace(Index, Vec<u8>),
    Insert(Index, Vec<u8>),
    Delete(Index),
    Duplicate(Index),
    Swap(Index, Index),
    Truncate(Index),
    Recase(Index, u64),
}

pub(crate) fn mutation(words: &'static [&'static str]) -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), token(words)).prop_map(|(i, t)| Mutation::Replace(i, t)),
        2 => (any::<Index>(), token(words)).prop_map(|(i, t)| Mutation::Insert(i, t)),
        2 => any::<Index>().prop_map(Mutation::Delete),
        1 => any::<Index>().prop_map(Mutation::Duplicate),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), any::<u64>()).prop_map(|(i, m)| Mutation::Recase(i, m)),
    ]
}

/// One to three mutations.
pub(crate) fn mutations(words: &'static [&'static str]) -> impl Strategy<Value = Vec<Mutation>> {
    vec(mutation(words), 1..4)
}

pub(crate) fn mutate(argv: &mut Argv, mutations: &[Mutation]) {
    for m in mutations {
        let n = argv.len();
        match m {
            Mutation::Insert(i, t) => argv.insert(i.index(n + 1), t.clone()),
            _ if n == 0 => {}
            Mutation::Replace(i, t) => argv[i.index(n)] = t.clone(),
            Mutation::Delete(i) => {
                argv.remove(i.index(n));
            }
            Mutation::Duplicate(i) => {
                let at = i.index(n);
                argv.insert(at, argv[at].clone());
            }
            Mutation::Swap(a, b) => argv.swap(a.index(n), b.index(n)),
            Mutation::Truncate(i) => argv.truncate(i.index(n)),
            Mutation::Recase(i, mask) => {
                let at = i.index(n);
                argv[at] = mixed_case(&argv[at], *mask);
            }
        }
    }
}

/// Near-valid commands of a grammar (`template`), as they are or mutated, or random ones.
pub(crate) fn commands(
    cmd: &'static str,
    words: &'static [&'static str],
    template: BoxedStrategy<Argv>,
) -> BoxedStrategy<Argv> {
    prop_oneof![
        1 => soup(cmd, words),
        1 => template.clone(),
        2 => (template, mutations(words)).prop_map(|(mut argv, mutations)| {
            mutate(&mut argv, &mutations);
            argv
        }),
    ]
    .boxed()
}

/// Joins template parts.
pub(crate) fn join(parts: Vec<Argv>) -> Argv {
    parts.into_iter().flatten().collect()
}

pub(crate) fn toks(words: &[&str]) -> Argv {
    words.iter().map(|w| bytes(w)).collect()
}
