//! Key positions of the commands registered with `getkeys-api` (SPEC §3.20), so Redis Cluster
//! routes them, ACLs check their keys and `COMMAND GETKEYS` answers.
//!
//! Only keys that are certain are reported: the lists of a command are trusted only when the
//! command fits its grammar (checked by the command's own parser, with the counts the command
//! gives; what needs the keyspace, such as a model's input count, cannot be checked here). A
//! malformed command reports its model or script key alone (a DAG: nothing), so a cluster routes
//! it by that key and the command answers its own error, not `CROSSSLOT` over tokens misread as
//! keys (RedisAI reports the model key alone too).

use redisai_core::numparse::parse_i64;

use crate::dag::parse::header_is_well_formed;
use crate::dag::DagCommand;
use crate::model_cmd::{parse_modelexecute, parse_modelrun};
use crate::script_cmd::{parse_scriptexecute, parse_scriptrun};
use crate::text::cmd::{parse_embed, parse_pool, parse_tokenize};

/// A count of the grammar: an integer > 0.
fn count(token: &[u8]) -> Option<usize> {
    parse_i64(token)
        .filter(|&n| n > 0)
        .and_then(|n| usize::try_from(n).ok())
}

/// The model or script key at position 1, when there is one.
fn first_key(argv: &[&[u8]]) -> Vec<usize> {
    if argv.len() > 1 {
        vec![1]
    } else {
        Vec::new()
    }
}

fn is(token: Option<&&[u8]>, keyword: &[u8]) -> bool {
    token.is_some_and(|t| t.eq_ignore_ascii_case(keyword))
}

/// `AI.MODELEXECUTE <key> INPUTS <n> <in>... OUTPUTS <m> <out>... [TIMEOUT <ms>]`: the model
/// key, and the inputs and outputs when the command parses with its own counts.
pub fn modelexecute(argv: &[&[u8]]) -> Vec<usize> {
    let mut keys = first_key(argv);
    let Some(n) = argv.get(3).and_then(|a| count(a)) else {
        return keys;
    };
    let Some(m) = argv.get(n.saturating_add(5)).and_then(|a| count(a)) else {
        return keys;
    };
    if parse_modelexecute(argv, n, m).is_ok() {
        keys.extend(4..4 + n);
        keys.extend(6 + n..6 + n + m);
    }
    keys
}

/// `AI.MODELRUN <key> [TIMEOUT t] INPUTS <in>... OUTPUTS <out>...`: the model key, and the
/// inputs and outputs when both lists are there (split at the first OUTPUTS) and the command
/// parses with those counts.
pub fn modelrun(argv: &[&[u8]]) -> Vec<usize> {
    let mut keys = first_key(argv);
    let start = if is(argv.get(2), b"TIMEOUT") { 4 } else { 2 };
    if !is(argv.get(start), b"INPUTS") {
        return keys;
    }
    let Some(separator) =
        (start + 1..argv.len()).find(|&j| argv[j].eq_ignore_ascii_case(b"OUTPUTS"))
    else {
        return keys;
    };
    let (inputs, outputs) = (start + 1..separator, separator + 1..argv.len());
    if !inputs.is_empty()
        && !outputs.is_empty()
        && parse_modelrun(argv, inputs.len(), outputs.len()).is_ok()
    {
        keys.extend(inputs);
        keys.extend(outputs);
    }
    keys
}

/// `AI.SCRIPTEXECUTE <key> <fn> [KEYS <n> <key>...] [INPUTS <n> <in>...] [ARGS <n> <arg>...]
/// [OUTPUTS <n> <out>...] [TIMEOUT <ms>]`: the script key, and when the command parses, the
/// members of its KEYS, INPUTS and OUTPUTS lists (ARGS are not keys), walked as the parser walks
/// them.
pub fn scriptexecute(argv: &[&[u8]]) -> Vec<usize> {
    let mut keys = first_key(argv);
    if parse_scriptexecute(argv, false).is_err() {
        return keys;
    }
    let mut pos = 3;
    while let Some(&token) = argv.get(pos) {
        let is = |keyword: &[u8]| token.eq_ignore_ascii_case(keyword);
        let (is_keys, is_args) = (is(b"KEYS") || is(b"INPUTS") || is(b"OUTPUTS"), is(b"ARGS"));
        if !(is_keys || is_args) {
            break;
        }
        let Some(n) = argv.get(pos + 1).and_then(|a| parse_i64(a)) else {
            break;
        };
        // The parser reads a negative INPUTS/ARGS/OUTPUTS count as 0.
        let start = pos + 2;
        let end = start
            .saturating_add(usize::try_from(n).unwrap_or(0))
            .min(argv.len());
        if is_keys {
            keys.extend(start..end);
        }
        pos = end;
    }
    keys
}

