//! Tables of exact errors and parses for the script grammars, one row per SPEC row (§3.10-3.15)
//! and the golden transcripts' script cases (tests/golden/transcripts.md), plus the AOF rewrite.

mod run;
mod store;

/// The source of the golden script section.
pub(super) const SOURCE: &str = "def bar(tensors: List[Tensor], keys: List[str], args: List[str]):
    a = tensors[0]
    b = tensors[1]
    return a + b

def bar_variadic(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] * tensors[1]

def helper(x: Tensor):
    return x + 1

def scale(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] * int(args[0])

def two_out(tensors: List[Tensor], keys: List[str], args: List[str]):
    return [tensors[0] + tensors[1], tensors[0] - tensors[1]]
";

/// Splits a command on spaces (`<src>` stands for [`SOURCE`], `<empty>` for an empty argument).
pub(super) fn argv(cmd: &str) -> Vec<&[u8]> {
    cmd.split(' ')
        .map(|a| match a {
            "<src>" => SOURCE.as_bytes(),
            "<empty>" => &b""[..],
            a => a.as_bytes(),
        })
        .collect()
}
