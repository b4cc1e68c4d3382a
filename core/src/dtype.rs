//! Tensor element types and their DLPack codes.

use crate::error::{Error, Result};

/// DLPack type codes used by RedisAI (its DLPack fork adds BOOL = 6 and STRING = 7).
pub mod code {
    pub const INT: u8 = 0;
    pub const UINT: u8 = 1;
    pub const FLOAT: u8 = 2;
    pub const BOOL: u8 = 6;
    pub const STRING: u8 = 7;
}

/// The ten element types of RedisAI tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    Float,
    Double,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint8,
    Uint16,
    Bool,
    String,
}

impl DType {
    /// Every dtype, in the order RedisAI documents them.
    pub const ALL: [DType; 10] = [
        DType::Float,
        DType::Double,
        DType::Int8,
        DType::Int16,
        DType::Int32,
        DType::Int64,
        DType::Uint8,
        DType::Uint16,
        DType::Bool,
        DType::String,
    ];

    /// Parses a dtype name as RedisAI does: `FLOAT`, `DOUBLE`, `BOOL` and `STRING` case-insensitively,
    /// `INT`/`UINT` prefixes case-insensitively with an exact bit-width suffix.
    pub fn parse(name: &[u8]) -> Result<DType> {
        // Upper-cased on the stack: no name is longer than 6 bytes.
        let mut upper = [0u8; 6];
        let upper = match upper.get_mut(..name.len()) {
            Some(upper) => {
                upper.copy_from_slice(name);
                upper.make_ascii_uppercase();
                &*upper
            }
            None => return Err(Error::InvalidDataType),
        };
        let dtype = match upper {
            b"FLOAT" => DType::Float,
            b"DOUBLE" => DType::Double,
            b"INT8" => DType::Int8,
            b"INT16" => DType::Int16,
            b"INT32" => DType::Int32,
            b"INT64" => DType::Int64,
            b"UINT8" => DType::Uint8,
            b"UINT16" => DType::Uint16,
            b"BOOL" => DType::Bool,
            b"STRING" => DType::String,
            _ => return Err(Error::InvalidDataType),
        };
        Ok(dtype)
    }

    /// The name RedisAI replies with (META `dtype` field, AOF rewrite).
    pub fn name(self) -> &'static str {
        match self {
            DType::Float => "FLOAT",
            DType::Double => "DOUBLE",
            DType::Int8 => "INT8",
            DType::Int16 => "INT16",
            DType::Int32 => "INT32",
            DType::Int64 => "INT64",
            DType::Uint8 => "UINT8",
            DType::Uint16 => "UINT16",
            DType::Bool => "BOOL",
            DType::String => "STRING",
        }
    }

    /// DLPack type code.
    pub fn code(self) -> u8 {
        match self {
            DType::Float | DType::Double => code::FLOAT,
            DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => code::INT,
            DType::Uint8 | DType::Uint16 => code::UINT,
            DType::Bool => code::BOOL,
            DType::String => code::STRING,
        }
    }

    /// DLPack bit width (STRING is nominally 8).
    pub fn bits(self) -> u8 {
        match self {
            DType::Int8 | DType::Uint8 | DType::Bool | DType::String => 8,
            DType::Int16 | DType::Uint16 => 16,
            DType::Float | DType::Int32 => 32,
            DType::Double | DType::Int64 => 64,
        }
    }

    /// Bytes per element; STRING elements are variable and report 1.
    pub fn size(self) -> usize {
        usize::from(self.bits() / 8)
    }

    /// Maps a DLPack (code, bits) pair back to a dtype.
    pub fn from_code_bits(code: u64, bits: u64) -> Option<DType> {
        DType::ALL
            .into_iter()
            .find(|d| u64::from(d.code()) == code && u64::from(d.bits()) == bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_case_insensitively() {
        for d in DType::ALL {
            assert_eq!(DType::parse(d.name().as_bytes()), Ok(d));
            assert_eq!(DType::parse(d.name().to_lowercase().as_bytes()), Ok(d));
            assert_eq!(
                DType::from_code_bits(d.code().into(), d.bits().into()),
                Some(d)
            );
        }
    }

    #[test]
    fn unknown_names_are_rejected() {
        for bad in [
            "FLOAT16", "COMPLEX", "INT", "UINT32", "", "INT8 ", "FLOAT\0",
        ] {
            assert_eq!(
                DType::parse(bad.as_bytes()),
                Err(Error::InvalidDataType),
                "{bad:?}"
            );
        }
    }
}