/// `AI.SCRIPTRUN <key> <fn> [TIMEOUT <ms>] INPUTS <in>... [$ <in>...] OUTPUTS <out>...`: the
/// script key, and when the command parses, every token after INPUTS but the `OUTPUTS` and `$`
/// separators and a `TIMEOUT <ms>`.
pub fn scriptrun(argv: &[&[u8]]) -> Vec<usize> {
    let mut keys = first_key(argv);
    if parse_scriptrun(argv, false).is_err() {
        return keys;
    }
    let mut in_lists = false;
    let mut pos = 3;
    while let Some(&token) = argv.get(pos) {
        if token.eq_ignore_ascii_case(b"TIMEOUT") {
            pos += 2;
            continue;
        }
        if token.eq_ignore_ascii_case(b"INPUTS") || token.eq_ignore_ascii_case(b"OUTPUTS") {
            in_lists = true;
        } else if in_lists && token != b"$" {
            keys.push(pos);
        }
        pos += 1;
    }
    keys
}

/// `AI.DAGEXECUTE[_RO]` / `AI.DAGRUN[_RO]`: when the options and the split into ops are well
/// formed, the LOAD and PERSIST lists, the ROUTING value, and the model or script key of every
/// AI.MODELEXECUTE / AI.SCRIPTEXECUTE / AI.MODELRUN / AI.SCRIPTRUN op (walked as the parser
/// walks them: a list takes its `<n>` tokens, `|>` included; DAG-local tensor names are not
/// keys). A malformed DAG reports no key.
pub fn dag(command: DagCommand, argv: &[&[u8]]) -> Vec<usize> {
    if !header_is_well_formed(command, argv) {
        return Vec::new();
    }
    let is_separator = |a: &[u8]| a == b"|>";
    let mut keys = Vec::new();
    let mut pos = 1;
    while pos < argv.len() && !is_separator(argv[pos]) {
        let token = argv[pos];
        if token.eq_ignore_ascii_case(b"LOAD") || token.eq_ignore_ascii_case(b"PERSIST") {
            let start = pos + 2;
            let n = argv.get(pos + 1).and_then(|a| count(a)).unwrap_or(0);
            let end = start.saturating_add(n).min(argv.len());
            keys.extend(start..end);
            pos = end.max(start);
        } else if token.eq_ignore_ascii_case(b"ROUTING") {
            if pos + 1 < argv.len() {
                keys.push(pos + 1);
            }
            pos += 2;
        } else if token.eq_ignore_ascii_case(b"TIMEOUT") {
            pos += 2;
        } else {
            pos += 1;
        }
    }
    for op in pos..argv.len() {
        if !is_separator(argv[op]) {
            continue;
        }
        let runs = argv.get(op + 1).is_some_and(|name| {
            [
                &b"AI.MODELEXECUTE"[..],
                b"AI.SCRIPTEXECUTE",
                b"AI.MODELRUN",
                b"AI.SCRIPTRUN",
                b"AI.TOKENIZE",
                b"AI.EMBED",
                b"AI.VADD",
                b"AI.VSIM",
                b"AI.HSET",
            ]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n))
        });
        if runs && argv.get(op + 2).is_some_and(|key| !is_separator(key)) {
            keys.push(op + 2);
        }
    }
    keys
}

/// Positions of the `INPUTS <n> ...` and `OUTPUTS <m> ...` lists starting at `pos` (the
/// caller's parser has accepted them).
fn io_positions(argv: &[&[u8]], pos: usize, inputs: bool) -> Vec<usize> {
    let n = argv.get(pos + 1).and_then(|a| count(a)).unwrap_or(0);
    let out = pos + 2 + n;
    let m = argv.get(out + 1).and_then(|a| count(a)).unwrap_or(0);
    let mut keys: Vec<usize> = if inputs {
        (pos + 2..out).collect()
    } else {
        Vec::new()
    };
    keys.extend(out + 2..out + 2 + m);
    keys
}

/// `AI.TOKENIZE <tokenizer> INPUTS 1 <texts> OUTPUTS <m> <out>...`: the tokenizer, and the
/// input and outputs when the command parses.
pub fn tokenize(argv: &[&[u8]]) -> Vec<usize> {
    let mut keys = first_key(argv);
    if parse_tokenize(argv, true).is_ok() {
        keys.extend(io_positions(argv, 2, true));
    }
    keys
}

