//! A command as its argument list: what rebuilds a value on AOF replay, or replicates a write.
//!
//! Each emitter sits next to the parser of the command it writes (`tensor_cmd`, `model_cmd`,
//! `script_cmd`), and the property tests check `parse(emit(x)) == x`. The module sends every
//! `Command` through one place (`src/emit.rs`: replication and AOF rewrite alike). Large
//! arguments (tensor data, model chunks, sources) are borrowed, never copied.

use std::borrow::Cow;

/// A command name and its arguments (the key first, where the command has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command<'a> {
    pub name: &'static str,
    pub args: Vec<Cow<'a, [u8]>>,
}

impl<'a> Command<'a> {
    pub fn new(name: &'static str) -> Command<'a> {
        Command {
            name,
            args: Vec::new(),
        }
    }

    /// Appends a borrowed argument.
    pub fn arg(&mut self, bytes: &'a [u8]) -> &mut Self {
        self.args.push(Cow::Borrowed(bytes));
        self
    }

    /// Appends an argument made here (numbers, counts).
    pub fn owned(&mut self, bytes: Vec<u8>) -> &mut Self {
        self.args.push(Cow::Owned(bytes));
        self
    }

    /// Appends a number in decimal.
    pub fn number(&mut self, n: impl std::fmt::Display) -> &mut Self {
        self.owned(n.to_string().into_bytes())
    }

    /// The whole command line, name first, as a parser takes it.
    pub fn argv(&self) -> Vec<&[u8]> {
        std::iter::once(self.name.as_bytes())
            .chain(self.args.iter().map(|a| &**a))
            .collect()
    }
}
