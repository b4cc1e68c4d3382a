//! Which Redis commands a script may run through `redis.execute` (docs/security.md).
//!
//! A script may only touch the keys it declared in KEYS (the module checks every key a command
//! reports against them, and the command against the caller's ACL). That check is only as good
//! as the key list Redis can report, so commands whose reach goes beyond their reported keys
//! are refused for every user:
//! - commands without keys (KEYS is a pattern, SCAN and RANDOMKEY walk the keyspace, FLUSHALL
//!   and DBSIZE take all of it, SELECT and SWAPDB change databases, PUBLISH reaches other
//!   clients), except PING, ECHO and TIME;
//! - administrative, dangerous and scripting commands (@admin, @dangerous, @scripting: CONFIG,
//!   DEBUG, MODULE, MIGRATE, RESTORE, EVAL, FCALL, ...), and connection commands;
//! - SORT / SORT_RO with a GET pattern or a BY pattern (they read the keys the pattern names),
//!   although plain sorts are allowed;
//! - MOVE, and COPY with a DB argument (they reach another database).
//!
//! Commands with movable keys are allowed: Redis reports their keys (key specs or their own
//! key-finding function), and the module checks each.

use redisai_core::Error;

/// What COMMAND INFO says about a command (or a subcommand), as far as the check needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandInfo {
    /// ACL categories, e.g. `@dangerous`.
    pub categories: Vec<String>,
    /// Whether the command has keys (a first key or key specs).
    pub has_keys: bool,
}

/// Keyless commands a script may run.
const KEYLESS_ALLOWED: &[&str] = &["ping", "echo", "time"];

/// Categories a script may not run.
const REFUSED_CATEGORIES: &[&str] = &["@admin", "@dangerous", "@scripting", "@connection"];

fn refused(command: &str, why: &'static str) -> Result<(), Error> {
    Err(Error::ScriptCommandRefused {
        command: command.to_string(),
        why,
    })
}

fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// Whether a script may run `argv` (the command name first), given what COMMAND INFO says about
/// it (`None`: the server does not know the command, which the call itself then reports).
pub fn check(argv: &[&[u8]], info: Option<&CommandInfo>) -> Result<(), Error> {
    let Some(&name) = argv.first() else {
        return Ok(());
    };
    let command = String::from_utf8_lossy(name).to_ascii_lowercase();
    let Some(info) = info else {
        return Ok(());
    };
    let sort = command == "sort" || command == "sort_ro";
    if sort {
        // SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
        // [STORE destination]: any GET, or a BY pattern with `*`, reads other keys.
        let rest = argv.get(2..).unwrap_or_default();
        let patterns = rest.iter().enumerate().any(|(i, arg)| {
            is(arg, "get") || (is(arg, "by") && rest.get(i + 1).is_some_and(|p| p.contains(&b'*')))
        });
        if patterns {
            return refused(
                &command,
                "the keys BY and GET patterns read cannot be checked against KEYS",
            );
        }
        return Ok(());
    }
    if info
        .categories
        .iter()
        .any(|c| REFUSED_CATEGORIES.iter().any(|r| c.eq_ignore_ascii_case(r)))
    {
        return refused(
            &command,
            "administrative, dangerous and scripting commands are not allowed",
        );
    }
    if !info.has_keys && !KEYLESS_ALLOWED.contains(&command.as_str()) {
        return refused(
            &command,
            "the keys it reaches cannot be checked against KEYS",
        );
    }
    let other_db =
        command == "move" || (command == "copy" && argv.iter().skip(3).any(|a| is(a, "db")));
    if other_db {
        return refused(&command, "it reaches another database");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(categories: &[&str], has_keys: bool) -> CommandInfo {
        CommandInfo {
            categories: categories.iter().map(|c| c.to_string()).collect(),
            has_keys,
        }
    }

    fn argv(line: &str) -> Vec<&[u8]> {
        line.split(' ').map(str::as_bytes).collect()
    }

    #[test]
    fn key_commands_pass() {
        let get = info(&["@read", "@string", "@fast"], true);
        assert_eq!(check(&argv("GET k"), Some(&get)), Ok(()));
        assert_eq!(check(&argv("PING"), Some(&info(&["@fast"], false))), Ok(()));
        // unknown commands are left to the server
        assert_eq!(check(&argv("NOSUCH x"), None), Ok(()));
        let sort = info(&["@write", "@dangerous"], true);
        assert_eq!(check(&argv("SORT k LIMIT 0 10 ALPHA"), Some(&sort)), Ok(()));
        assert_eq!(check(&argv("SORT k BY nosort"), Some(&sort)), Ok(()));
        let copy = info(&["@keyspace", "@write"], true);
        assert_eq!(check(&argv("COPY a b REPLACE"), Some(&copy)), Ok(()));
    }

    #[test]
    fn unverifiable_commands_are_refused() {
        let cases = [
            ("KEYS *", info(&["@keyspace", "@read", "@dangerous"], false)),
            ("SCAN 0", info(&["@keyspace", "@read"], false)),
            ("RANDOMKEY", info(&["@keyspace", "@read"], false)),
            ("DBSIZE", info(&["@keyspace", "@read"], false)),
            (
                "FLUSHALL",
                info(&["@keyspace", "@write", "@dangerous"], false),
            ),
            ("SELECT 1", info(&["@connection"], false)),
            ("PUBLISH c m", info(&["@pubsub"], false)),
            ("AI.CONFIG BACKENDSPATH /tmp", info(&[], false)),
            (
                "CONFIG SET dir /tmp",
                info(&["@admin", "@dangerous"], false),
            ),
            ("EVAL return 1 0", info(&["@scripting"], true)),
            ("RESTORE k 0 payload", info(&["@dangerous"], true)),
            ("SORT k BY w_* GET #", info(&["@dangerous"], true)),
            ("SORT_RO k GET h_*->f", info(&["@dangerous"], true)),
            ("SORT k BY weight_*", info(&["@dangerous"], true)),
            ("MOVE k 1", info(&["@keyspace"], true)),
            ("COPY a b DB 1", info(&["@keyspace"], true)),
        ];
        for (line, info) in cases {
            let err = check(&argv(line), Some(&info)).unwrap_err();
            assert!(matches!(err, Error::ScriptCommandRefused { .. }), "{line}");
            let name = line.split(' ').next().unwrap().to_ascii_lowercase();
            assert!(err
                .to_string()
                .starts_with(&format!("ERR scripts may not call '{name}': ")));
        }
    }
}

/// `argv` with the options that make the vector-set commands reply from a thread of their own
/// taken out (Redis 8's VSIM runs threaded unless given NOTHREAD, and VADD with CAS), because a
/// command called from a worker cannot block: Redis 8.2 asserts, and the server dies, when a
/// called command blocks its caller. VSIM gets NOTHREAD; VADD loses CAS (an optimisation of
/// concurrent inserts, same result). Other commands are returned as they are.
pub fn without_module_threads<'a>(argv: &[&'a [u8]]) -> Vec<&'a [u8]> {
    let Some(&name) = argv.first() else {
        return argv.to_vec();
    };
    if is(name, "vsim") {
        let mut out = argv.to_vec();
        if !argv.iter().skip(2).any(|a| is(a, "nothread")) {
            out.push(b"NOTHREAD");
        }
        return out;
    }
    if !is(name, "vadd") {
        return argv.to_vec();
    }
    // VADD key [REDUCE dim] (FP32 blob | VALUES n v...) element [CAS] [NOQUANT|Q8|BIN]
    // [EF n] [SETATTR json] [M n]: the options start after the element.
    let mut pos = 2;
    if argv.get(pos).is_some_and(|a| is(a, "reduce")) {
        pos += 2;
    }
    match argv.get(pos) {
        Some(a) if is(a, "fp32") => pos += 2,
        Some(a) if is(a, "values") => {
            let n = argv
                .get(pos + 1)
                .and_then(|n| std::str::from_utf8(n).ok()?.parse::<usize>().ok());
            let Some(n) = n else {
                return argv.to_vec();
            };
            pos = pos.saturating_add(2).saturating_add(n);
        }
        _ => return argv.to_vec(),
    }
    let options = pos.saturating_add(1).min(argv.len());
    let mut out = argv[..options].to_vec();
    let mut i = options;
    while i < argv.len() {
        let a = argv[i];
        if is(a, "cas") {
            i += 1;
            continue;
        }
        out.push(a);
        // Options with a value: the value is never an option.
        if ["ef", "setattr", "m"].iter().any(|o| is(a, o)) {
            if let Some(&v) = argv.get(i + 1) {
                out.push(v);
            }
            i += 1;
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod thread_tests {
    use super::without_module_threads;

    fn run(line: &str) -> String {
        let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let out: Vec<String> = without_module_threads(&argv)
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        out.join(" ")
    }

    #[test]
    fn vector_commands_stay_on_the_callers_thread() {
        assert_eq!(
            run("VSIM s FP32 b COUNT 3"),
            "VSIM s FP32 b COUNT 3 NOTHREAD"
        );
        assert_eq!(run("vsim s ELE x nothread"), "vsim s ELE x nothread");
        assert_eq!(run("VADD s FP32 b CAS CAS Q8"), "VADD s FP32 b CAS Q8");
        assert_eq!(
            run("VADD s REDUCE 2 VALUES 2 1 2 e CAS SETATTR CAS"),
            "VADD s REDUCE 2 VALUES 2 1 2 e SETATTR CAS"
        );
        assert_eq!(run("VADD s VALUES x"), "VADD s VALUES x");
        assert_eq!(run("GET CAS"), "GET CAS");
    }
}
