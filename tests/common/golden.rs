//! Reading the golden transcripts (tests/golden/transcripts.md): `> command` / reply pairs.

use std::path::PathBuf;

use super::{golden_dir, parse_py_bytes};

/// One `> command` / reply pair.
pub struct Pair {
    /// Line of the command in transcripts.md.
    pub line: usize,
    /// The section heading it belongs to.
    pub section: String,
    /// Sent from a second connection (`> (second connection) ...`).
    pub second_connection: bool,
    pub command: Vec<Vec<u8>>,
    pub reply: String,
}

impl Pair {
    /// The command as text (lossy), for messages.
    pub fn text(&self) -> String {
        self.command
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether any argument equals `word`, ignoring case.
    pub fn has(&self, word: &str) -> bool {
        self.command
            .iter()
            .any(|a| a.eq_ignore_ascii_case(word.as_bytes()))
    }
}

/// The reference models vendored with the golden data.
pub fn models_dir() -> PathBuf {
    golden_dir().join("models")
}

/// Splits a transcript command line into arguments; `b'..'` tokens are Python bytes literals and
/// `<file:NAME>` tokens are the bytes of a reference model.
pub fn tokenize(line: &str) -> Vec<Vec<u8>> {
    let mut args = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' {
            i += 1;
            continue;
        }
        let start = i;
        if chars[i] == 'b' && matches!(chars.get(i + 1), Some('\'') | Some('"')) {
            let quote = chars[i + 1];
            i += 2;
            while chars[i] != quote {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            let literal: String = chars[start..i].iter().collect();
            args.push(parse_py_bytes(&literal));
        } else {
            while i < chars.len() && chars[i] != ' ' {
                i += 1;
            }
            let token: String = chars[start..i].iter().collect();
            match token
                .strip_prefix("<file:")
                .and_then(|t| t.strip_suffix('>'))
            {
                // Files not vendored (e.g. the script source) stay as the placeholder text.
                Some(name) => match std::fs::read(models_dir().join(name)) {
                    Ok(bytes) => args.push(bytes),
                    Err(_) => args.push(token.into_bytes()),
                },
                None => args.push(token.into_bytes()),
            }
        }
    }
    args
}

/// Every pair of the transcript, in order.
pub fn all_pairs() -> Vec<Pair> {
    let text =
        std::fs::read_to_string(golden_dir().join("transcripts.md")).expect("transcripts.md");
    let mut pairs = Vec::new();
    let mut section = String::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if let Some(title) = line.strip_prefix("## ") {
            section = title.to_string();
        }
        if let Some(command) = line.strip_prefix("> ") {
            let (_, reply) = lines.next().expect("a reply follows every command");
            let (second_connection, command) = match command.strip_prefix("(second connection) ") {
                Some(rest) => (true, rest),
                None => (false, command),
            };
            pairs.push(Pair {
                line: n + 1,
                section: section.clone(),
                second_connection,
                command: tokenize(command),
                reply: reply.to_string(),
            });
        }
    }
    pairs
}

/// The reply this module must give for a recorded one: arity errors name the command in upper
/// case (SPEC §1.3), everything else is byte for byte.
pub fn expected_reply(reply: &str) -> String {
    const ARITY: &str = "-ERR wrong number of arguments for '";
    match reply
        .strip_prefix(ARITY)
        .and_then(|rest| rest.split_once('\''))
    {
        Some((name, tail)) => format!("{ARITY}{}'{tail}", name.to_uppercase()),
        None => reply.to_string(),
    }
}
