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
/// token after INPUTS but the literal OUTPUTS.
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
        keys.extend((i + 1..argv.len()).filter(|&j| !argv[j].eq_ignore_ascii_case(b"OUTPUTS")));
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
}
