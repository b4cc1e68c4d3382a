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
