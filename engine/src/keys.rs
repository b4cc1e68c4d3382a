//! Key positions of the commands registered with `getkeys-api` (SPEC §3.20), so Redis Cluster
//! routes them, ACLs check their keys and `COMMAND GETKEYS` answers. Lenient: a malformed command
//! reports the keys that can be located (the command itself then fails with its own error).

use redisai_core::numparse::parse_i64;

fn count_at(argv: &[&[u8]], i: usize) -> usize {
    argv.get(i)
        .and_then(|a| parse_i64(a))
        .filter(|&n| n > 0)
        .map(|n| n as usize)
        .unwrap_or(0)
}

/// `AI.MODELEXECUTE <key> INPUTS <n> <in>... OUTPUTS <m> <out>...`: the model key, the inputs
/// and the outputs.
pub fn modelexecute(argv: &[&[u8]]) -> Vec<usize> {
    let mut keys = Vec::new();
    if argv.len() > 1 {
        keys.push(1);
    }
    let n = count_at(argv, 3);
    let inputs_end = (4 + n).min(argv.len());
    keys.extend(4..inputs_end);
    if argv
        .get(inputs_end)
        .is_some_and(|a| a.eq_ignore_ascii_case(b"OUTPUTS"))
    {
        let m = count_at(argv, inputs_end + 1);
        let start = inputs_end + 2;
        keys.extend(start..(start + m).min(argv.len()));
    }
    keys
}

/// `AI.MODELRUN <key> [TIMEOUT t] INPUTS <in>... OUTPUTS <out>...`: the model key and every
/// token after INPUTS but the first literal OUTPUTS (the separator).
pub fn modelrun(argv: &[&[u8]]) -> Vec<usize> {
    let mut keys = Vec::new();
    if argv.len() > 1 {
        keys.push(1);
    }
    let mut i = 2;
    if argv
        .get(i)
        .is_some_and(|a| a.eq_ignore_ascii_case(b"TIMEOUT"))
    {
        i += 2;
    }
    if argv
        .get(i)
        .is_some_and(|a| a.eq_ignore_ascii_case(b"INPUTS"))
    {
        // The first OUTPUTS separates inputs from outputs; any later one is an output key.
        let separator = (i + 1..argv.len()).find(|&j| argv[j].eq_ignore_ascii_case(b"OUTPUTS"));
        keys.extend((i + 1..argv.len()).filter(|&j| Some(j) != separator));
    }
    keys
}

