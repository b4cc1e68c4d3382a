//! Tables of exact errors and parses for the model, AI.INFO and AI.CONFIG grammars, including
//! the golden transcripts' cases (tests/golden/transcripts.md).

mod admin;
mod run;
mod store;

/// Splits a command on spaces (`<blob>` stands for a binary argument).
pub(super) fn argv(cmd: &str) -> Vec<&[u8]> {
    cmd.split(' ')
        .map(|a| match a {
            "<blob>" => &b"\x00\n\xffmodel"[..],
            "<empty>" => &b""[..],
            a => a.as_bytes(),
        })
        .collect()
}