/// `AI.POOL <MEAN|CLS> [NORMALIZE] INPUTS <n> <in>... OUTPUTS 1 <out>`: the inputs and the
/// output when the command parses (nothing otherwise: its first argument is not a key).
pub fn pool(argv: &[&[u8]]) -> Vec<usize> {
    match parse_pool(argv, true) {
        Ok(p) => io_positions(argv, 2 + usize::from(p.normalize), true),
        Err(_) => Vec::new(),
    }
}

/// `AI.EMBED <embedder> INPUTS <n> <text>... OUTPUTS <m> <out>...`: the embedder, and the
/// outputs when the command parses (the inputs are texts, not keys).
pub fn embed(argv: &[&[u8]]) -> Vec<usize> {
    let mut keys = first_key(argv);
    if parse_embed(argv, true).is_ok() {
        keys.extend(io_positions(argv, 2, false));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_command_keys() {
        check(
            tokenize,
            &[
                (
                    "AI.TOKENIZE tok INPUTS 1 t OUTPUTS 3 a b c",
                    &[1, 4, 7, 8, 9],
                ),
                ("AI.TOKENIZE tok INPUTS 1 t OUTPUTS 3 a b", &[1]),
            ],
        );
        check(
            pool,
            &[
                (
                    "AI.POOL MEAN NORMALIZE INPUTS 2 h m OUTPUTS 1 v",
                    &[5, 6, 9],
                ),
                ("AI.POOL CLS INPUTS 1 h OUTPUTS 1 v", &[4, 7]),
                ("AI.POOL MAX INPUTS 1 h OUTPUTS 1 v", &[]),
            ],
        );
        check(
            embed,
            &[
                (
                    "AI.EMBED e INPUTS 2 x y OUTPUTS 2 v w TIMEOUT 9",
                    &[1, 8, 9],
                ),
                ("AI.EMBED e INPUTS 2 x y OUTPUTS 3 v w", &[1]),
            ],
        );
        let dag = |s: &str| super::dag(DagCommand::Execute, &argv(s));
        assert_eq!(
            dag("AI.DAGEXECUTE ROUTING r |> AI.EMBED e INPUTS 1 t OUTPUTS 1 v |> AI.VSIM set v COUNT 1 |> AI.VADD s2 v el |> AI.HSET h f v |> AI.POOL CLS INPUTS 1 v OUTPUTS 1 w"),
            vec![2, 5, 14, 20, 25]
        );
    }

    fn argv(s: &str) -> Vec<&[u8]> {
        s.split(' ').map(str::as_bytes).collect()
    }

    fn check(f: fn(&[&[u8]]) -> Vec<usize>, table: &[(&str, &[usize])]) {
        for (cmd, expected) in table {
            assert_eq!(f(&argv(cmd)), *expected, "{cmd}");
        }
    }

    #[test]
    fn modelexecute_keys() {
        check(
            modelexecute,
            &[
                (
                    "AI.MODELEXECUTE m INPUTS 2 a b OUTPUTS 1 c TIMEOUT 5",
                    &[1, 4, 5, 8],
                ),
                ("AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 2 b c", &[1, 4, 7, 8]),
                // Malformed: the model key alone.
                ("AI.MODELEXECUTE m INPUTS 5 a b", &[1]),
                ("AI.MODELEXECUTE m INPUTS x a OUTPUTS 1 c", &[1]),
                // TIMEOUT in the wrong place: 1000 is not an input count (the cluster case).
                (
                    "AI.MODELEXECUTE m{1} TIMEOUT 1000 INPUTS 2 a{1} b{1} OUTPUTS 1 c{1}",
                    &[1],
                ),
                ("AI.MODELEXECUTE m INPUTS 2 a b OUTPUTS 2 c", &[1]),
                ("AI.MODELEXECUTE m INPUTS 2 a b FOO 1 c", &[1]),
                ("AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 c TIMEOUT", &[1]),
                ("AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 c d", &[1]),
                ("AI.MODELEXECUTE m", &[1]),
                ("AI.MODELEXECUTE", &[]),
            ],
        );
    }

    #[test]
    fn modelrun_keys() {
        check(
            modelrun,
            &[
                ("AI.MODELRUN m INPUTS a b OUTPUTS c", &[1, 3, 4, 6]),
                ("AI.MODELRUN m TIMEOUT 9 INPUTS a OUTPUTS c", &[1, 5, 7]),
                // An output key spelled OUTPUTS (only the first one separates).
                ("AI.MODELRUN m INPUTS a OUTPUTS b OUTPUTS", &[1, 3, 5, 6]),
                // Malformed: the model key alone.
                ("AI.MODELRUN m INPUTS a b c d", &[1]),
                ("AI.MODELRUN m INPUTS OUTPUTS a b c", &[1]),
                ("AI.MODELRUN m INPUTS a b c OUTPUTS", &[1]),
                ("AI.MODELRUN m TIMEOUT x INPUTS a OUTPUTS c", &[1]),
                ("AI.MODELRUN m FOO 9 INPUTS a OUTPUTS c", &[1]),
                ("AI.MODELRUN", &[]),
            ],
        );
    }

    #[test]
    fn scriptexecute_keys() {
        check(
            scriptexecute,
            &[
                // The golden commands.
                ("AI.SCRIPTEXECUTE s1 bar INPUTS 2 ia ib OUTPUTS 1 so1", &[1, 5, 6, 9]),
                (
                    "AI.SCRIPTEXECUTE s1 bar KEYS 1 ia INPUTS 2 ia ib ARGS 1 z OUTPUTS 1 so2 TIMEOUT 1000",
                    &[1, 5, 8, 9, 15],
                ),
                ("AI.SCRIPTEXECUTE s1 scale INPUTS 1 ia ARGS 1 3 OUTPUTS 1 so3", &[1, 5, 11]),
                ("AI.SCRIPTEXECUTE s f keys 1 k", &[1, 5]),
                // Malformed: the script key alone.
                ("AI.SCRIPTEXECUTE s f args 2 KEYS 1 outputs 1 o", &[1]),
                ("AI.SCRIPTEXECUTE s f OUTPUTS 0 INPUTS -1 KEYS 1 k", &[1]),
                ("AI.SCRIPTEXECUTE", &[]),
                ("AI.SCRIPTEXECUTE s", &[1]),
                ("AI.SCRIPTEXECUTE s f", &[1]),
                ("AI.SCRIPTEXECUTE s f INPUTS", &[1]),
                ("AI.SCRIPTEXECUTE s f INPUTS 5 a b", &[1]),
                ("AI.SCRIPTEXECUTE s f INPUTS x a OUTPUTS 1 o", &[1]),
                ("AI.SCRIPTEXECUTE s f INPUTS 1 a TIMEOUT 5 OUTPUTS 1 o", &[1]),
                ("AI.SCRIPTEXECUTE s f INPUTS 1 a FOO OUTPUTS 1 o", &[1]),
                ("AI.SCRIPTEXECUTE s f KEYS 9223372036854775807 a", &[1]),
            ],
        );
    }

    #[test]
    fn scriptrun_keys() {
        check(
            scriptrun,
            &[
                (
                    "AI.SCRIPTRUN s_old bar INPUTS ia ib OUTPUTS s_old_out",
                    &[1, 4, 5, 7],
                ),
                (
                    "AI.SCRIPTRUN s f TIMEOUT 9 INPUTS a $ b c OUTPUTS o",
                    &[1, 6, 8, 9, 11],
                ),
                (
                    "AI.SCRIPTRUN s f INPUTS a TIMEOUT 9 b OUTPUTS o",
                    &[1, 4, 7, 9],
                ),
                ("AI.SCRIPTRUN s f OUTPUTS o", &[1, 4]),
                // Malformed: the script key alone.
                ("AI.SCRIPTRUN", &[]),
                ("AI.SCRIPTRUN s", &[1]),
                ("AI.SCRIPTRUN s f x y", &[1]),
                ("AI.SCRIPTRUN s f TIMEOUT", &[1]),
                ("AI.SCRIPTRUN s f INPUTS a TIMEOUT", &[1]),
            ],
        );
    }

    /// The DAG command `argv[0]` names.
    fn dag_named(argv: &[&[u8]]) -> Vec<usize> {
        let command = match argv[0].to_ascii_uppercase().as_slice() {
            b"AI.DAGEXECUTE" => DagCommand::Execute,
            b"AI.DAGEXECUTE_RO" => DagCommand::ExecuteRo,
            b"AI.DAGRUN" => DagCommand::Run,
            _ => DagCommand::RunRo,
        };
        dag(command, argv)
    }

    #[test]
    fn dag_keys() {
        check(
            dag_named,
            &[
                (
                    "AI.DAGEXECUTE LOAD 2 ia ib PERSIST 1 out |> AI.MODELEXECUTE m INPUTS 2 ia ib OUTPUTS 1 t |> AI.SCRIPTEXECUTE s bar INPUTS 1 t OUTPUTS 1 out",
                    &[3, 4, 7, 10, 20],
                ),
                ("AI.DAGEXECUTE ROUTING ia TIMEOUT 5 |> AI.TENSORSET x FLOAT 1 VALUES 1", &[2]),
                (
                    "ai.dagexecute_ro load 1 p routing {1} |> ai.modelexecute m INPUTS 1 a OUTPUTS 1 b",
                    &[3, 5, 8],
                ),
                (
                    "AI.DAGRUN |> AI.MODELRUN m INPUTS a OUTPUTS b |> AI.SCRIPTRUN s f INPUTS b OUTPUTS c",
                    &[3, 10],
                ),
                // Script ops: the script key only (their KEYS, tensor names and ARGS are not).
                (
                    "AI.DAGEXECUTE LOAD 2 ia ib PERSIST 1 dag_out |> AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 1 tmp |> AI.SCRIPTEXECUTE s1 bar INPUTS 2 tmp ia OUTPUTS 1 dag_out |> AI.TENSORGET dag_out VALUES",
                    &[3, 4, 7, 10, 20],
                ),
                ("AI.DAGEXECUTE ROUTING {1} |> ai.scriptexecute s1 bar KEYS 1 k{1} ARGS 1 x", &[2, 5]),
                ("AI.DAGRUN_RO LOAD 1 a |> AI.SCRIPTRUN s1 bar INPUTS a $ a OUTPUTS b", &[3, 6]),
                // Ops are not parsed here (they need the models): a malformed op keeps its key.
                ("AI.DAGEXECUTE ROUTING r |> AI.SCRIPTRUN |> AI.SCRIPTEXECUTE s", &[2, 7]),
                ("AI.DAGEXECUTE ROUTING r |> AI.MODELEXECUTE |> x", &[2]),
                ("AI.DAGEXECUTE ROUTING r |> AI.TENSORGET AI.MODELEXECUTE m", &[2]),
                ("AI.DAGRUN |> |> AI.MODELRUN m", &[4]),
                // Malformed options or split: no key.
                ("AI.DAGEXECUTE", &[]),
                ("AI.DAGEXECUTE LOAD", &[]),
                ("AI.DAGEXECUTE LOAD 5 a b |> AI.TENSORGET a", &[]),
                ("AI.DAGEXECUTE LOAD x a |> AI.TENSORGET a", &[]),
                ("AI.DAGEXECUTE LOAD -1 a ROUTING r |> AI.TENSORGET a", &[]),
                ("AI.DAGEXECUTE ROUTING r |> AI.SCRIPTEXECUTE", &[]),
                ("AI.DAGEXECUTE ROUTING r FOO |> AI.TENSORGET a", &[]),
                ("AI.DAGEXECUTE TIMEOUT 5 |> AI.TENSORGET a VALUES", &[]),
                ("AI.DAGEXECUTE_RO PERSIST 1 a |> AI.TENSORGET a VALUES", &[]),
                ("AI.DAGEXECUTE LOAD 1 a |> AI.TENSORGET a |>", &[]),
                ("AI.DAGEXECUTE LOAD 1 a LOAD 1 b |> AI.TENSORGET a", &[]),
            ],
        );
        assert_eq!(dag(DagCommand::Execute, &[]), Vec::<usize>::new());
    }
}

/// The cluster hash slot of a key (CRC16/XMODEM of its hash tag, or of the whole key, mod
/// 16384), as Redis Cluster computes it: the values one value names must share its slot.
pub fn hash_slot(key: &[u8]) -> u16 {
    const CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);
    let tagged = key.iter().position(|&b| b == b'{').and_then(|open| {
        let rest = &key[open + 1..];
        let close = rest.iter().position(|&b| b == b'}')?;
        (close > 0).then(|| &rest[..close])
    });
    CRC16.checksum(tagged.unwrap_or(key)) % 16384
}

#[cfg(test)]
mod slot_tests {
    #[test]
    fn slots_are_redis_clusters() {
        // Values from CLUSTER KEYSLOT.
        assert_eq!(super::hash_slot(b"foo"), 12182);
        assert_eq!(
            super::hash_slot(b"{user1000}.following"),
            super::hash_slot(b"user1000")
        );
        assert_eq!(
            super::hash_slot(b"foo{}{bar}"),
            super::hash_slot(b"foo{}{bar}")
        );
        assert_eq!(super::hash_slot(b"123456789"), 0x31C3);
    }
}