/// `AI.SCRIPTEXECUTE <key> <fn> [KEYS <n> <key>...] [INPUTS <n> <in>...] [ARGS <n> <arg>...]
/// [OUTPUTS <n> <out>...] [TIMEOUT <ms>]`: the script key and the members of the KEYS, INPUTS
/// and OUTPUTS lists (ARGS are not keys). The scopes are walked as the parser walks them; the
/// walk stops at TIMEOUT, at an unknown token or at a count that does not parse, and a list
/// longer than what is left is cut at the end of `argv`.
pub fn scriptexecute(argv: &[&[u8]]) -> Vec<usize> {
    let mut keys = Vec::new();
    if argv.len() > 1 {
        keys.push(1);
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
/// script key and every token after INPUTS but the `OUTPUTS` and `$` separators, walked as the
/// parser walks them (a `TIMEOUT <ms>` may come anywhere; tokens before INPUTS/OUTPUTS are not
/// keys).
pub fn scriptrun(argv: &[&[u8]]) -> Vec<usize> {
    let mut keys = Vec::new();
    if argv.len() > 1 {
        keys.push(1);
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

/// `AI.DAGEXECUTE[_RO]` / `AI.DAGRUN[_RO]`: the LOAD and PERSIST lists, the ROUTING value, and
/// the model or script key of every AI.MODELEXECUTE / AI.SCRIPTEXECUTE / AI.MODELRUN /
/// AI.SCRIPTRUN op. The options are walked as the parser walks them (a list takes its `<n>`
/// tokens, `|>` included); DAG-local tensor names are not keys.
pub fn dag(argv: &[&[u8]]) -> Vec<usize> {
    let is_separator = |a: &[u8]| a == b"|>";
    let mut keys = Vec::new();
    let mut pos = 1;
    while pos < argv.len() && !is_separator(argv[pos]) {
        let token = argv[pos];
        if token.eq_ignore_ascii_case(b"LOAD") || token.eq_ignore_ascii_case(b"PERSIST") {
            let start = pos + 2;
            let end = start
                .saturating_add(count_at(argv, pos + 1))
                .min(argv.len());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<&[u8]> {
        s.split(' ').map(str::as_bytes).collect()
    }

    #[test]
    fn modelexecute_keys() {
        let a = argv("AI.MODELEXECUTE m INPUTS 2 a b OUTPUTS 1 c TIMEOUT 5");
        assert_eq!(modelexecute(&a), vec![1, 4, 5, 8]);
        let a = argv("AI.MODELEXECUTE m INPUTS 5 a b");
        assert_eq!(modelexecute(&a), vec![1, 4, 5]);
        let a = argv("AI.MODELEXECUTE m INPUTS x a OUTPUTS 1 c");
        assert_eq!(modelexecute(&a), vec![1]);
    }

    #[test]
    fn modelrun_keys() {
        let a = argv("AI.MODELRUN m INPUTS a b OUTPUTS c");
        assert_eq!(modelrun(&a), vec![1, 3, 4, 6]);
        let a = argv("AI.MODELRUN m TIMEOUT 9 INPUTS a OUTPUTS c");
        assert_eq!(modelrun(&a), vec![1, 5, 7]);
        assert_eq!(modelrun(&argv("AI.MODELRUN")), Vec::<usize>::new());
    }

    #[test]
    fn scriptexecute_keys() {
        let table: &[(&str, &[usize])] = &[
            // The golden commands.
            ("AI.SCRIPTEXECUTE s1 bar INPUTS 2 ia ib OUTPUTS 1 so1", &[1, 5, 6, 9]),
            (
                "AI.SCRIPTEXECUTE s1 bar KEYS 1 ia INPUTS 2 ia ib ARGS 1 z OUTPUTS 1 so2 TIMEOUT 1000",
                &[1, 5, 8, 9, 15],
            ),
            ("AI.SCRIPTEXECUTE s1 scale INPUTS 1 ia ARGS 1 3 OUTPUTS 1 so3", &[1, 5, 11]),
            // Any order, any case; ARGS are skipped even when they look like keywords.
            ("AI.SCRIPTEXECUTE s f args 2 KEYS 1 outputs 1 o", &[1, 9]),
            ("AI.SCRIPTEXECUTE s f OUTPUTS 0 INPUTS -1 KEYS 1 k", &[1, 9]),
            // Lenient on malformed commands: stops at TIMEOUT, unknown tokens, bad counts.
            ("AI.SCRIPTEXECUTE", &[]),
            ("AI.SCRIPTEXECUTE s", &[1]),
            ("AI.SCRIPTEXECUTE s f", &[1]),
            ("AI.SCRIPTEXECUTE s f INPUTS", &[1]),
            ("AI.SCRIPTEXECUTE s f INPUTS 5 a b", &[1, 5, 6]),
            ("AI.SCRIPTEXECUTE s f INPUTS x a OUTPUTS 1 o", &[1]),
            ("AI.SCRIPTEXECUTE s f INPUTS 1 a TIMEOUT 5 OUTPUTS 1 o", &[1, 5]),
            ("AI.SCRIPTEXECUTE s f INPUTS 1 a FOO OUTPUTS 1 o", &[1, 5]),
            ("AI.SCRIPTEXECUTE s f KEYS 9223372036854775807 a", &[1, 5]),
        ];
        for (cmd, expected) in table {
            assert_eq!(scriptexecute(&argv(cmd)), *expected, "{cmd}");
        }
    }

    #[test]
    fn scriptrun_keys() {
        let table: &[(&str, &[usize])] = &[
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
            // Lenient on malformed commands.
            ("AI.SCRIPTRUN", &[]),
            ("AI.SCRIPTRUN s", &[1]),
            ("AI.SCRIPTRUN s f x y", &[1]),
            ("AI.SCRIPTRUN s f TIMEOUT", &[1]),
            ("AI.SCRIPTRUN s f INPUTS a TIMEOUT", &[1, 4]),
        ];
        for (cmd, expected) in table {
            assert_eq!(scriptrun(&argv(cmd)), *expected, "{cmd}");
        }
    }

    #[test]
    fn dag_keys() {
        let table: &[(&str, &[usize])] = &[
            (
                "AI.DAGEXECUTE LOAD 2 ia ib PERSIST 1 out |> AI.MODELEXECUTE m INPUTS 2 ia ib OUTPUTS 1 t |> AI.SCRIPTEXECUTE s bar INPUTS 1 t OUTPUTS 1 out",
                &[3, 4, 7, 10, 20],
            ),
            (
                "AI.DAGEXECUTE ROUTING ia TIMEOUT 5 |> AI.TENSORSET x FLOAT 1 VALUES 1",
                &[2],
            ),
            (
                "ai.dagexecute_ro persist 1 p routing {1} |> ai.modelexecute m INPUTS 1 a OUTPUTS 1 b",
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
            (
                "AI.DAGEXECUTE ROUTING {1} |> ai.scriptexecute s1 bar KEYS 1 k{1} ARGS 1 x",
                &[2, 5],
            ),
            (
                "AI.DAGRUN_RO LOAD 1 a |> AI.SCRIPTRUN s1 bar INPUTS a $ a OUTPUTS b",
                &[3, 6],
            ),
            ("AI.DAGEXECUTE ROUTING r |> AI.SCRIPTEXECUTE", &[2]),
            ("AI.DAGEXECUTE ROUTING r |> AI.SCRIPTRUN |> AI.SCRIPTEXECUTE s", &[2, 7]),
            // Lenient on malformed commands.
            ("AI.DAGEXECUTE", &[]),
            ("AI.DAGEXECUTE LOAD", &[]),
            ("AI.DAGEXECUTE LOAD 5 a b", &[3, 4]),
            ("AI.DAGEXECUTE LOAD x a |> AI.TENSORGET a", &[]),
            ("AI.DAGEXECUTE LOAD -1 a ROUTING r", &[5]),
            ("AI.DAGEXECUTE ROUTING", &[]),
            ("AI.DAGEXECUTE TIMEOUT", &[]),
            ("AI.DAGEXECUTE LOAD 2 a |> AI.TENSORGET a", &[3, 4]),
            ("AI.DAGEXECUTE ROUTING r |> AI.MODELEXECUTE", &[2]),
            ("AI.DAGEXECUTE ROUTING r |> AI.MODELEXECUTE |> x", &[2]),
            ("AI.DAGEXECUTE ROUTING r |> AI.TENSORGET AI.MODELEXECUTE m", &[2]),
            ("AI.DAGEXECUTE |> |> AI.MODELEXECUTE m", &[4]),
        ];
        for (cmd, expected) in table {
            assert_eq!(dag(&argv(cmd)), *expected, "{cmd}");
        }
        assert_eq!(dag(&[]), Vec::<usize>::new());
    }
}
