//! What every backend enforces on the models and scripts it is given (docs/security.md): the
//! texts of its refusals and the pieces of configuration it shares with the host.
//!
//! A model or a script is code sent by a client. Each backend refuses, at creation (AI.MODELSTORE,
//! AI.SCRIPTSTORE, RDB/AOF load, RESTORE), any operator outside its policy (file, process,
//! network and unchecked-memory operators), naming it with [`forbidden_operator`]; and no single
//! allocation of a backend may exceed the allocation limit ([`allocation_refused`]).

use std::sync::atomic::{AtomicU64, Ordering};

/// What the refusal names: `model` or `script`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    Model,
    Script,
}

impl CodeKind {
    fn word(self) -> &'static str {
        match self {
            CodeKind::Model => "model",
            CodeKind::Script => "script",
        }
    }
}

/// The prefix of every refusal of an operator (the rest names the operator).
pub const FORBIDDEN_OPERATOR_PREFIX: &str = "uses a forbidden operator: ";

/// The reply of a model or script that uses an operator outside the backend's policy, e.g.
/// `ERR model uses a forbidden operator: aten::from_file`.
pub fn forbidden_operator(kind: CodeKind, operator: &str) -> String {
    format!("ERR {} {FORBIDDEN_OPERATOR_PREFIX}{operator}", kind.word())
}

/// The prefix of the error of an allocation over the limit (the host and tests look for it).
pub const ALLOCATION_REFUSED_PREFIX: &str = "ERR backend allocation of ";

/// The error of a run (or model creation) whose backend asked for one block larger than the
/// allocation limit (BACKEND_ALLOCATION_LIMIT, or maxmemory when lower).
pub fn allocation_refused(requested: u64, limit: u64) -> String {
    format!(
        "{ALLOCATION_REFUSED_PREFIX}{requested} bytes exceeds the limit of {limit} bytes \
         (BACKEND_ALLOCATION_LIMIT)"
    )
}

/// The allow list of the ALLOW_OPERATORS module argument: operator names separated by commas
/// (TorchScript `ns::name`, TF op types, ONNX `domain:op_type`), blanks ignored.
pub fn parse_allow_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The allocation limit of one backend library, shared by all its threads. Set at load and
/// whenever the host's effective limit changes (maxmemory is followed at run time).
#[derive(Debug)]
pub struct AllocationLimit(AtomicU64);

impl AllocationLimit {
    /// No limit until set (u64::MAX).
    pub const fn unlimited() -> AllocationLimit {
        AllocationLimit(AtomicU64::new(u64::MAX))
    }

    /// Bytes one allocation may take at most.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Sets the limit; 0 means none.
    pub fn set(&self, bytes: u64) {
        let bytes = if bytes == 0 { u64::MAX } else { bytes };
        self.0.store(bytes, Ordering::Relaxed);
    }

    /// `Err` with the client's error when `requested` bytes are over the limit.
    pub fn check(&self, requested: u64) -> Result<(), String> {
        let limit = self.get();
        if requested > limit {
            Err(allocation_refused(requested, limit))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        assert_eq!(
            forbidden_operator(CodeKind::Model, "aten::from_file"),
            "ERR model uses a forbidden operator: aten::from_file"
        );
        assert_eq!(
            forbidden_operator(CodeKind::Script, "ReadFile"),
            "ERR script uses a forbidden operator: ReadFile"
        );
        assert_eq!(
            allocation_refused(10, 5),
            "ERR backend allocation of 10 bytes exceeds the limit of 5 bytes \
             (BACKEND_ALLOCATION_LIMIT)"
        );
        assert!(allocation_refused(10, 5).starts_with(ALLOCATION_REFUSED_PREFIX));
    }

    #[test]
    fn allow_lists() {
        assert_eq!(
            parse_allow_list(" aten::save, ReadFile ,,com.x:Op"),
            vec!["aten::save", "ReadFile", "com.x:Op"]
        );
        assert!(parse_allow_list("").is_empty());
    }

    #[test]
    fn limits() {
        let limit = AllocationLimit::unlimited();
        assert!(limit.check(u64::MAX).is_ok());
        limit.set(100);
        assert!(limit.check(100).is_ok());
        assert_eq!(limit.check(101), Err(allocation_refused(101, 100)));
        limit.set(0);
        assert_eq!(limit.get(), u64::MAX);
    }
}
